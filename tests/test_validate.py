"""The student's Validate button (nbgrader's Validator with the course configuration) tells the truth.

A blank answer must be reported as failing: with nbclient's default settings the
exercise cells' `skip-execution` tag would skip them and report success.
"""

import pytest
from nbgrader.validator import Validator
from traitlets.config.loader import PyFileConfigLoader

import nbtools
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
    import nbformat

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
