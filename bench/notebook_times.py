"""Time each solution notebook end to end on this machine and compare with the budget.

    make bench        (or: .venv/bin/python bench/notebook_times.py)

Budget (COURSE_DESIGN): each chapter at most 60-90 s on a 2-core CPU, the whole course 12 min.
"""

import pathlib
import sys
import time

import nbformat
from nbclient import NotebookClient

REPO = pathlib.Path(__file__).resolve().parent.parent
BUDGET_S = 60.0


def execute_seconds(path: pathlib.Path) -> float:
    """Wall-clock seconds to execute the notebook at ``path`` top to bottom, every cell
    (skip-execution tags ignored), with its folder as the working directory."""
    nb = nbformat.read(str(path), as_version=4)
    start = time.perf_counter()
    NotebookClient(
        nb,
        timeout=600,
        kernel_name="python3",
        skip_cells_with_tag="dlcourse-never-skip",
        resources={"metadata": {"path": str(path.parent)}},
    ).execute()
    return time.perf_counter() - start


def main() -> int:
    total, over = 0.0, []
    for path in sorted(REPO.glob("solutions/[0-9][0-9]_*/*.ipynb")):
        seconds = execute_seconds(path)
        total += seconds
        print(
            f"{path.parent.name:20s} {seconds:6.1f} s   ({seconds / BUDGET_S:.2f} of the {BUDGET_S:.0f} s budget)"
        )
        if seconds > BUDGET_S:
            over.append(path.parent.name)
    print(f"{'all chapters':20s} {total:6.1f} s")
    if over:
        print(f"over budget: {', '.join(over)}", file=sys.stderr)
    return 1 if over else 0


if __name__ == "__main__":
    raise SystemExit(main())
