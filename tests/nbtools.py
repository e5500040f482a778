"""Reading chapter notebooks the way the tests need them: chapters, exercises, cells."""

import copy
import dataclasses
import json
import os
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

# A chapter's whole run may use at most this many CPU seconds (one thread): `make test` must stay within
# 30 minutes on 2 cores with ten chapters, and a chapter costs about one run plus its exercises.
CHAPTER_CPU_BUDGET_S = 150
# Chapter 07 trains three language models for its central comparison (a GPT, an LSTM, and the LSTM
# with AdamW alone; issue 15 allows it 180 s on 2 cores). Six seeds measured 126-129 CPU s, two
# kernels side by side, and the suite 138 CPU s alone; 175 leaves 1.25x for a busy machine.
# Chapter 10 closes the course with small models only; issue 18 caps it at 60 s.
CHAPTER_CPU_BUDGET_OVERRIDES_S = {"07_attention": 175, "10_debugging": 60}


# Kernels that tests run side by side (whole notebooks: conftest's chapter_runs.prefetch; exercise
# runs: test_chapters.exercise_runs). Every kernel uses one thread (conftest.py), so on 2 cores two
# take about half the wall time of one after the other. DLCOURSE_TEST_KERNELS=1 runs one at a time
# (to time a chapter alone, or on a 1-core machine, where that is the default).
PARALLEL_KERNELS = max(
    1, int(os.environ.get("DLCOURSE_TEST_KERNELS", min(2, os.cpu_count() or 1)))
)


def cpu_budget_s(chapter: str) -> float:
    """The CPU seconds the chapter's whole solution run may use (test_chapters.py asserts it)."""
    return CHAPTER_CPU_BUDGET_OVERRIDES_S.get(chapter, CHAPTER_CPU_BUDGET_S)


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


# -- one execution of a whole chapter ------------------------------------------------------------
# The only place in the test suite that executes a chapter's whole notebook (tests that use it are
# marked `slow`; `make test-fast` deselects them). One run serves three purposes:
#   1. the solution notebook top to bottom, every cell, exercise cells included (what nbval did):
#      no cell may raise and every grade cell must pass *in the context of the whole notebook*;
#   2. the blank student answers in that same context (the lecture's names and state), each
#      followed by its grade cells with the hidden tests: every grade cell must score 0;
#   3. the book's outputs: the lecture cells of the student edition are the solution's lecture
#      cells, run in the same order on the same state, so their outputs are written into the
#      book's execution cache (seed_book_cache) and `make book` does not execute them again.
# 2 and 3 need every exercise after the chapter's last lecture code cell (true of every chapter
# so far): a chapter that interleaves them gets check 1 only, and the book executes it itself.

_STATE_SAVE = """
import random, sys
state = {"ns": dict(ip.user_ns), "random": random.getstate()}
if "numpy" in sys.modules:
    state["numpy"] = sys.modules["numpy"].random.get_state()
if "torch" in sys.modules:
    torch = sys.modules["torch"]
    state["torch"] = (torch.random.get_rng_state(), torch.get_default_dtype(), torch.is_grad_enabled())
ip._dlcourse_test_state = state
"""
_STATE_RESTORE = """
import random, sys
state = ip._dlcourse_test_state
for name in [n for n in ip.user_ns if n not in state["ns"]]:
    del ip.user_ns[name]
ip.user_ns.update(state["ns"])
random.setstate(state["random"])
if "numpy" in state:
    sys.modules["numpy"].random.set_state(state["numpy"])
if "torch" in state:
    torch = sys.modules["torch"]
    torch.random.set_rng_state(state["torch"][0])
    torch.set_default_dtype(state["torch"][1])
    torch.set_grad_enabled(state["torch"][2])
"""
_CPU_HOOKS = """
import time
cpu = ip._dlcourse_test_cpu = []
def pre(info):
    cpu.append({"source": info.raw_cell, "start": time.process_time()})
def post(result):
    if cpu and "seconds" not in cpu[-1]:
        cpu[-1]["seconds"] = time.process_time() - cpu[-1]["start"]
ip.events.register("pre_run_cell", pre)
ip.events.register("post_run_cell", post)
"""
_REPORT = """
import json, re
try:  # the kernel's peak address space: what the grader's memory limit (RLIMIT_AS) bounds
    peak = int(re.search(r"VmPeak:\\s*(\\d+) kB", open("/proc/self/status").read()).group(1)) / 1024
except (OSError, AttributeError):
    peak = None
print(json.dumps({"cpu": ip._dlcourse_test_cpu, "vm_peak_mb": peak}))
"""
TEST_CELL = (
    "dlcourse_test"  # cell metadata key of the cells the test adds (never in a chapter)
)


