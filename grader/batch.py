"""Grade a folder of submitted chapter notebooks with nbgrader.

Accepted layouts (the student id is the folder name)::

    SUBMISSIONS/<student>/<chapter>.ipynb
    SUBMISSIONS/<student>/<chapter>/<chapter>.ipynb      (nbgrader's own layout)

A notebook with another name is matched to its chapter by its graded cells.
Every problem with one submission (not a notebook, broken JSON, wrong chapter,
graded cells missing, a crash while grading) becomes a zero with a reason for
that student; the batch always goes on.

Outputs, in ``--out`` (default ``.workspace/grading``): ``grades.csv`` (nbgrader's
export), ``exercises.csv`` (one row per student, chapter and graded cell, with the
reason for any zero), ``feedback/<student>/<chapter>/<chapter>.html``, and the
nbgrader course directory with its gradebook.
"""
import argparse
import csv
import dataclasses
import json
import logging
import pathlib
import re
import shutil
import sys
import warnings

import nbformat

REPO = pathlib.Path(__file__).resolve().parent.parent
SOLUTIONS = REPO / "solutions"
NBGRADER_CONFIG = REPO / "nbgrader_config.py"
STUDENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")


@dataclasses.dataclass
class Outcome:
    student: str
    chapter: str
    score: float = 0.0
    max_score: float = 0.0
    status: str = "graded"  # graded | rejected | error
    reason: str = ""
    cells: dict = dataclasses.field(default_factory=dict)  # grade_id -> (score, max_score)


def chapters() -> list[str]:
    return sorted(p.parent.name for p in SOLUTIONS.glob("[0-9][0-9]_*/*.ipynb") if p.stem == p.parent.name)


def graded_ids(nb) -> set[str]:
    return {c.metadata["nbgrader"]["grade_id"] for c in nb.cells
            if c.get("metadata", {}).get("nbgrader", {}).get("grade")}


def read_notebook(path: pathlib.Path):
    """The notebook at ``path``, or raise ValueError with a reason a student can understand."""
    if path.suffix != ".ipynb":
        raise ValueError(f"{path.name} is not a notebook (.ipynb)")
    if path.stat().st_size == 0:
        raise ValueError(f"{path.name} is empty")
    try:
        nb = nbformat.read(str(path), as_version=4)
    except Exception as exc:  # nbformat raises several types for bad JSON
        raise ValueError(f"{path.name} is not valid notebook JSON ({type(exc).__name__}: {str(exc)[:200]})") from None
    try:
        nbformat.validate(nb)
    except nbformat.ValidationError as exc:
        raise ValueError(f"{path.name} is not a valid notebook ({str(exc).splitlines()[0][:200]})") from None
    return nb


def find_submissions(folder: pathlib.Path, wanted: list[str]):
    """Yield (student, chapter or None, path or None, reason) for every student folder."""
    for entry in sorted(folder.iterdir()):
        if not entry.is_dir():
            yield None, None, entry, f"ignored {entry.name}: put each student's notebook in a folder named after the student"
            continue
        student = entry.name
        if not STUDENT_ID.match(student):
            yield None, None, entry, f"ignored folder {student!r}: a student id may use letters, digits, '_', '.', '@', '-'"
            continue
        files = sorted(p for p in entry.rglob("*") if p.is_file() and ".ipynb_checkpoints" not in p.parts)
        if not files:
            yield student, None, None, "no notebook submitted"
        for path in files:
            stem = path.stem
            if path.suffix == ".ipynb" and stem in wanted:
                yield student, stem, path, ""
            else:
                yield student, None, path, ""


def identify_chapter(nb, known: dict[str, set[str]]) -> str | None:
    """The chapter whose graded cells this notebook shares most, or None."""
    ids = graded_ids(nb) | {c.get("metadata", {}).get("nbgrader", {}).get("grade_id") for c in nb.cells}
    best = max(known, key=lambda ch: len(known[ch] & ids), default=None)
    return best if best is not None and known[best] & ids else None


