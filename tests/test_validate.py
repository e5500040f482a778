"""The student's Validate button (nbgrader's Validator with the course's verdicts, grader/validate.py,
and the course configuration) tells the truth, and agrees with `make grade`.

A blank answer must be reported as failing: with nbclient's default settings the
exercise cells' `skip-execution` tag would skip them and report success.
"""

import nbformat
import pytest
from traitlets.config.loader import PyFileConfigLoader

import nbtools
from grader.validate import CourseValidator as Validator
from nbtools import meta

CHAPTERS = nbtools.chapter_ids()


def course_config():
    return PyFileConfigLoader(
        "nbgrader_config.py", path=str(nbtools.REPO)
    ).load_config()


def first_exercise_notebook(chapter, answered):
    solution = nbtools.load(nbtools.solution_path(chapter))
    ex = nbtools.exercises(solution)[0]
    small = nbtools.mini_notebook(solution, ex)
    if not answered:
        student = nbtools.load(nbtools.student_path(chapter))
        stub = next(
            c.source for c in student.cells if meta(c).get("grade_id") == ex.name
        )
        for cell in small.cells:
            if meta(cell).get("grade_id") == ex.name:
                cell.source = stub
    return small


@pytest.mark.parametrize("chapter", CHAPTERS)
@pytest.mark.parametrize("answered", [True, False])
def test_validate_reports_blank_answers(chapter, answered):
    path = nbtools.solution_path(chapter).parent / f".validate_{answered}.ipynb"
    try:
        nbformat.write(first_exercise_notebook(chapter, answered), str(path))
        result = Validator(config=course_config()).validate(str(path))
    finally:
        path.unlink(missing_ok=True)
    if answered:
        assert not result.get("failed"), (
            f"Validate reports the solution as failing: {result.get('failed')}"
        )
    else:
        assert result.get("failed"), f"Validate passes a blank answer: {result}"


def test_a_blank_answer_fails_with_the_course_message():
    """What a student sees in Validate for an unanswered exercise: the course's sentence, not
    a bare NotImplementedError at the end of a traceback through the test's code."""
    from grader.execute import UNANSWERED

    chapter = CHAPTERS[0]
    path = nbtools.solution_path(chapter).parent / ".validate_blank_message.ipynb"
    try:
        nbformat.write(first_exercise_notebook(chapter, answered=False), str(path))
        result = Validator(config=course_config()).validate(str(path))
    finally:
        path.unlink(missing_ok=True)
    assert result.get("failed"), f"Validate passes a blank answer: {result}"
    for failed in result["failed"]:
        assert UNANSWERED in failed["raw_error"], failed["raw_error"][-600:]


# A correct answer that computes in float32 and overflows on the way, so NumPy prints a
# RuntimeWarning on stderr while the test cell runs; and a wrong one that warns too.
WARNING_DOUBLE = (
    "def double(x):\n"
    "    np.float32(3e38) * np.float32(10)  # overflows: RuntimeWarning on stderr\n"
    "    return 2 * np.asarray(x, dtype=float)"
)
WARNING_WRONG_NORM2 = (
    "def norm2(v):\n    np.float32(3e38) * np.float32(10)\n    return 0.0"
)


@pytest.mark.slow
def test_validate_and_make_grade_agree_on_a_submission_that_warns(tmp_path):
    """Per test cell, the student's Validate and `make grade` give the same verdict, and the
    right one: text on stderr does not fail a test, a failed assertion does."""
    import csv
    import subprocess

    import tinycourse
    from test_grader_adversarial import grader_command, student_edition

    solutions = tinycourse.write_course(tmp_path / "solutions")
    edition = student_edition(solutions / "99_tiny" / "99_tiny.ipynb")
    submission = tinycourse.answer(
        tinycourse.answer(edition, "double", WARNING_DOUBLE),
        "norm2",
        WARNING_WRONG_NORM2,
    )
    expected = {"test_double": True, "test_norm2": False}  # passes?

    path = tmp_path / "validate" / "99_tiny.ipynb"
    path.parent.mkdir()
    nbformat.write(submission, str(path))
    result = Validator(config=course_config()).validate(str(path))
    failed_sources = {f["source"] for f in result.get("failed", [])}
    validate = {
        meta(c)["grade_id"]: c.source.strip() not in failed_sources
        for c in submission.cells
        if meta(c).get("grade")
    }

    subs = tmp_path / "subs" / "warner"
    subs.mkdir(parents=True)
    nbformat.write(submission, str(subs / "99_tiny.ipynb"))
    out = tmp_path / "out"
    cmd = grader_command(subs.parent, out, solutions, "--workers", "1")
    done = subprocess.run(cmd, cwd=nbtools.REPO, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    with open(out / "exercises.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    grade = {r["grade_id"]: float(r["score"]) > 0 for r in rows}

    assert validate == expected, f"Validate's verdicts {validate}, expected {expected}"
    assert grade == expected, f"make grade's verdicts {grade}, expected {expected}"
    graded = (out / "autograded" / "warner" / "99_tiny" / "99_tiny.ipynb").read_text()
    assert "RuntimeWarning" in graded, (
        "the submission printed no warning: the test proves nothing"
    )
