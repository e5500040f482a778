"""Course run time: each solution notebook's wall and CPU seconds against its budget.

    .venv/bin/python bench/notebook_times.py [CHAPTER ...]     (bench/run.py calls measure())

Each notebook runs once the way the test suite runs it (tests/nbtools.py, run_chapter: every
cell, then the blank student answers against the tests), in a fresh kernel in its folder.
Budgets (COURSE_DESIGN): the whole course in 12 minutes on 2 cores.
"""

import pathlib
import sys
import time

import nbformat
from nbclient import NotebookClient

REPO = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
import nbtools  # noqa: E402

# The course design's budgets on a quiet 2-core CPU (chapter 07's own issue also allows 180 s:
# its language model takes most of it); every other chapter: 90 s.
BUDGET_S = {"07_attention": 180.0, "08_architectures": 120.0, "10_debugging": 60.0}
DEFAULT_BUDGET_S = 90.0
COURSE_BUDGET_S = 12 * 60.0


def budget(chapter):
    return BUDGET_S.get(chapter, DEFAULT_BUDGET_S)


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


def _first_line(cell):
    lines = [line for line in cell.source.strip().splitlines() if line.strip()]
    return lines[0][:70] if lines else ""


def measure(chapters=None, slowest=3):
    """One row per chapter: wall and CPU seconds, budget, errors, the slowest cells by CPU."""
    rows = []
    for chapter in chapters or nbtools.chapter_ids():
        try:
            run = nbtools.run_chapter(chapter)
        # a cell past its time limit, a dead kernel: record it and go on
        except Exception as error:
            rows.append(
                dict(
                    chapter=chapter,
                    wall_s=float("nan"),
                    cpu_s=float("nan"),
                    budget_s=budget(chapter),
                    within_budget=False,
                    errors=[f"{type(error).__name__}: {str(error)[:300]}"],
                    slowest_cells=[],
                )
            )
            continue
        cpu = run.cell_cpu_seconds
        order = sorted(range(len(cpu)), key=lambda i: -cpu[i])[:slowest]
        rows.append(
            dict(
                chapter=chapter,
                wall_s=run.seconds,
                cpu_s=sum(cpu),
                budget_s=budget(chapter),
                within_budget=run.seconds <= budget(chapter),
                errors=run.errors(),
                slowest_cells=[
                    dict(
                        cell=i,
                        grade_id=nbtools.meta(run.solution.cells[i]).get("grade_id"),
                        first_line=_first_line(run.solution.cells[i]),
                        cpu_s=cpu[i],
                        wall_s=run.cell_seconds[i],
                    )
                    for i in order
                ],
            )
        )
    return rows


def main(argv) -> int:
    rows = measure(argv or None)
    for r in rows:
        print(
            f"{r['chapter']:20s} wall {r['wall_s']:6.1f} s  CPU {r['cpu_s']:6.1f} s  "
            f"(budget {r['budget_s']:.0f} s{'' if r['within_budget'] else ', OVER'})"
        )
    total = sum(r["wall_s"] for r in rows)
    print(
        f"{'all':20s} wall {total:6.1f} s  (budget {COURSE_BUDGET_S:.0f} s for the course)"
    )
    return 0 if all(r["within_budget"] and not r["errors"] for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