def nbgrader_config(workspace: pathlib.Path):
    """The course's nbgrader configuration, pointed at a private course directory in ``workspace``."""
    from traitlets.config.loader import PyFileConfigLoader

    cfg = PyFileConfigLoader(NBGRADER_CONFIG.name, path=str(NBGRADER_CONFIG.parent)).load_config()
    cfg.CourseDirectory.root = str(workspace)
    cfg.CourseDirectory.source_directory = "source"
    cfg.CourseDirectory.release_directory = "release"
    cfg.CourseDirectory.submitted_directory = "submitted"
    cfg.CourseDirectory.autograded_directory = "autograded"
    cfg.CourseDirectory.feedback_directory = "feedback"
    cfg.CourseDirectory.db_url = f"sqlite:///{workspace / 'gradebook.db'}"
    cfg.CourseDirectory.ignore = [".ipynb_checkpoints"]
    cfg.Application.log_level = "WARN"
    return cfg


class Batch:
    def __init__(self, workspace: pathlib.Path):
        from nbgrader.apps import NbGraderAPI
        from nbgrader.coursedir import CourseDirectory

        self.workspace = workspace
        self.workspace.mkdir(parents=True, exist_ok=True)
        self.config = nbgrader_config(workspace)
        self.api = NbGraderAPI(coursedir=CourseDirectory(config=self.config), config=self.config)
        self.api.log.setLevel(logging.WARN)
        self.prepared = set()

    def prepare(self, chapter: str) -> None:
        """Copy the chapter's source into the course directory and record its graded cells."""
        if chapter in self.prepared:
            return
        source = self.workspace / "source" / chapter
        source.mkdir(parents=True, exist_ok=True)
        shutil.copy2(SOLUTIONS / chapter / f"{chapter}.ipynb", source / f"{chapter}.ipynb")
        result = self.api.generate_assignment(chapter, force=True)
        if not result["success"]:
            raise RuntimeError(f"nbgrader could not register {chapter}:\n{result.get('error') or result.get('log')}")
        self.prepared.add(chapter)

    def gradebook(self):
        from nbgrader.api import Gradebook

        return Gradebook(self.config.CourseDirectory.db_url)

    def add_student(self, student: str) -> None:
        with self.gradebook() as gb:
            gb.update_or_create_student(student)

    def grade(self, student: str, chapter: str, nb) -> Outcome:
        self.prepare(chapter)
        self.add_student(student)
        target = self.workspace / "submitted" / student / chapter
        if target.exists():
            shutil.rmtree(target)
        target.mkdir(parents=True)
        nbformat.write(nb, str(target / f"{chapter}.ipynb"))
        result = self.api.autograde(chapter, student, force=True)
        outcome = self.read_scores(student, chapter)
        if not result["success"]:
            outcome.status, outcome.score = "error", 0.0
            outcome.reason = "nbgrader could not grade it: " + _last_error_line(result)
            return outcome
        feedback = self.api.generate_feedback(chapter, student, force=True)
        if not feedback["success"]:
            outcome.reason = "graded, but no feedback could be written: " + _last_error_line(feedback)
        return outcome

    def read_scores(self, student: str, chapter: str) -> Outcome:
        outcome = Outcome(student, chapter)
        with self.gradebook() as gb:
            assignment = gb.find_assignment(chapter)
            outcome.max_score = float(assignment.max_score)
            outcome.cells = {g.name: (0.0, float(g.max_score)) for nb in assignment.notebooks for g in nb.grade_cells}
            try:
                submission = gb.find_submission(chapter, student)
            except Exception:
                return outcome
            outcome.score = float(submission.score)
            for nb in submission.notebooks:
                for grade in nb.grades:
                    outcome.cells[grade.name] = (float(grade.score), float(grade.max_score))
        return outcome

    def zero(self, student: str, chapter: str, status: str, reason: str) -> Outcome:
        """Record a zero for ``student`` (so the CSV lists them) and say why."""
        self.prepare(chapter)
        self.add_student(student)
        outcome = self.read_scores(student, chapter)
        outcome.score, outcome.status, outcome.reason = 0.0, status, reason
        outcome.cells = {k: (0.0, m) for k, (_, m) in outcome.cells.items()}
        return outcome

    def export_grades(self, path: pathlib.Path) -> None:
        from nbgrader.plugins import CsvExportPlugin

        plugin = CsvExportPlugin(config=self.config)
        plugin.to = str(path)
        with self.gradebook() as gb:
            plugin.export(gb)


def _last_error_line(result: dict) -> str:
    text = (result.get("error") or result.get("log") or "unknown error").strip().splitlines()
    return text[-1][:300] if text else "unknown error"


