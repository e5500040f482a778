"""The student's Validate button with the course's verdicts (a JupyterLab server extension).

nbgrader's Validate fails a test cell that printed anything to stderr, so a RuntimeWarning
from a student's float32 answer failed the cell in Validate while `make grade` passed it.
`CourseValidator` is nbgrader's Validator, except that every executed test cell gets the
grader's own last word first (grader.execute.finish_test_cell): stderr does not fail a
test, an error does, and a blank answer says so in words. lab/lab_config.py loads this
extension in place of nbgrader's validate_assignment; the tests use CourseValidator directly.
"""

from nbgrader.validator import Validator

from .execute import finish_test_cell


class CourseValidator(Validator):
    def _preprocess(self, nb):
        nb = super()._preprocess(nb)
        for cell in nb.cells:
            finish_test_cell(cell)
        return nb


def _jupyter_server_extension_points():
    return [{"module": "grader.validate"}]


def _load_jupyter_server_extension(serverapp):
    from nbgrader.server_extensions import validate_assignment
    from nbgrader.server_extensions.validate_assignment import handlers

    # The handler builds `Validator(config=...)` from its module's namespace on every click.
    handlers.Validator = CourseValidator
    validate_assignment.load_jupyter_server_extension(serverapp)
