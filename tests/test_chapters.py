"""Every chapter: exercise anatomy, the generated student edition, the solution notebook run
top to bottom, and per exercise (setup cell + that exercise only, in a reused kernel): the
solution earns full marks, the blank stub none, and every mutant loses points.

The whole solution notebook is executed once per session (test_solution_notebook_runs_top_to_bottom,
`slow`): the book reuses that run's lecture outputs (see nbtools.run_chapter and tests/test_book.py).
"""

import json
import os
import subprocess
import sys

import pytest

import mutantlib
import nbtools
from grader.limits import Limits
from nbtools import HIDDEN_BLOCK, MUTANTS, SOLUTION_BLOCK, meta

CHAPTERS = nbtools.chapter_ids()
# A chapter's whole run may use at most this many CPU seconds (one thread): `make test` must stay within
# 30 minutes on 2 cores with ten chapters, and a chapter costs about one run plus its exercises.
CHAPTER_CPU_BUDGET_S = 150
# Chapter 07 trains two language models for its central comparison (issue 15 allows it 180 s on
# 2 cores; six seeds measured 131-145 CPU s on a busy machine, 1.15x that); its whole run must fit this.
# Chapter 10 closes the course with small models only; issue 18 caps it at 60 s.
CHAPTER_CPU_BUDGET_OVERRIDES_S = {"07_attention": 167, "10_debugging": 60}


def test_course_has_chapters():
    assert CHAPTERS, "no chapter found: expected solutions/<id>/<id>.ipynb"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_exercise_anatomy(chapter):
    nb = nbtools.load(nbtools.solution_path(chapter))
    setup = nb.cells[nbtools.setup_index(nb)]
    assert meta(setup).get("locked"), "the setup cell must be locked (read-only)"
    exercises = nbtools.exercises(nb)
    assert len(exercises) >= 4, (
        f"{chapter}: {len(exercises)} exercises, the course wants at least 4 graded parts"
    )
    total = sum(ex.points(nb) for ex in exercises)
    assert total == pytest.approx(10), (
        f"{chapter}: exercise points sum to {total}, the course uses 10"
    )
    for ex in exercises:
        solution = nb.cells[ex.solution]
        assert ex.tasks, (
            f"{ex.name}: no locked task cell (grade_id task_*) right before the solution cell"
        )
        assert ex.tests, f"{ex.name}: no grade cell follows the solution cell"
        assert SOLUTION_BLOCK.search(solution.source), (
            f"{ex.name}: no ### BEGIN/END SOLUTION block"
        )
        assert any(HIDDEN_BLOCK.search(nb.cells[i].source) for i in ex.tests), (
            f"{ex.name}: no hidden tests"
        )
        for i in [ex.solution, *ex.tests]:
            cell = nb.cells[i]
            assert "skip-execution" in cell.metadata.get("tags", []), (
                f"{meta(cell)['grade_id']}: exercise cells carry the 'skip-execution' tag so the book does not run them"
            )
        for i in ex.tests:
            assert meta(nb.cells[i]).get("locked"), (
                f"{meta(nb.cells[i])['grade_id']}: grade cells must be locked"
            )


