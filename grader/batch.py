"""Grade a folder of submitted chapter notebooks: sandboxed, in parallel, resumable.

Accepted layouts (the student id is the folder name)::

    SUBMISSIONS/<student>/<chapter>.ipynb
    SUBMISSIONS/<student>/<chapter>/<chapter>.ipynb      (nbgrader's own layout)

A notebook with another name is matched to its chapter by its graded cells.
Each submission is rebuilt on the chapter's template (grader.submission), run by
nbgrader in one of the worker slots, each a long-lived sandbox cleaned between
submissions (grader.sandbox, grader.worker, grader.zygote), and its scores
are then written into one gradebook by this process alone, one at a time, so the
gradebook ends up as a sequential run would leave it. Every problem with one
submission becomes a zero with a reason for that student; the batch goes on.

Outputs, in ``--out`` (default ``.workspace/grading``): ``grades.csv`` (nbgrader's
export), ``exercises.csv`` (one row per student, chapter and graded cell, with the
reason for any zero and the repairs made), ``feedback/<student>/<chapter>/<chapter>.html``,
and the nbgrader course directory with its gradebook. Re-running grades only
new or changed submissions (by content hash) unless ``--force``.
"""

import argparse
import concurrent.futures
import csv
import dataclasses
import hashlib
import json
import os
import pathlib
import queue
import re
import select
import shutil
import signal
import subprocess
import sys
import threading
import time
import warnings

import nbformat

from . import sandbox, submission
from .limits import Limits

REPO = pathlib.Path(__file__).resolve().parent.parent
NBGRADER_CONFIG = REPO / "nbgrader_config.py"
STUDENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")
GRADER_VERSION = (
    "2"  # bump when grading itself changes, so that --resume regrades everything
)


class SelfCheckFailed(RuntimeError):
    """The grader could not grade its own reference solution and blank edition correctly."""

    def __init__(self, problems):
        super().__init__("; ".join(problems))
        self.problems = problems


_SELF_CHECKED = set()  # self-check keys that passed in this process


@dataclasses.dataclass
class Outcome:
    student: str
    chapter: str
    score: float = 0.0
    max_score: float = 0.0
    status: str = "graded"  # graded | rejected | error
    reason: str = ""
    notes: list = dataclasses.field(default_factory=list)
    cells: dict = dataclasses.field(
        default_factory=dict
    )  # grade_id -> [score, max_score]
    seconds: float = 0.0


def chapters(solutions: pathlib.Path) -> list:
    return sorted(
        p.parent.name for p in solutions.glob("*/*.ipynb") if p.stem == p.parent.name
    )


def nbgrader_config(course_root: pathlib.Path):
    """The course's nbgrader configuration, pointed at the course directory ``course_root``."""
    from traitlets.config.loader import PyFileConfigLoader

    cfg = PyFileConfigLoader(
        NBGRADER_CONFIG.name, path=str(NBGRADER_CONFIG.parent)
    ).load_config()
    cfg.CourseDirectory.root = str(course_root)
    cfg.CourseDirectory.source_directory = "source"
    cfg.CourseDirectory.release_directory = "release"
    cfg.CourseDirectory.submitted_directory = "submitted"
    cfg.CourseDirectory.autograded_directory = "autograded"
    cfg.CourseDirectory.feedback_directory = "feedback"
    cfg.CourseDirectory.db_url = f"sqlite:///{course_root / 'gradebook.db'}"
    cfg.CourseDirectory.ignore = [".ipynb_checkpoints"]
    cfg.Application.log_level = "WARN"
    return cfg


def _api(course_root: pathlib.Path):
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    cfg = nbgrader_config(course_root)
    return NbGraderAPI(coursedir=CourseDirectory(config=cfg), config=cfg), cfg


def _sha256(*parts: bytes) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(hashlib.sha256(part).digest())
    return h.hexdigest()


def find_submissions(folder: pathlib.Path, wanted: list):
    """Yield (student, chapter named by the file or None, path or None, problem) for every entry."""
    for entry in sorted(folder.iterdir()):
        if not entry.is_dir() or entry.is_symlink():
            yield (
                None,
                None,
                entry,
                f"ignored {entry.name}: put each student's notebook in a folder named after the student",
            )
            continue
        if not STUDENT_ID.match(entry.name):
            yield (
                None,
                None,
                entry,
                f"ignored folder {entry.name!r}: a student id may use letters, digits, '_', '.', '@', '-'",
            )
            continue
        files = sorted(
            p
            for p in entry.rglob("*")
            if p.is_file()
            and not p.is_symlink()
            and ".ipynb_checkpoints" not in p.parts
        )
        if not files:
            yield entry.name, None, None, "no notebook submitted"
        for path in files:
            yield (
                entry.name,
                (
                    path.stem
                    if path.suffix == ".ipynb" and path.stem in wanted
                    else None
                ),
                path,
                "",
            )


