"""A two-chapter course small enough to grade in seconds, for the grader's own tests.

Chapter 99_tiny: `double(x)` (test_double, 5 points) and `norm2(v)` (test_norm2, 5
points), tested with numpy.testing, numpy.allclose and the course's own helper
dlcourse.relative_error, so that monkeypatching each of them can be tried.
Chapter 98_twin has other grade ids (a notebook of the wrong chapter).
"""

import pathlib

import nbformat

v4 = nbformat.v4


def _meta(**kw):
    return {
        "nbgrader": {
            "schema_version": 3,
            "grade": False,
            "solution": False,
            "locked": False,
            **kw,
        }
    }


def _exercise_cells(name, signature, body, tests, hidden, points):
    return [
        v4.new_markdown_cell(
            f"Write `{name}` ({points} points).",
            metadata=_meta(locked=True, grade_id=f"task_{name}"),
        ),
        v4.new_code_cell(
            f"{signature}\n    ### BEGIN SOLUTION\n    {body}\n    ### END SOLUTION",
            metadata={
                **_meta(solution=True, grade_id=name),
                "tags": ["skip-execution"],
            },
        ),
        v4.new_code_cell(
            f"{tests}\n### BEGIN HIDDEN TESTS\n{hidden}\n### END HIDDEN TESTS",
            metadata={
                **_meta(
                    grade=True, locked=True, grade_id=f"test_{name}", points=points
                ),
                "tags": ["skip-execution"],
            },
        ),
    ]


HIDDEN_DOUBLE = 'assert dlcourse.relative_error(double(np.linspace(-3, 3, 7)), 2 * np.linspace(-3, 3, 7)) < 1e-12, "double is wrong on negative numbers"'


def tiny_chapter(prefix=""):
    nb = v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.cells = [
        v4.new_markdown_cell("# A tiny chapter"),
        v4.new_code_cell(
            "import numpy as np\nimport dlcourse",
            metadata=_meta(locked=True, grade_id="setup"),
        ),
        v4.new_markdown_cell("Some lecture text."),
        *_exercise_cells(
            f"{prefix}double",
            f"def {prefix}double(x):",
            "return 2 * np.asarray(x, dtype=float)",
            f"np.testing.assert_allclose({prefix}double(np.arange(3.0)), [0.0, 2.0, 4.0], "
            f'err_msg="{prefix}double(x) must return 2 * x")',
            HIDDEN_DOUBLE.replace("double(", f"{prefix}double("),
            5,
        ),
        *_exercise_cells(
            f"{prefix}norm2",
            f"def {prefix}norm2(v):",
            "return float(np.sqrt(np.sum(np.square(v))))",
            f'assert np.allclose({prefix}norm2([3.0, 4.0]), 5.0), "norm2([3, 4]) must be 5"',
            f'assert abs({prefix}norm2(np.ones(4)) - 2.0) < 1e-12, "norm2 of four ones must be 2"',
            5,
        ),
    ]
    return nb


def write_course(root: pathlib.Path) -> pathlib.Path:
    """solutions/ folder with 99_tiny and 98_twin; returns it."""
    for chapter, prefix in [("99_tiny", ""), ("98_twin", "twin_")]:
        (root / chapter).mkdir(parents=True, exist_ok=True)
        nbformat.write(tiny_chapter(prefix), str(root / chapter / f"{chapter}.ipynb"))
    return root


def answer(nb, grade_id, source):
    """A copy of ``nb`` whose solution cell ``grade_id`` holds ``source``."""
    nb = nbformat.reads(nbformat.writes(nb), as_version=4)
    for cell in nb.cells:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == grade_id:
            cell.source = source
            return nb
    raise KeyError(grade_id)