@pytest.mark.slow
@pytest.mark.parametrize("chapter", CHAPTERS)
def test_solution_notebook_runs_top_to_bottom(chapter, chapter_runs):
    """The whole solution notebook, every cell (exercises included), in order: no cell raises, every
    grade cell passes in the context of the whole notebook (a lecture cell that redefines a name the
    tests need breaks it), and the blank answers, run in that same context with the hidden tests,
    score nothing. No cell may take as long as the grader's per-cell limit, nor the kernel need more
    address space than the grader allows (the grader would stop it; the end-to-end grading of
    test_grading.py, which caught both, covers chapter 01 only)."""
    run = chapter_runs(chapter)
    errors = run.errors()
    assert not errors, (
        f"{chapter}: cells raise when the solution notebook runs top to bottom: {errors}"
    )
    failing = {
        g: s for g, s in nbtools.grade_cells(run.solution).items() if s[0] != s[1]
    }
    assert not failing, (
        f"{chapter}: grade cells lose points in the full solution notebook: {failing}"
    )
    if nbtools.exercises_come_last(run.solution):
        assert run.blank_grades, f"{chapter}: the blank answers were not run"
        passing = {g: s for g, s in run.blank_grades.items() if s[0]}
        assert not passing, (
            f"{chapter}: grade cells pass on the blank answers after the lecture: {passing}"
        )
    limit = (
        Limits().cell_timeout_s
    )  # CPU seconds, not wall-clock ones: a loaded machine must not trip it
    slowest = max(
        range(len(run.cell_cpu_seconds)), key=run.cell_cpu_seconds.__getitem__
    )
    assert 0 < run.cell_cpu_seconds[slowest] < limit, (
        f"{chapter}: cell {slowest} used {run.cell_cpu_seconds[slowest]:.0f} CPU seconds; the grader stops a cell "
        f"after {limit} s (its kernels use one thread)"
    )
    cpu = sum(run.cell_cpu_seconds)
    budget = CHAPTER_CPU_BUDGET_OVERRIDES_S.get(chapter, CHAPTER_CPU_BUDGET_S)
    assert cpu < budget, (
        f"{chapter}: the notebook used {cpu:.0f} CPU seconds; this chapter may use {budget} "
        "(the test suite's budget, see issue 12): make it cheaper"
    )
    memory = Limits().memory_mb
    if run.vm_peak_mb is not None:
        assert run.vm_peak_mb < memory, (
            f"{chapter}: the kernel's address space peaked at {run.vm_peak_mb:.0f} MB; the grader limits a "
            f"submission's kernel to {memory} MB, so the solution would not get through grading"
        )


@pytest.mark.parametrize("edition", ["solutions", "notebooks"])
@pytest.mark.parametrize("chapter", CHAPTERS)
def test_committed_notebooks_hold_no_outputs(chapter, edition):
    path = (nbtools.solution_path if edition == "solutions" else nbtools.student_path)(
        chapter
    )
    assert path.exists(), f"{path} is missing (run `make release`)"
    nb = nbtools.load(path)
    dirty = [
        i
        for i, c in enumerate(nb.cells)
        if c.cell_type == "code" and (c.outputs or c.execution_count)
    ]
    assert not dirty, (
        f"{path}: cells {dirty} carry outputs; clear them before committing"
    )


# nbgrader's generate_assignment for every chapter in one process (its API, the course's
# nbgrader_config.py): a process per chapter spent about 7 s of each run starting nbgrader and
# creating a gradebook.
GENERATE_EVERY_CHAPTER = """
import sys
from nbgrader.apps import NbGraderAPI
from nbgrader.coursedir import CourseDirectory
from traitlets.config.loader import PyFileConfigLoader

release, gradebook, *chapters = sys.argv[1:]
config = PyFileConfigLoader("nbgrader_config.py", path=".").load_config()
config.CourseDirectory.release_directory = release
config.CourseDirectory.db_url = "sqlite:///" + gradebook
config.Application.log_level = "ERROR"
api = NbGraderAPI(CourseDirectory(config=config), config=config)
for chapter in chapters:
    result = api.generate_assignment(chapter, force=True)
    if not result["success"]:
        print(f"--- {chapter}: generate_assignment failed:", result["error"], file=sys.stderr)
"""


@pytest.fixture(scope="module")
def generated_editions(tmp_path_factory):
    """The student edition of every chapter as nbgrader generates it now: (folder, stderr)."""
    tmp = tmp_path_factory.mktemp("generated")
    env = dict(os.environ)  # nbgrader runs `alembic` from PATH to create the gradebook
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    done = subprocess.run(
        [sys.executable, "-c", GENERATE_EVERY_CHAPTER, str(tmp / "release")]
        + [str(tmp / "gradebook.db"), *CHAPTERS],
        cwd=nbtools.REPO,
        capture_output=True,
        text=True,
        timeout=900,
        env=env,
    )
    return tmp / "release", done.stderr


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_student_edition_is_exactly_what_nbgrader_generates(
    chapter, generated_editions
):
    release, errors = generated_editions
    path = release / chapter / f"{chapter}.ipynb"
    assert path.exists(), (
        f"nbgrader generated no student edition of {chapter}:\n{errors}"
    )
    fresh = json.loads(path.read_text())
    committed = json.loads(nbtools.student_path(chapter).read_text())
    assert committed == fresh, (
        f"notebooks/{chapter} differs from what nbgrader generates: run `make release`"
    )
    text = nbtools.student_path(chapter).read_text()
    assert "BEGIN SOLUTION" not in text and "BEGIN HIDDEN TESTS" not in text


