"""`make grade` on a folder of typical submissions: full, blank, partial, and broken ones.

End to end (a whole chapter, three whole-notebook executions in the grader, more with its
self-check) for END_TO_END only: chapter 01, the cheapest chapter and the one every other
chapter follows (the same setup-cell imports: NumPy, PyTorch, matplotlib, dlcourse). What this
module would check of the other chapters is checked there without grading them end to end:
the solution's full marks and the blank answers' zero in the context of the whole notebook
(test_chapters.py::test_solution_notebook_runs_top_to_bottom), per exercise the solution's full
marks, the blank stub's zero and the mutants (test_chapters.py), the release nbgrader generates
(test_student_edition_is_exactly_what_nbgrader_generates) and the rebuild on the chapter's
template (test_grader_parts.py). The grader itself is tested on the tiny course of tinycourse.py
(test_grader_adversarial.py).
"""

import csv
import subprocess
import sys

import pytest

import nbtools
from nbtools import meta

CHAPTERS = nbtools.chapter_ids()
END_TO_END = [c for c in ["01_autodiff"] if c in CHAPTERS]
slow = pytest.mark.slow


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def partial_submission(chapter):
    """The student edition with only the first exercise answered (copied from the solution)."""
    solution = nbtools.load(nbtools.solution_path(chapter))
    student = nbtools.load(nbtools.student_path(chapter))
    first = nbtools.exercises(solution)[0]
    answer = solution.cells[first.solution].source
    for cell in student.cells:
        if meta(cell).get("grade_id") == first.name:
            cell.source = answer
    return student, first.points(solution)


@pytest.fixture(scope="module", params=END_TO_END)
def graded(request, tmp_path_factory):
    chapter = request.param
    root = tmp_path_factory.mktemp(f"grade-{chapter}")
    subs = root / "submissions"
    nb_name = f"{chapter}.ipynb"
    for student in ["solution", "blank", "broken", "empty", "textfile", "stranger"]:
        (subs / student).mkdir(parents=True)
    (subs / "solution" / nb_name).write_bytes(
        nbtools.solution_path(chapter).read_bytes()
    )
    (subs / "blank" / nb_name).write_bytes(nbtools.student_path(chapter).read_bytes())
    partial, partial_points = partial_submission(chapter)
    (subs / "partial" / chapter).mkdir(parents=True)  # nbgrader's own layout
    import nbformat

    nbformat.write(partial, str(subs / "partial" / chapter / nb_name))
    (subs / "broken" / nb_name).write_text(
        nbtools.student_path(chapter).read_text()[:500]
    )
    (subs / "empty" / nb_name).write_text("")
    (subs / "textfile" / "answers.txt").write_text("I did the exercises in my head.\n")
    stranger = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell("print('hello')")]
    )
    nbformat.write(stranger, str(subs / "stranger" / nb_name))
    out = root / "out"
    done = subprocess.run(
        [
            "make",
            "--no-print-directory",
            "grade",
            f"SUBMISSIONS={subs}",
            f"OUT={out}",
            f"CHAPTER={chapter}",
        ],
        cwd=nbtools.REPO,
        capture_output=True,
        text=True,
        timeout=1500,
    )
    return dict(
        chapter=chapter,
        out=out,
        done=done,
        partial_points=partial_points,
        max_points=sum(
            e.points(nbtools.load(nbtools.solution_path(chapter)))
            for e in nbtools.exercises(nbtools.load(nbtools.solution_path(chapter)))
        ),
    )


def scores(graded):
    return {
        r["student_id"]: float(r["score"])
        for r in read_csv(graded["out"] / "grades.csv")
        if r["assignment"] == graded["chapter"]
    }


def breakdown(graded, student):
    return [
        r for r in read_csv(graded["out"] / "exercises.csv") if r["student"] == student
    ]


@slow
def test_batch_completes(graded):
    assert graded["done"].returncode == 0, graded["done"].stdout + graded["done"].stderr
    assert "submission(s): mean" in graded["done"].stdout, graded["done"].stdout


@slow
def test_grades_csv(graded):
    got = scores(graded)
    want = {
        "solution": graded["max_points"],
        "blank": 0,
        "partial": graded["partial_points"],
        "broken": 0,
        "empty": 0,
        "textfile": 0,
        "stranger": 0,
    }
    assert got == pytest.approx(want), f"grades.csv scores {got}, expected {want}"
    assert 0 < graded["partial_points"] < graded["max_points"]


@slow
def test_solution_full_and_blank_fails_every_grade_cell(graded):
    full = breakdown(graded, "solution")
    assert full and all(r["score"] == r["max_score"] for r in full), full
    blank = breakdown(graded, "blank")
    assert blank and all(float(r["score"]) == 0 for r in blank), (
        f"grade cells pass on the blank edition: {blank}"
    )
    assert {r["status"] for r in blank} == {"graded"}


@slow
@pytest.mark.parametrize(
    "student,reason",
    [
        ("broken", "not valid notebook JSON"),
        ("empty", "is empty"),
        ("textfile", "not a notebook"),
        ("stranger", "holds none of"),
    ],
)
def test_bad_submissions_get_zero_with_a_reason(graded, student, reason):
    rows = breakdown(graded, student)
    assert rows, f"{student} is missing from exercises.csv"
    assert all(r["status"] == "rejected" and float(r["score"]) == 0 for r in rows), rows
    assert reason in rows[0]["reason"], rows[0]["reason"]


@slow
def test_feedback_written(graded):
    for student in ["solution", "blank", "partial"]:
        page = (
            graded["out"]
            / "feedback"
            / student
            / graded["chapter"]
            / f"{graded['chapter']}.html"
        )
        assert page.exists(), f"no feedback for {student}"


def test_missing_folder_is_a_clear_error(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "grader", str(tmp_path / "nope")],
        capture_output=True,
        text=True,
        cwd=nbtools.REPO,
    )
    assert done.returncode == 2
    assert "is not a folder of submissions" in done.stderr