class Course:
    """The instructor's nbgrader course directory in OUT, and a template of each chapter for the workers."""

    def __init__(self, out: pathlib.Path, solutions: pathlib.Path):
        self.out, self.solutions = out, solutions
        out.mkdir(parents=True, exist_ok=True)
        os.chmod(
            out, 0o700
        )  # the gradebook and every submission: for the instructor only
        self.api, self.config = _api(out)
        self.templates, self.max_scores, self.lock = {}, {}, threading.Lock()

    def prepare(self, chapter: str) -> None:
        """Register the chapter in the gradebook, and build the template a worker copies."""
        if chapter in self.templates:
            return
        solution = self.solutions / chapter / f"{chapter}.ipynb"
        for root in (self.out, self.out / "templates" / chapter):
            (root / "source" / chapter).mkdir(parents=True, exist_ok=True)
            shutil.copy2(solution, root / "source" / chapter / f"{chapter}.ipynb")
            api = self.api if root == self.out else _api(root)[0]
            result = api.generate_assignment(chapter, force=True)
            if not result["success"]:
                raise RuntimeError(
                    f"nbgrader could not register {chapter}:\n{result.get('error') or result.get('log')}"
                )
        template_root = self.out / "templates" / chapter
        self.templates[chapter] = template_root
        with self.gradebook() as gb:
            a = gb.find_assignment(chapter)
            self.max_scores[chapter] = {
                g.name: float(g.max_score) for nb in a.notebooks for g in nb.grade_cells
            }

    def release(self, chapter: str):
        return nbformat.read(
            str(self.templates[chapter] / "release" / chapter / f"{chapter}.ipynb"),
            as_version=4,
        )

    def gradebook(self):
        from nbgrader.api import Gradebook

        return Gradebook(self.config.CourseDirectory.db_url)

    def record(self, outcome: Outcome) -> None:
        """Write one outcome into the gradebook (one writer at a time: this process, under a lock)."""
        with self.lock, self.gradebook() as gb:
            gb.update_or_create_student(outcome.student)
            sub = gb.update_or_create_submission(outcome.chapter, outcome.student)
            for nb in sub.notebooks:
                for grade in nb.grades:
                    grade.auto_score = float(outcome.cells.get(grade.name, [0.0])[0])
                    grade.needs_manual_grade = False
            gb.db.commit()