def exercise_cases():
    for chapter in CHAPTERS:
        for ex in nbtools.exercises(nbtools.load(nbtools.solution_path(chapter))):
            yield pytest.param(chapter, ex.name, id=f"{chapter}-{ex.name}")


def mutant_cases():
    for chapter in CHAPTERS:
        for mutant in mutantlib.mutants(chapter):
            yield pytest.param(chapter, mutant.exercise, mutant, id=mutant.id)


_kernels = {}


@pytest.fixture(scope="module", autouse=True)
def _close_kernels():
    yield
    for kernel in _kernels.values():
        kernel.close()
    _kernels.clear()


def run_exercise(chapter, name, source=None):
    """Setup cell + one exercise (with ``source`` as the answer), in the chapter's reused kernel."""
    nb = nbtools.load(nbtools.solution_path(chapter))
    ex = next((e for e in nbtools.exercises(nb) if e.name == name), None)
    assert ex is not None, f"{chapter} has no exercise {name!r}"
    small = nbtools.mini_notebook(nb, ex, source)
    if chapter not in _kernels:
        _kernels[chapter] = nbtools.Kernel(nbtools.solution_path(chapter).parent)
    return _kernels[chapter].run(small)


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_every_exercise_has_two_mutants(chapter):
    names = {
        ex.name
        for ex in nbtools.exercises(nbtools.load(nbtools.solution_path(chapter)))
    }
    found = mutantlib.mutants(chapter)
    for name in names:
        count = sum(m.exercise == name for m in found)
        assert count >= 2, (
            f"{chapter}/{name}: {count} mutants (tests/mutants/{chapter}.toml "
            f"and tests/mutants/{chapter}/{name}/*.py), at least 2 wanted"
        )
    folders = (
        {p.name for p in (MUTANTS / chapter).iterdir() if p.is_dir()}
        if (MUTANTS / chapter).is_dir()
        else set()
    )
    strays = (folders | {m.exercise for m in found}) - names - {"__pycache__"}
    assert not strays, f"mutants of {chapter} name no exercise of it: {sorted(strays)}"


@pytest.mark.parametrize("chapter,name", list(exercise_cases()))
def test_solution_earns_full_marks_on_its_own(chapter, name):
    """The exercise runs with only the setup cell before it, as in the student edition."""
    nb = run_exercise(chapter, name)
    grades = nbtools.grade_cells(nb)
    for grade_id, (score, max_score) in grades.items():
        assert score == max_score, (
            f"{grade_id} fails with the solution: {nbtools.error_messages(nb, grade_id)}"
        )


@pytest.mark.parametrize("chapter,name", list(exercise_cases()))
def test_stub_fails_every_grade_cell(chapter, name):
    student = nbtools.load(nbtools.student_path(chapter))
    stub = next(c.source for c in student.cells if meta(c).get("grade_id") == name)
    run = run_exercise(chapter, name, stub)
    passing = [g for g, (score, _) in nbtools.grade_cells(run).items() if score]
    assert not passing, (
        f"grade cells {passing} pass on the blank stub: they test nothing"
    )


@pytest.mark.parametrize("chapter,name,mutant", list(mutant_cases()))
def test_mutant_loses_points_with_a_message(chapter, name, mutant):
    nb = run_exercise(chapter, name, mutant.source())
    grades = nbtools.grade_cells(nb)
    lost = {g: s for g, (s, m) in grades.items() if s < m}
    assert lost, f"mutant {mutant} ({mutant.why}) earns full marks: the tests miss it"
    messages = [m for g in lost for m in nbtools.error_messages(nb, g)]
    assert any(
        m.startswith("AssertionError: ") and len(m) > len("AssertionError: ") + 10
        for m in messages
    ), (
        f"mutant {mutant} fails, but without a test message a student could act on: {messages}"
    )