def write_breakdown(outcomes: list[Outcome], path: pathlib.Path) -> None:
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["student", "chapter", "grade_id", "score", "max_score", "status", "reason"])
        for o in outcomes:
            for grade_id, (score, max_score) in sorted(o.cells.items()):
                w.writerow([o.student, o.chapter, grade_id, f"{score:g}", f"{max_score:g}", o.status, o.reason])


def summary_table(outcomes: list[Outcome]) -> str:
    rows = [("student", "chapter", "score", "status", "reason")]
    rows += [(o.student, o.chapter, f"{o.score:g}/{o.max_score:g}", o.status, o.reason[:70]) for o in outcomes]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    if outcomes:
        scores = [o.score for o in outcomes]
        lines.append(f"{len(outcomes)} submission(s): mean {sum(scores) / len(scores):.2f}, "
                     f"min {min(scores):g}, max {max(scores):g}")
    return "\n".join(lines)


def run(submissions: pathlib.Path, out: pathlib.Path, chapter: str | None = None) -> list[Outcome]:
    known_chapters = chapters()
    if chapter is not None and chapter not in known_chapters:
        raise SystemExit(f"grader: unknown chapter {chapter!r}; the chapters are {', '.join(known_chapters)}")
    wanted = [chapter] if chapter else known_chapters
    known = {ch: graded_ids(nbformat.read(str(SOLUTIONS / ch / f"{ch}.ipynb"), as_version=4)) for ch in known_chapters}
    batch = Batch(out)
    outcomes: list[Outcome] = []
    for student, named_chapter, path, reason in find_submissions(submissions, wanted):
        if student is None:
            print(f"grader: {reason}", file=sys.stderr)
            continue
        default = chapter or (wanted[0] if len(wanted) == 1 else None)
        if path is None:
            if default:
                outcomes.append(batch.zero(student, default, "rejected", reason))
            continue
        try:
            nb = read_notebook(path)
        except ValueError as exc:
            target = named_chapter or default
            if target:
                outcomes.append(batch.zero(student, target, "rejected", str(exc)))
            else:
                print(f"grader: {student}: {exc}", file=sys.stderr)
            continue
        found = identify_chapter(nb, known)
        target = named_chapter or found or default
        if target is None:
            print(f"grader: {student}: {path.name} matches no chapter; skipped", file=sys.stderr)
            continue
        if target not in wanted:
            continue  # another chapter's notebook, not asked for in this run
        if found is None:
            outcomes.append(batch.zero(student, target, "rejected",
                                       f"{path.name} holds none of {target}'s graded cells "
                                       "(wrong notebook, or its nbgrader metadata was removed)"))
        elif found != target:
            outcomes.append(batch.zero(student, target, "rejected",
                                       f"{path.name} is the notebook of chapter {found}, not {target}"))
        else:
            print(f"grader: grading {student} / {target} ...", file=sys.stderr, flush=True)
            try:
                outcomes.append(batch.grade(student, target, nb))
            except Exception as exc:  # one submission must never stop the batch
                outcomes.append(batch.zero(student, target, "error", f"grading failed: {type(exc).__name__}: {exc}"))
    batch.export_grades(out / "grades.csv")
    write_breakdown(outcomes, out / "exercises.csv")
    return outcomes


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="grader", description=__doc__.split("\n\n")[0])
    parser.add_argument("submissions", type=pathlib.Path, help="folder with one sub-folder per student")
    parser.add_argument("--chapter", help="grade only this chapter (default: every chapter found)")
    parser.add_argument("--out", type=pathlib.Path, default=REPO / ".workspace" / "grading",
                        help="where the gradebook, feedback and CSV files go (default: .workspace/grading)")
    args = parser.parse_args(argv)
    # nbgrader's own use of SQLAlchemy warns on every autograde; the warnings say nothing to an instructor.
    warnings.filterwarnings("ignore", module="nbgrader")
    if not args.submissions.is_dir():
        print(f"grader: {args.submissions} is not a folder of submissions "
              "(expected SUBMISSIONS/<student>/<chapter>.ipynb)", file=sys.stderr)
        return 2
    out = args.out.resolve()
    outcomes = run(args.submissions.resolve(), out, args.chapter)
    print(summary_table(outcomes))
    print(f"\ngrades: {out / 'grades.csv'}\nper exercise: {out / 'exercises.csv'}\nfeedback: {out / 'feedback'}")
    return 0