def _added_cell(role: str, source: str):
    from nbformat.v4 import new_code_cell

    cell = new_code_cell(source)
    cell.metadata[TEST_CELL] = role
    return cell


def exercise_cells(nb) -> set:
    return {i for ex in exercises(nb) for i in [*ex.tasks, ex.solution, *ex.tests]}


def lecture_code_cells(nb) -> list[int]:
    """Code cells that are neither the setup cell nor part of an exercise (they run in the book)."""
    skip = exercise_cells(nb) | {setup_index(nb)}
    return [
        i for i, c in enumerate(nb.cells) if c.cell_type == "code" and i not in skip
    ]


def exercises_come_last(nb) -> bool:
    ex, lecture = exercise_cells(nb), lecture_code_cells(nb)
    return bool(ex) and (not lecture or max(lecture) < min(ex))


@dataclasses.dataclass
class ChapterRun:
    chapter: str
    solution: nbformat.NotebookNode  # the solution notebook with the outputs of its run
    blank_grades: (
        dict | None
    )  # grade_id -> (score, max) of the blank answers; None if not run
    cell_seconds: list  # seconds per cell of `solution` (0 for markdown)
    cell_cpu_seconds: (
        list  # CPU seconds of the kernel per cell (less sensitive to load)
    )
    vm_peak_mb: (
        float | None
    )  # the kernel's peak address space (Linux), None where unknown
    seconds: float  # the whole run, kernel start included
    lecture_seconds: float  # setup + lecture cells: what the book would execute

    def errors(self) -> list[str]:
        found = []
        for i, cell in enumerate(self.solution.cells):
            for out in cell.get("outputs", []):
                if out.get("output_type") == "error":
                    where = (
                        meta(cell).get("grade_id")
                        or f"cell {i} ({cell.source.strip().splitlines()[0][:60]!r})"
                    )
                    found.append(f"{where}: {out.get('ename')}: {out.get('evalue')}")
        return found

    def lecture_failed(self) -> bool:
        lecture = [setup_index(self.solution), *lecture_code_cells(self.solution)]
        return any(
            o.get("output_type") == "error"
            for i in lecture
            for o in self.solution.cells[i].get("outputs", [])
        )


def _cell_seconds(cell) -> float:
    import datetime

    timing = cell.get("metadata", {}).get("execution", {})
    try:
        start = datetime.datetime.fromisoformat(
            timing["iopub.execute_input"].replace("Z", "+00:00")
        )
        end = datetime.datetime.fromisoformat(
            timing["shell.execute_reply"].replace("Z", "+00:00")
        )
    except (KeyError, ValueError):
        return 0.0
    return (end - start).total_seconds()


