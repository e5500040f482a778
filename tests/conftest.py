import os
import pathlib
import sys

import pytest

# Notebook kernels and subprocesses must find the venv's tools (nbgrader calls `alembic`)
# and must never open a plot window.
REPO = pathlib.Path(__file__).resolve().parent.parent
os.environ["PATH"] = (
    str(pathlib.Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", "")
)
os.environ.setdefault("MPLBACKEND", "Agg")
# Every kernel the tests start (notebook runs, the book's, the grader's) uses one BLAS/OpenMP thread,
# as the grader's kernels do: on 2 cores, next to pytest and a second kernel, more threads only
# contend (a training loop of chapter 05 took 41 s with two threads on a loaded machine, 1.6 s with one).
for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

import nbtools  # noqa: E402

# Fixtures that execute whole notebooks (directly, or through `make book` / `make grade`). Every test
# that uses one must be marked `slow`, so that `make test-fast` (-m "not slow") runs none of them.
WHOLE_NOTEBOOK_FIXTURES = {"chapter_runs", "book", "graded", "server"}


def pytest_collection_modifyitems(config, items):
    unmarked = [
        item.nodeid
        for item in items
        if WHOLE_NOTEBOOK_FIXTURES & set(getattr(item, "fixturenames", ()))
        and not item.get_closest_marker("slow")
    ]
    if unmarked:
        raise pytest.UsageError(
            "these tests execute whole notebooks but are not marked @pytest.mark.slow "
            f"(make test-fast would run them): {unmarked}"
        )


@pytest.fixture(scope="session")
def chapter_runs():
    """``chapter_runs(chapter)``: the one execution of that chapter's whole notebook in this session
    (nbtools.run_chapter), shared by the notebook test and the book. ``chapter_runs.prefetch(chapters)``
    executes those not yet run, nbtools.PARALLEL_KERNELS at a time."""
    import concurrent.futures

    runs = {}

    def execute(chapter):
        try:
            return nbtools.run_chapter(chapter)
        except Exception as error:  # a cell time-out or a dead kernel: every user sees the same failure
            return error

    def get(chapter):
        if chapter not in runs:
            runs[chapter] = execute(chapter)
        if isinstance(runs[chapter], Exception):
            raise runs[chapter]
        return runs[chapter]

    def prefetch(chapters):
        # The costliest (by CPU budget) start first, so that the longest run does not come last.
        todo = sorted(
            (c for c in dict.fromkeys(chapters) if c not in runs),
            key=lambda c: -nbtools.cpu_budget_s(c),
        )
        with concurrent.futures.ThreadPoolExecutor(nbtools.PARALLEL_KERNELS) as pool:
            for chapter, run in zip(todo, pool.map(execute, todo)):
                runs[chapter] = run

    get.prefetch = prefetch
    yield get
    _summary.extend(run for run in runs.values() if isinstance(run, nbtools.ChapterRun))
    runs.clear()


@pytest.fixture(scope="session")
def book(chapter_runs):
    """The book, built once per session (test_book.build_book): its pages as text."""
    from test_book import build_book

    return build_book(chapter_runs)


_summary: list = []


def pytest_terminal_summary(terminalreporter):
    """What each chapter's one execution cost: kept visible in every log, CI's included."""
    if not _summary:
        return
    terminalreporter.section("whole-notebook runs (one per chapter)")
    terminalreporter.write_line(
        f"{'chapter':20s} {'wall s':>7s} {'lecture s':>9s} {'CPU s':>7s} "
        f"{'slowest cell CPU s':>18s} {'peak MB':>8s}"
    )
    for run in sorted(_summary, key=lambda r: r.chapter):
        peak = f"{run.vm_peak_mb:8.0f}" if run.vm_peak_mb is not None else f"{'?':>8s}"
        terminalreporter.write_line(
            f"{run.chapter:20s} {run.seconds:7.1f} {run.lecture_seconds:9.1f} "
            f"{sum(run.cell_cpu_seconds):7.1f} {max(run.cell_cpu_seconds):18.1f} {peak}"
        )