class Batch:
    def __init__(
        self,
        submissions,
        out,
        solutions,
        chapter=None,
        workers=None,
        limits=Limits(),
        force=False,
    ):
        self.submissions, self.out, self.solutions = submissions, out, solutions
        self.known_chapters = chapters(solutions)
        if chapter is not None and chapter not in self.known_chapters:
            raise SystemExit(
                f"grader: unknown chapter {chapter!r}; the chapters are {', '.join(self.known_chapters)}"
            )
        self.chapter, self.wanted = (
            chapter,
            ([chapter] if chapter else self.known_chapters),
        )
        self.workers = workers or os.cpu_count() or 1
        self.limits, self.force = limits, force
        self.level, self.isolation_note = sandbox.isolation()
        self.course = Course(out, solutions)
        self.state_path = out / "state.json"
        self.state = (
            json.loads(self.state_path.read_text()) if self.state_path.exists() else {}
        )
        self.known_ids = {}
        self.stopping = False  # set when the batch is interrupted: running jobs are then not recorded

    # -- planning ---------------------------------------------------------------------------
    def grade_ids(self, chapter):
        if chapter not in self.known_ids:
            nb = nbformat.read(
                str(self.solutions / chapter / f"{chapter}.ipynb"), as_version=4
            )
            self.known_ids[chapter] = submission.cell_ids(nb)
        return self.known_ids[chapter]

    def plan(self):
        """Outcomes decided without running anything (rejections), and jobs to run."""
        decided, jobs = [], []
        known = {ch: self.grade_ids(ch) for ch in self.known_chapters}
        default = self.chapter or (self.wanted[0] if len(self.wanted) == 1 else None)
        for student, named, path, problem in find_submissions(
            self.submissions, self.wanted
        ):
            if student is None:
                print(f"grader: {problem}", file=sys.stderr)
                continue
            if path is None:
                if default:
                    decided.append(self.rejected(student, default, problem))
                continue
            try:
                nb = submission.read_notebook(path)
            except submission.Rejected as exc:
                target = named or default
                if target:
                    decided.append(self.rejected(student, target, str(exc)))
                else:
                    print(f"grader: {student}: {exc}", file=sys.stderr)
                continue
            found = submission.identify_chapter(nb, known)
            target = named or found or default
            if target is None or target not in self.wanted:
                continue  # another chapter's notebook, not asked for in this run
            if found is not None and found != target:
                decided.append(
                    self.rejected(
                        student,
                        target,
                        f"{path.name} is the notebook of chapter {found}, not {target}",
                    )
                )
                continue
            self.course.prepare(target)
            graded_nb, notes, answered = submission.rebuild(
                nb, self.course.release(target)
            )
            if found is None and not answered:
                decided.append(
                    self.rejected(
                        student,
                        target,
                        f"{path.name} holds none of {target}'s graded cells "
                        "(wrong notebook, or its nbgrader metadata was removed)",
                    )
                )
                continue
            if path.stem != target:
                notes.insert(0, f"{path.name} graded as {target}")
            digest = _sha256(
                path.read_bytes(),
                (self.solutions / target / f"{target}.ipynb").read_bytes(),
                GRADER_VERSION.encode(),
                repr(self.limits).encode(),
            )
            jobs.append((student, target, graded_nb, notes, digest))
        return decided, jobs

    def rejected(self, student, chapter, reason):
        self.course.prepare(chapter)
        cells = {g: [0.0, m] for g, m in self.course.max_scores[chapter].items()}
        return Outcome(
            student,
            chapter,
            0.0,
            sum(m for _, m in cells.values()),
            "rejected",
            reason,
            [],
            cells,
        )

    # -- running ----------------------------------------------------------------------------
    def run_job(self, worker, student, chapter, nb, notes, publish=True) -> Outcome:
        """Grade one rebuilt notebook in ``worker``; ``publish``: copy its feedback and autograded notebook into OUT."""
        start = time.perf_counter()
        name = f"{student}__{chapter}"
        worker.ensure_running()
        job_dir = worker.dir / name
        if job_dir.exists():
            shutil.rmtree(job_dir)
        course = job_dir / "course"
        template = self.course.templates[chapter]
        job_dir.mkdir(
            parents=True, mode=0o700
        )  # gradebook copy and hidden tests: never the kernel's to read
        (course / "source").mkdir(parents=True)
        shutil.copytree(template / "source" / chapter, course / "source" / chapter)
        shutil.copy2(template / "gradebook.db", course / "gradebook.db")
        target = course / "submitted" / student / chapter
        target.mkdir(parents=True)
        nbformat.write(nb, str(target / f"{chapter}.ipynb"))
        (job_dir / "job.json").write_text(
            json.dumps({"student": student, "chapter": chapter})
        )
        ended = worker.grade(name, self.limits.notebook_timeout_s)
        result_file = job_dir / "result.json"
        max_cells = self.course.max_scores[chapter]
        outcome = Outcome(
            student,
            chapter,
            max_score=sum(max_cells.values()),
            notes=list(notes),
            cells={g: [0.0, m] for g, m in max_cells.items()},
        )
        if (
            ended == "timeout"
        ):  # the submission's doing (an endless loop in a cell is caught per cell before)
            outcome.status = "rejected"
            outcome.reason = f"stopped after {self.limits.notebook_timeout_s} s (the notebook time limit)"
        elif not result_file.exists():
            outcome.status = "error"
            outcome.reason = f"the grading sandbox failed: {worker.last_words()}"
        else:
            result = json.loads(result_file.read_text())
            if os.environ.get("GRADER_TIMINGS"):
                timings = {
                    "student": student,
                    **result.get("seconds", {}),
                    "total": round(time.perf_counter() - start, 2),
                }
                print(f"grader-timings: {json.dumps(timings)}", file=sys.stderr)
            outcome.status, outcome.reason = result["status"], result["reason"]
            for g, score in result["cells"].items():
                if g in outcome.cells:
                    outcome.cells[g][0] = float(score)
            if result.get("scrubbed"):
                outcome.notes.append(
                    f"feedback: {result['scrubbed']} line(s) of hidden test code removed"
                )
            for kind, suffix in (("feedback", "html"), ("autograded", "ipynb")):
                made = course / kind / student / chapter / f"{chapter}.{suffix}"
                if made.exists() and publish:
                    dest = self.out / kind / student / chapter
                    dest.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(made, dest / made.name)
            if outcome.status == "graded":
                outcome.reason = outcome.reason or _failure_summary(
                    course / "autograded" / student / chapter / f"{chapter}.ipynb"
                )
        outcome.score = sum(s for s, _ in outcome.cells.values())
        outcome.seconds = time.perf_counter() - start
        if (
            outcome.status == "error" or ended == "timeout"
        ):  # kept in OUT/jobs/ for the instructor to inspect
            kept = self.out / "jobs" / name
            shutil.rmtree(kept, ignore_errors=True)
            kept.parent.mkdir(exist_ok=True)
            shutil.move(str(job_dir), str(kept))
        else:
            shutil.rmtree(job_dir, ignore_errors=True)
        return outcome

    def run(self) -> list:
        if self.level != "full":
            print(
                f"grader: WARNING: reduced isolation. {self.isolation_note}",
                file=sys.stderr,
            )
        decided, jobs = self.plan()
        outcomes, todo = [], []
        for o in decided:
            outcomes.append(self.finish(o, None))
        for student, chapter, nb, notes, digest in jobs:
            previous = self.state.get(f"{student}/{chapter}")
            if previous and previous["hash"] == digest and not self.force:
                outcomes.append(self.finish(Outcome(**previous["outcome"]), digest))
            else:
                todo.append((student, chapter, nb, notes, digest))
        unchanged = len(jobs) - len(todo)
        print(
            f"grader: {len(todo)} to grade, {unchanged} unchanged, {len(decided)} rejected; "
            f"{min(self.workers, max(len(todo), 1))} worker(s), isolation: {self.level}",
            file=sys.stderr,
        )
        workers = [
            SlotWorker(self, i) for i in range(min(self.workers, max(len(todo), 1)))
        ]
        idle = queue.Queue()
        for worker in workers:
            idle.put(worker)
        pool = concurrent.futures.ThreadPoolExecutor(max_workers=len(workers))
        progress = Progress(len(todo))

        def work(item):
            student, chapter, nb, notes, digest = item
            if self.stopping:
                return None
            worker = idle.get()
            try:
                progress.started(student)
                outcome = self.run_job(worker, student, chapter, nb, notes)
                if (
                    outcome.status == "error" and not self.stopping
                ):  # the grader's fault: once more, in a fresh slot
                    worker.kill()
                    first = outcome.reason
                    outcome = self.run_job(worker, student, chapter, nb, notes)
                    outcome.notes.append(
                        f"graded again in a fresh sandbox after: {first[:200]}"
                    )
            except Exception as exc:  # one submission must never stop the batch
                outcome = self.rejected(
                    student, chapter, f"grading failed: {type(exc).__name__}: {exc}"
                )
                outcome.status = "error"
            finally:
                idle.put(worker)
            if (
                self.stopping
            ):  # interrupted while it ran: not recorded, graded again next time
                return None
            done = self.finish(outcome, digest)
            progress.finished(outcome)
            return done

        try:
            if todo:
                for worker in workers:  # from this thread, which lives as long as the batch (see sandbox.worker_command)
                    worker.ensure_running()
            self.self_check(sorted({item[1] for item in todo}), workers, pool)
            futures = [pool.submit(work, item) for item in todo]
            for future in futures:
                done = future.result()
                if done is not None:
                    outcomes.append(done)
            for (
                worker
            ) in workers:  # gracefully, from this thread, before the pool's threads end
                worker.stop()
        except BaseException:
            self.stopping = True
            for worker in workers:
                worker.kill()
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
            for worker in workers:
                worker.stop()
            progress.close()
        outcomes.sort(key=lambda o: (o.chapter, o.student))
        return outcomes

    # -- the grader checks itself -----------------------------------------------------------
    def self_check(self, chapters_to_grade, workers, pool) -> None:
        """Before any student: the reference solution must earn full marks and the blank student edition
        zero, through the whole pipeline (sandbox, rebuild, guards). Remembered per chapter, grader
        code, limits and Python, so that it costs two executions once, not every batch."""
        checks = []
        for chapter in chapters_to_grade:
            key = self.self_check_key(chapter)
            if key in _SELF_CHECKED or self.cache_file(key).exists():
                continue
            solution = submission.read_notebook(
                self.solutions / chapter / f"{chapter}.ipynb"
            )
            release = self.course.release(chapter)
            for kind, source in (("solution", solution), ("blank", release)):
                graded_nb, _, _ = submission.rebuild(source, release)
                checks.append((chapter, kind, key, graded_nb))
        if not checks:
            return
        print(
            f"grader: self-check: grading the reference solution and the blank edition of "
            f"{', '.join(sorted({c[0] for c in checks}))} first",
            file=sys.stderr,
        )
        idle = queue.Queue()
        for worker in workers:
            idle.put(worker)

        def check(item):
            chapter, kind, key, nb = item
            worker = idle.get()
            try:
                outcome = self.run_job(
                    worker, f"selfcheck-{kind}", chapter, nb, [], publish=False
                )
                if (
                    outcome.status == "error"
                ):  # as for a student: once more in a fresh slot before giving up
                    worker.kill()
                    outcome = self.run_job(
                        worker, f"selfcheck-{kind}", chapter, nb, [], publish=False
                    )
                return item, outcome
            except Exception as exc:
                return item, Outcome(
                    "selfcheck",
                    chapter,
                    status="error",
                    reason=f"{type(exc).__name__}: {exc}",
                )
            finally:
                idle.put(worker)

        problems, passed = [], {}
        for (chapter, kind, key, _), outcome in pool.map(check, checks):
            full = sum(m for _, m in outcome.cells.values()) or outcome.max_score
            if kind == "solution" and not (
                outcome.status == "graded"
                and outcome.cells
                and all(s == m for s, m in outcome.cells.values())
            ):
                problems.append(
                    f"{chapter}: the reference solution scored {outcome.score:g}/{full:g} instead of "
                    f"full marks ({outcome.status}: {outcome.reason or 'no reason given'})"
                )
            elif kind == "blank" and not (
                outcome.status == "graded" and outcome.score == 0
            ):
                passing = [g for g, (s, _) in outcome.cells.items() if s]
                problems.append(
                    f"{chapter}: the blank student edition scored {outcome.score:g}/{full:g} instead of "
                    f"0 ({outcome.status}: {outcome.reason or 'passing: ' + ', '.join(passing)})"
                )
            else:
                passed[key] = passed.get(key, 0) + 1
        if problems:
            raise SelfCheckFailed(problems)
        for key, count in passed.items():
            if count == 2:
                _SELF_CHECKED.add(key)
                try:
                    self.cache_file(key).parent.mkdir(parents=True, exist_ok=True)
                    self.cache_file(key).write_text(
                        json.dumps({"passed": time.strftime("%Y-%m-%d %H:%M:%S")})
                    )
                except OSError:
                    pass  # a read-only checkout: the check runs again next time

    def self_check_key(self, chapter) -> str:
        grader_code = b"".join(
            p.read_bytes() for p in sorted(pathlib.Path(__file__).parent.glob("*.py"))
        )
        return _sha256(
            (self.solutions / chapter / f"{chapter}.ipynb").read_bytes(),
            grader_code,
            NBGRADER_CONFIG.read_bytes(),
            repr(self.limits).encode(),
            sys.executable.encode(),
            self.level.encode(),
        )

    @staticmethod
    def cache_file(key) -> pathlib.Path:
        return REPO / ".workspace" / "grader-selfcheck" / f"{key}.json"

    def finish(self, outcome: Outcome, digest) -> Outcome:
        """Record an outcome in the gradebook and in the resume state."""
        self.course.record(outcome)
        with self.course.lock:
            key = f"{outcome.student}/{outcome.chapter}"
            if digest is not None and outcome.status != "error":
                self.state[key] = {
                    "hash": digest,
                    "outcome": dataclasses.asdict(outcome),
                }
            else:
                self.state.pop(
                    key, None
                )  # errors (time-outs, crashes of the grader) are retried next time
            tmp = self.state_path.with_suffix(".tmp")
            tmp.write_text(json.dumps(self.state, indent=1))
            tmp.replace(self.state_path)
        return outcome

    def export(self, outcomes) -> None:
        from nbgrader.plugins import CsvExportPlugin

        plugin = CsvExportPlugin(config=self.course.config)
        plugin.to = str(self.out / "grades.csv")
        with self.course.gradebook() as gb:
            plugin.export(gb)
        write_breakdown(outcomes, self.out / "exercises.csv")