# -- the whole-notebook run itself (nbtools.run_chapter), on a tiny made-up chapter --------------
def _demo_chapter(folder, lecture_sources):
    """Write a one-exercise chapter 97_demo (solution and student edition) under ``folder``."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

    def nbg(cell, **fields):
        cell.metadata["nbgrader"] = {
            "grade": False,
            "solution": False,
            "locked": False,
            "schema_version": 3,
            **fields,
        }
        return cell

    def chapter(answer):
        cells = [
            new_markdown_cell("# Demo"),
            nbg(
                new_code_cell("import numpy as np\nscale = 2"),
                grade_id="setup",
                locked=True,
            ),
            *[new_code_cell(src) for src in lecture_sources],
            nbg(
                new_markdown_cell("Write `double`."),
                grade_id="task_double",
                locked=True,
                task=True,
            ),
            nbg(new_code_cell(answer), grade_id="double", solution=True),
            nbg(
                new_code_cell(
                    "assert np.allclose(double(np.arange(3)), [0, 2, 4]), 'double(x) must be 2 x'"
                ),
                grade_id="test_double",
                grade=True,
                locked=True,
                points=10,
            ),
        ]
        for cell in cells[-2:]:
            cell.metadata["tags"] = ["skip-execution"]
        return new_notebook(
            cells=cells,
            metadata={
                "kernelspec": {
                    "name": "python3",
                    "display_name": "Python 3",
                    "language": "python",
                }
            },
        )

    for edition, answer in [
        (
            "solutions",
            "def double(x):\n    ### BEGIN SOLUTION\n    return scale * x\n"
            "    ### END SOLUTION",
        ),
        (
            "notebooks",
            "def double(x):\n    # YOUR CODE HERE\n    raise NotImplementedError()",
        ),
    ]:
        (folder / edition / "97_demo").mkdir(parents=True)
        nbformat.write(
            chapter(answer), str(folder / edition / "97_demo" / "97_demo.ipynb")
        )
    student = nbtools.load(folder / "notebooks" / "97_demo" / "97_demo.ipynb")
    solution = nbtools.load(folder / "solutions" / "97_demo" / "97_demo.ipynb")
    for cell, twin in zip(
        student.cells, solution.cells
    ):  # the two editions share cell ids, as nbgrader's do
        cell.id = twin.id
    nbformat.write(student, str(folder / "notebooks" / "97_demo" / "97_demo.ipynb"))


def test_the_notebook_run_catches_a_lecture_cell_that_breaks_an_exercise(
    tmp_path, monkeypatch
):
    """The defect per-exercise notebooks cannot see (chapter 06 had one): a lecture cell rebinds a name
    the exercise needs. The whole run sees it; the same chapter without that cell passes, scores 0 with
    the blank answer, and its lecture outputs can stand in for the book's."""
    monkeypatch.setattr(nbtools, "SOLUTIONS", tmp_path / "good" / "solutions")
    monkeypatch.setattr(nbtools, "NOTEBOOKS", tmp_path / "good" / "notebooks")
    _demo_chapter(tmp_path / "good", ["print('lecture', scale)"])
    good = nbtools.run_chapter("97_demo")
    assert not good.errors(), good.errors()
    assert nbtools.grade_cells(good.solution) == {"test_double": (10, 10)}
    assert good.blank_grades == {"test_double": (0, 10)}
    edition = nbtools.book_edition(good)
    assert edition is not None and edition.cells[2].outputs[0]["text"] == "lecture 2\n"
    assert not edition.cells[4].outputs, (
        "exercise cells stay unexecuted in the book's edition"
    )
    assert good.vm_peak_mb is None or good.vm_peak_mb > 0
    assert all(s >= 0 for s in good.cell_cpu_seconds) and good.cell_cpu_seconds[1] > 0

    monkeypatch.setattr(nbtools, "SOLUTIONS", tmp_path / "bad" / "solutions")
    monkeypatch.setattr(nbtools, "NOTEBOOKS", tmp_path / "bad" / "notebooks")
    _demo_chapter(
        tmp_path / "bad",
        ["print('lecture', scale)", "scale = 3  # a lecture cell reuses a name"],
    )
    bad = nbtools.run_chapter("97_demo")
    assert [e.split(":")[0] for e in bad.errors()] == ["test_double"], bad.errors()
    assert nbtools.grade_cells(bad.solution) == {"test_double": (0, 10)}
