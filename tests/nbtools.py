"""Reading chapter notebooks the way the tests need them: chapters, exercises, cells."""

import copy
import dataclasses
import pathlib
import re

import nbformat

REPO = pathlib.Path(__file__).resolve().parent.parent
SOLUTIONS = REPO / "solutions"
NOTEBOOKS = REPO / "notebooks"
MUTANTS = REPO / "tests" / "mutants"
SOLUTION_BLOCK = re.compile(
    r"^[ \t]*### BEGIN SOLUTION\n(.*?)^[ \t]*### END SOLUTION[ \t]*\n?", re.S | re.M
)
HIDDEN_BLOCK = re.compile(
    r"^[ \t]*### BEGIN HIDDEN TESTS\n(.*?)^[ \t]*### END HIDDEN TESTS[ \t]*\n?",
    re.S | re.M,
)


def chapter_ids() -> list[str]:
    return sorted(
        p.parent.name
        for p in SOLUTIONS.glob("[0-9][0-9]_*/*.ipynb")
        if p.stem == p.parent.name
    )


def solution_path(chapter: str) -> pathlib.Path:
    return SOLUTIONS / chapter / f"{chapter}.ipynb"


def student_path(chapter: str) -> pathlib.Path:
    return NOTEBOOKS / chapter / f"{chapter}.ipynb"


def load(path) -> nbformat.NotebookNode:
    return nbformat.read(str(path), as_version=4)


def meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def is_solution(cell) -> bool:
    return bool(meta(cell).get("solution"))


def is_grade(cell) -> bool:
    return bool(meta(cell).get("grade"))


def setup_index(nb) -> int:
    found = [i for i, c in enumerate(nb.cells) if meta(c).get("grade_id") == "setup"]
    assert len(found) == 1, (
        f"expected exactly one cell with grade_id 'setup', found {len(found)}"
    )
    return found[0]


@dataclasses.dataclass
class Exercise:
    name: str  # grade_id of the solution cell
    solution: int  # index of the solution cell
    tasks: list  # indices of its task cells (just before the solution cell)
    tests: list  # indices of its grade cells (after it, up to the next solution cell)

    def points(self, nb) -> float:
        return sum(float(meta(nb.cells[i]).get("points", 0)) for i in self.tests)


def exercises(nb) -> list[Exercise]:
    found: list[Exercise] = []
    for i, cell in enumerate(nb.cells):
        if is_solution(cell):
            tasks, j = [], i - 1
            while j >= 0 and meta(nb.cells[j]).get("grade_id", "").startswith("task_"):
                tasks.insert(0, j)
                j -= 1
            found.append(Exercise(meta(cell)["grade_id"], i, tasks, []))
        elif is_grade(cell) and found:
            found[-1].tests.append(i)
    return found


def mini_notebook(nb, exercise: Exercise, solution_source: str | None = None):
    """The setup cell plus one exercise's cells, optionally with another answer in the solution cell."""
    cells = [
        copy.deepcopy(nb.cells[i])
        for i in [setup_index(nb), *exercise.tasks, exercise.solution, *exercise.tests]
    ]
    small = copy.deepcopy(nb)
    small.cells = cells
    if solution_source is not None:
        for cell in cells:
            if meta(cell).get("grade_id") == exercise.name:
                cell.source = solution_source
    return small


class Kernel:
    """One IPython kernel reused for many small runs (mutants, stubs), reset between them.

    Starting a kernel and importing PyTorch costs seconds; a `%reset -f` costs
    milliseconds, and the next run re-executes the setup cell in a clean namespace.
    """

    def __init__(self, cwd: pathlib.Path):
        from jupyter_client.manager import start_new_kernel

        self.km, self.kc = start_new_kernel(kernel_name="python3", cwd=str(cwd))

    def run_cell(self, cell, timeout: int = 120) -> None:
        """Execute a code cell and store its outputs in it, as nbclient would."""
        from nbformat.v4 import output_from_msg

        outputs = []

        def hook(msg):
            if msg["msg_type"] in ("stream", "error", "execute_result", "display_data"):
                outputs.append(output_from_msg(msg))

        self.kc.execute_interactive(
            cell.source, timeout=timeout, output_hook=hook, allow_stdin=False
        )
        cell.outputs = outputs

    def run(self, nb, timeout: int = 120):
        """Reset the namespace, then run every code cell of ``nb`` (errors stay in the outputs)."""
        self.kc.execute_interactive(
            "%reset -f", timeout=30, output_hook=lambda msg: None
        )
        for cell in nb.cells:
            if cell.cell_type == "code":
                self.run_cell(cell, timeout)
        return nb

    def close(self) -> None:
        self.kc.stop_channels()
        self.km.shutdown_kernel(now=True)


def grade_cells(nb) -> dict:
    """grade_id -> (score, max_score), scored by nbgrader's own rule."""
    from nbgrader.utils import determine_grade

    return {meta(c)["grade_id"]: determine_grade(c) for c in nb.cells if is_grade(c)}


def error_messages(nb, grade_id: str) -> list[str]:
    cell = next(c for c in nb.cells if meta(c).get("grade_id") == grade_id)
    return [
        f"{o.get('ename')}: {o.get('evalue')}"
        for o in cell.get("outputs", [])
        if o.get("output_type") == "error"
    ]