class SlotWorker:
    """One long-lived ``grader.worker`` process in a sandbox of its own, grading one job at a time.

    Starting a sandbox, nbgrader and a kernel's imports costs seconds; a slot pays
    that once per batch instead of once per submission. The worker cleans its
    sandbox between jobs (grader.worker.Slot); a job that overruns the notebook
    time limit or kills the worker costs the whole sandbox, and the next job
    starts a new one.
    """

    def __init__(self, batch, slot: int):
        self.batch, self.slot, self.proc, self.log = batch, slot, None, None
        self.dir = batch.out / "slots" / str(slot)

    def ensure_running(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            self.start()

    def start(self) -> None:
        b, full = self.batch, self.batch.level == "full"
        shutil.rmtree(self.dir, ignore_errors=True)
        self.dir.mkdir(parents=True, mode=0o700)
        config = {
            "limits": dataclasses.asdict(b.limits),
            "repo": str(REPO),
            "sandbox": full,
            "uid": sandbox.SLOT_UID_BASE + self.slot if full else None,
            "hide": [
                str(p)
                for p in {
                    REPO / "solutions",
                    REPO / "tests",
                    REPO / ".workspace",
                    b.solutions,
                    b.submissions,
                    b.out,
                }
            ]
            if full
            else [],
        }
        (self.dir / "slot.json").write_text(json.dumps(config))
        self.log = self.dir.parent / f"worker-{self.slot}.log"
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                sandbox.worker_command(self.dir, b.level),
                cwd=str(self.dir),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                start_new_session=True,
            )

    def grade(self, name: str, timeout: float) -> str:
        """Have the worker grade the job folder ``name``: "done", "timeout" or "died"."""
        ready = True  # a worker that cannot even take the job has died, not timed out
        try:
            self.proc.stdin.write(name.encode() + b"\n")
            self.proc.stdin.flush()
            ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
            if ready and self.proc.stdout.readline().strip() == name.encode():
                return "done"
        except (BrokenPipeError, ValueError):
            pass
        self.kill()
        return "timeout" if not ready else "died"

    def last_words(self) -> str:
        lines = (
            self.log.read_text(errors="replace").strip().splitlines()
            if self.log and self.log.exists()
            else []
        )
        return lines[-1][:300] if lines else "no result"

    def kill(self) -> None:
        proc, self.proc = self.proc, None  # another thread may be killing it too
        if proc is None:
            return
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        proc.wait()

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.stdin.close()  # the worker's loop ends; its sandbox and zygote go with it
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                pass
            self.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