def run_chapter(chapter: str, timeout: int = 300) -> ChapterRun:
    """Execute the chapter once, as described above (nbclient, the kernel in the chapter's folder)."""
    import os
    import time

    from nbclient import NotebookClient

    solution = load(solution_path(chapter))
    student = load(student_path(chapter))
    n = len(solution.cells)
    run = copy.deepcopy(solution)
    blank = exercises_come_last(solution)
    if blank:
        first = min(exercise_cells(solution))
        stubs = {
            meta(c).get("grade_id"): c.source for c in student.cells if is_solution(c)
        }
        tail = [
            _added_cell("restore", f"exec({_STATE_RESTORE!r}, {{'ip': get_ipython()}})")
        ]
        for ex in exercises(solution):
            tail.append(_added_cell("blank", stubs[ex.name]))
            for i in ex.tests:
                cell = copy.deepcopy(solution.cells[i])
                cell.metadata[TEST_CELL] = "blank"
                tail.append(cell)
        run.cells = (
            run.cells[:first]
            + [_added_cell("save", f"exec({_STATE_SAVE!r}, {{'ip': get_ipython()}})")]
            + run.cells[first:]
            + tail
        )
    run.cells = (
        [_added_cell("cpu", f"exec({_CPU_HOOKS!r}, {{'ip': get_ipython()}})")]
        + run.cells
        + [_added_cell("report", f"exec({_REPORT!r}, {{'ip': get_ipython()}})")]
    )
    # The book runs its kernels with the inline backend (the Makefile unsets MPLBACKEND): so does
    # this run, so that the figures it seeds into the book are the book's own.
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    client = NotebookClient(
        run,
        timeout=timeout,
        kernel_name="python3",
        allow_errors=True,
        skip_cells_with_tag="dlcourse-test-never-skip",
        record_timing=True,
        resources={"metadata": {"path": str(solution_path(chapter).parent)}},
    )
    start = time.perf_counter()
    client.execute(env=env)
    seconds = time.perf_counter() - start
    report = run.cells[-1]
    text = "".join(
        o.get("text", "") for o in report.outputs if o.get("output_type") == "stream"
    )
    reported = json.loads(text) if text.strip() else {"cpu": [], "vm_peak_mb": None}
    entries = reported["cpu"]
    for cell in run.cells:
        if (
            cell.cell_type == "code"
            and cell.source.strip()
            and entries
            and entries[0]["source"] == cell.source
        ):
            cell.metadata[TEST_CELL + "_cpu"] = entries.pop(0).get("seconds", 0.0)
    ours = [c for c in run.cells if TEST_CELL not in c.metadata]
    assert len(ours) == n
    executed = copy.deepcopy(solution)
    executed.cells = ours
    blank_grades = None
    if blank:
        blank_nb = copy.deepcopy(solution)
        blank_nb.cells = [c for c in run.cells if c.metadata.get(TEST_CELL) == "blank"]
        blank_grades = grade_cells(blank_nb)
    cell_seconds = [_cell_seconds(c) for c in executed.cells]
    cpu_seconds = [c.metadata.pop(TEST_CELL + "_cpu", 0.0) for c in executed.cells]
    lecture = [setup_index(solution), *lecture_code_cells(solution)]
    return ChapterRun(
        chapter,
        executed,
        blank_grades,
        cell_seconds,
        cpu_seconds,
        reported["vm_peak_mb"],
        seconds,
        sum(cell_seconds[i] for i in lecture),
    )


def book_edition(run: ChapterRun):
    """The student edition with the outputs the book would show, or None where the run cannot stand in
    for the book's own execution (exercises interleaved with the lecture, a lecture cell that failed,
    a lecture cell that differs between the two editions)."""
    if not exercises_come_last(run.solution) or run.lecture_failed():
        return None
    student = load(student_path(run.chapter))
    executed = {c.get("id"): c for c in run.solution.cells}
    skip = {student.cells[i].get("id") for i in exercise_cells(student)}
    for cell in student.cells:
        if cell.cell_type != "code" or cell.get("id") in skip:
            continue
        source = executed.get(cell.get("id"))
        if source is None or source.source != cell.source:
            return None
        cell.outputs = copy.deepcopy(source.outputs)
        cell.execution_count = source.execution_count
    return student


BOOK_CACHE = REPO / "_build" / ".jupyter_cache"


def seed_book_cache(run: ChapterRun) -> bool:
    """Store the run's lecture outputs in the book's execution cache (jupyter-cache, which `make book`
    reads with execute_notebooks: cache). Returns False where the run cannot stand in for the book."""
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    edition = book_edition(run)
    if edition is None:
        return False
    cache = get_cache(str(BOOK_CACHE))
    cache.cache_notebook_bundle(
        CacheBundleIn(
            edition,
            str(student_path(run.chapter)),
            data={"execution_seconds": run.lecture_seconds},
        ),
        check_validity=False,
        overwrite=True,
    )
    return True