def _failure_summary(autograded: pathlib.Path) -> str:
    """The first failing test's message, e.g. 'test_topo: AssertionError: ...' (empty if all passed)."""
    if not autograded.exists():
        return ""
    nb = nbformat.read(str(autograded), as_version=4)
    for cell in nb.cells:  # a failed setup cell explains every failure after it
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("grade_id") == "setup" and cell.cell_type == "code":
            for out in cell.get("outputs", []):
                if out.get("output_type") == "error":
                    return f"the setup cell failed: {out.get('ename')}: {out.get('evalue')}"[
                        :300
                    ]
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("grade") and cell.cell_type == "code":
            for out in cell.outputs:
                if out.get("output_type") == "error":
                    return f"{meta.get('grade_id')}: {out.get('ename')}: {out.get('evalue')}"[
                        :300
                    ]
    return ""


class Progress:
    """One line per finished submission, with an ETA; redrawn in place on a terminal."""

    def __init__(self, total):
        self.total, self.done, self.start, self.tty = (
            total,
            0,
            time.perf_counter(),
            sys.stderr.isatty(),
        )
        self.lock, self.current = threading.Lock(), set()

    def started(self, student):
        with self.lock:
            self.current.add(student)
            self._draw()

    def finished(self, outcome):
        with self.lock:
            self.done += 1
            self.current.discard(outcome.student)
            if not self.tty:
                print(
                    f"grader: [{self.done}/{self.total}] {outcome.student} {outcome.chapter}: "
                    f"{outcome.score:g}/{outcome.max_score:g} ({outcome.seconds:.1f} s){self._eta()}",
                    file=sys.stderr,
                    flush=True,
                )
            self._draw()

    def _eta(self):
        if not self.done or self.done >= self.total:
            return ""
        left = (time.perf_counter() - self.start) / self.done * (self.total - self.done)
        return f", about {left:.0f} s left"

    def _draw(self):
        if self.tty and self.total:
            width = 30
            filled = int(width * self.done / self.total)
            now = ", ".join(sorted(self.current))[:40]
            sys.stderr.write(
                f"\r[{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} {now}{self._eta()}\x1b[K"
            )
            sys.stderr.flush()

    def close(self):
        if self.tty and self.total:
            sys.stderr.write("\n")


def write_breakdown(outcomes, path: pathlib.Path) -> None:
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(
            [
                "student",
                "chapter",
                "grade_id",
                "score",
                "max_score",
                "status",
                "reason",
                "notes",
            ]
        )
        for o in outcomes:
            for grade_id, (score, max_score) in sorted(o.cells.items()):
                w.writerow(
                    [
                        o.student,
                        o.chapter,
                        grade_id,
                        f"{score:g}",
                        f"{max_score:g}",
                        o.status,
                        o.reason,
                        "; ".join(o.notes),
                    ]
                )


def _table(rows) -> list:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip() for r in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return lines


def summary_table(outcomes) -> str:
    if not outcomes:
        return "no submissions graded"
    rows = [("student", "chapter", "score", "status", "reason")]
    rows += [
        (
            o.student,
            o.chapter,
            f"{o.score:g}/{o.max_score:g}",
            o.status,
            " ".join(o.reason.split())[:80],
        )
        for o in outcomes
    ]
    lines = _table(rows)
    scores = [o.score for o in outcomes]
    lines.append(
        f"{len(outcomes)} submission(s): mean {sum(scores) / len(scores):.2f}, "
        f"min {min(scores):g}, max {max(scores):g}"
    )
    count = {
        status: sum(o.status == status for o in outcomes)
        for status in ("graded", "rejected", "error")
    }
    lines.append(
        f"{count['graded']} graded, {count['rejected']} rejected (the submission's fault: not a notebook, "
        f"the wrong chapter, over the time limit), {count['error']} grader error(s)"
    )
    scrubbed = [
        o.student for o in outcomes if any(n.startswith("feedback:") for n in o.notes)
    ]
    if scrubbed:
        lines.append(
            f"hidden test code was removed from the feedback of: {', '.join(scrubbed[:10])}"
            f"{' and more' if len(scrubbed) > 10 else ''} (their code printed or raised it)"
        )
    per_cell = {}
    for o in outcomes:
        for g, (s, m) in o.cells.items():
            per_cell.setdefault((o.chapter, g), []).append((o.student, s, m))
    rows = [("chapter", "graded cell", "mean", "min", "max", "failed by")]
    for (chapter, g), entries in sorted(per_cell.items()):
        s = [e[1] for e in entries]
        failed = [e[0] for e in entries if e[1] < e[2]]
        who = ", ".join(failed[:6]) + (
            f" and {len(failed) - 6} more" if len(failed) > 6 else ""
        )
        rows.append(
            (
                chapter,
                g,
                f"{sum(s) / len(s):.2f}/{entries[0][2]:g}",
                f"{min(s):g}",
                f"{max(s):g}",
                who or "-",
            )
        )
    return "\n".join(lines + [""] + _table(rows))


def run(submissions, out, chapter=None, **kwargs):
    """Grade ``submissions`` into ``out``; returns the outcomes (used by tests and the CLI)."""
    batch = Batch(
        pathlib.Path(submissions).resolve(),
        pathlib.Path(out).resolve(),
        pathlib.Path(kwargs.pop("solutions", REPO / "solutions")).resolve(),
        chapter,
        **kwargs,
    )
    outcomes = batch.run()
    batch.export(outcomes)
    return outcomes


def main(argv=None) -> int:
    d = Limits()
    parser = argparse.ArgumentParser(
        prog="grader", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "submissions", type=pathlib.Path, help="folder with one sub-folder per student"
    )
    parser.add_argument(
        "--chapter", help="grade only this chapter (default: every chapter found)"
    )
    parser.add_argument(
        "--out",
        type=pathlib.Path,
        default=REPO / ".workspace" / "grading",
        help="where the gradebook, feedback and CSV files go (default: .workspace/grading)",
    )
    parser.add_argument(
        "--solutions",
        type=pathlib.Path,
        default=REPO / "solutions",
        help="the chapters' source notebooks (default: solutions/)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 1,
        help="parallel submissions (default: cores)",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="regrade everything, even unchanged submissions",
    )
    parser.add_argument(
        "--memory-mb",
        type=int,
        default=d.memory_mb,
        help=f"memory per kernel (default {d.memory_mb})",
    )
    parser.add_argument(
        "--processes",
        type=int,
        default=d.processes,
        help=f"processes+threads per kernel (default {d.processes})",
    )
    parser.add_argument(
        "--file-size-mb",
        type=int,
        default=d.file_size_mb,
        help=f"largest file written (default {d.file_size_mb})",
    )
    parser.add_argument(
        "--cell-timeout",
        type=int,
        default=d.cell_timeout_s,
        help=f"seconds per cell (default {d.cell_timeout_s})",
    )
    parser.add_argument(
        "--notebook-timeout",
        type=int,
        default=d.notebook_timeout_s,
        help=f"seconds per submission (default {d.notebook_timeout_s})",
    )
    parser.add_argument(
        "--output-lines",
        type=int,
        default=d.output_lines,
        help=f"output lines kept per cell (default {d.output_lines})",
    )
    args = parser.parse_args(argv)
    # nbgrader runs `alembic` from PATH when it creates a gradebook: use this environment's.
    os.environ["PATH"] = (
        os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")
    )
    # nbgrader's own use of SQLAlchemy warns on every autograde; the warnings say nothing to an instructor.
    warnings.filterwarnings("ignore", module="nbgrader")
    if not args.submissions.is_dir():
        print(
            f"grader: {args.submissions} is not a folder of submissions "
            "(expected SUBMISSIONS/<student>/<chapter>.ipynb)",
            file=sys.stderr,
        )
        return 2
    if args.workers < 1:
        print("grader: --workers must be at least 1", file=sys.stderr)
        return 2
    limits = Limits(
        memory_mb=args.memory_mb,
        processes=args.processes,
        file_size_mb=args.file_size_mb,
        cell_timeout_s=args.cell_timeout,
        notebook_timeout_s=args.notebook_timeout,
        output_lines=args.output_lines,
    )
    for sig in (
        signal.SIGTERM,
        signal.SIGHUP,
    ):  # as Ctrl-C: stop the workers, keep what is recorded
        signal.signal(sig, _interrupt)
    try:
        outcomes = run(
            args.submissions,
            args.out,
            args.chapter,
            solutions=args.solutions,
            workers=args.workers,
            limits=limits,
            force=args.force,
        )
    except SelfCheckFailed as exc:
        print(
            "grader: the self-check failed, so no submission was graded: the grader cannot grade this chapter "
            "correctly here (a broken environment, sandbox or chapter?):",
            file=sys.stderr,
        )
        for problem in exc.problems:
            print(f"grader:   {problem}", file=sys.stderr)
        print(
            f"grader: the failed jobs are kept in {args.out.resolve() / 'jobs'}",
            file=sys.stderr,
        )
        return 3
    except KeyboardInterrupt as exc:
        name = (
            signal.Signals(exc.args[0]).name
            if exc.args and isinstance(exc.args[0], int)
            else "SIGINT"
        )
        print(
            f"\ngrader: interrupted ({name}): every worker and sandbox is stopped; what was graded is recorded, "
            "and running the same command again grades the rest",
            file=sys.stderr,
        )
        return 128 + (
            exc.args[0] if exc.args and isinstance(exc.args[0], int) else signal.SIGINT
        )
    out = args.out.resolve()
    print(summary_table(outcomes))
    print(
        f"\ngrades: {out / 'grades.csv'}\nper exercise: {out / 'exercises.csv'}\nfeedback: {out / 'feedback'}"
    )
    errors = [o for o in outcomes if o.status == "error"]
    if errors:
        print(
            f"\ngrader: {len(errors)} submission(s) ended in a grader error (the grader's or this machine's "
            f"problem, not the student's): {', '.join(f'{o.student}/{o.chapter}' for o in errors[:10])}; "
            "see OUT/jobs and the reason column, fix it and run again (they are regraded)",
            file=sys.stderr,
        )
        return 1
    return 0


def _interrupt(signum, _frame):
    raise KeyboardInterrupt(signum)
