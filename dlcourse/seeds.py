"""Run the chapters with other seeds: a result that holds for one seed only is not a result.

``DLCOURSE_SEED_OFFSET=K`` (a non-negative integer; 0 or unset: the seeds as written)
moves every seed a notebook sets by ``K``: ``dlcourse.seed``, ``random.seed``,
``np.random.seed``, ``np.random.default_rng``, ``torch.manual_seed`` and
``torch.Generator(...).manual_seed``, and so the data splits of the course's loaders
too, which seed themselves through these. ``import dlcourse`` applies it (every setup
cell imports it), so the notebooks need no change.

    make seeds N=5 [CHAPTERS="01_autodiff 02_backprop_init"]

executes each chapter's solution notebook, every cell including the exercises, once
for each offset 1..N and reports every cell that fails: chapter, offset, cell and the
assertion's message. Kernels use one BLAS/OpenMP thread each, as the tests' and the
grader's do, and ``--jobs`` of them (default: 2 on 2 or more cores) run side by side: on
2 cores, two kernels of two threads each contend and run several times slower. It is a
developer's tool (it costs N times the whole course) and never part of ``make test``.
"""

import argparse
import os
import pathlib
import random
import sys
import time

import numpy as np
import torch

ENV = "DLCOURSE_SEED_OFFSET"
_installed = {}


def offset() -> int:
    """The seed offset from the environment (0 when unset)."""
    text = os.environ.get(ENV, "").strip()
    if not text:
        return 0
    try:
        value = int(text)
    except ValueError:
        raise ValueError(
            f"{ENV} must be a non-negative integer, got {text!r}"
        ) from None
    if value < 0:
        raise ValueError(f"{ENV} must be a non-negative integer, got {value}")
    return value


def _moved(seed, k):
    """Integer seeds move by k; None, arrays, SeedSequences and generators are left as they are."""
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
        return int(seed) + k
    return seed


def install(k=None) -> int:
    """Wrap the seeding functions so that every integer seed moves by ``k`` (default: ``offset()``)."""
    k = offset() if k is None else int(k)
    if k == 0 or _installed:
        return _installed.get("k", 0) if _installed else 0
    originals = {
        "random.seed": random.seed,
        "np.random.seed": np.random.seed,
        "np.random.default_rng": np.random.default_rng,
        "torch.manual_seed": torch.manual_seed,
        "torch.Generator": torch.Generator,
    }
    _installed.update(originals, k=k)
    random.seed = lambda a=None, version=2: originals["random.seed"](
        _moved(a, k), version
    )
    np.random.seed = lambda seed=None: originals["np.random.seed"](_moved(seed, k))
    np.random.default_rng = lambda seed=None: originals["np.random.default_rng"](
        _moved(seed, k)
    )
    torch.manual_seed = lambda seed: originals["torch.manual_seed"](_moved(seed, k))

    class Generator(originals["torch.Generator"]):
        """torch.Generator whose manual_seed moves the seed (the C type itself cannot be patched)."""

        def manual_seed(self, seed):
            return super().manual_seed(_moved(seed, k))

    torch.Generator = Generator
    return k


def _cells_failing(path: pathlib.Path, k: int, timeout: int) -> tuple:
    """Execute one solution notebook with offset k: ([(cell index, label, message)], seconds)."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(str(path), as_version=4)
    env = {**os.environ, ENV: str(k)}
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        env.setdefault(var, "1")
    start = time.perf_counter()
    NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        allow_errors=True,
        skip_cells_with_tag="dlcourse-never-skip",  # the exercises run too
        resources={"metadata": {"path": str(path.parent)}},
    ).execute(env=env)
    failures = []
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []) if cell.cell_type == "code" else []:
            if out.get("output_type") == "error":
                gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
                first = next((ln for ln in cell.source.splitlines() if ln.strip()), "")
                label = gid or first[:50]
                message = " ".join(
                    f"{out.get('ename')}: {out.get('evalue', '')}".split()
                )
                failures.append(
                    (i, label, f"{message[:200]} (at: {_failing_line(out)})")
                )
    return failures, time.perf_counter() - start


def _failing_line(error_output) -> str:
    """The line of the cell that raised, from IPython's traceback (the one marked with an arrow)."""
    import re

    plain = [
        re.sub(r"\x1b\[[0-9;]*m", "", frame)
        for frame in error_output.get("traceback", [])
    ]
    for frame in plain[1:2] or plain:
        marked = [ln for ln in frame.splitlines() if ln.lstrip().startswith("---->")]
        if marked:
            return " ".join(marked[-1].split("---->", 1)[1].split())[:120]
    return "?"


def main(argv=None) -> int:
    repo = pathlib.Path(__file__).resolve().parent.parent
    parser = argparse.ArgumentParser(
        prog="python -m dlcourse.seeds", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "chapters", nargs="*", help="chapter ids (default: every chapter)"
    )
    parser.add_argument(
        "--n",
        type=int,
        default=5,
        help="how many other seeds (offsets 1..N), default 5",
    )
    parser.add_argument("--timeout", type=int, default=900, help="seconds per cell")
    parser.add_argument(
        "--jobs",
        type=int,
        default=min(2, os.cpu_count() or 1),
        help="notebooks run side by side (default: 2, or 1 on one core)",
    )
    args = parser.parse_args(argv)
    solutions = repo / "solutions"
    known = sorted(
        p.parent.name
        for p in solutions.glob("[0-9][0-9]_*/*.ipynb")
        if p.stem == p.parent.name
    )
    chapters = args.chapters or known
    unknown = [c for c in chapters if c not in known]
    if unknown or args.n < 1:
        parser.error(
            f"unknown chapter(s) {unknown}; the chapters are {known}"
            if unknown
            else "--n must be >= 1"
        )
    import concurrent.futures
    import threading

    report, printing = [], threading.Lock()

    def run(chapter, k):
        failures, seconds = _cells_failing(
            solutions / chapter / f"{chapter}.ipynb", k, args.timeout
        )
        status = "ok" if not failures else f"{len(failures)} failing cell(s)"
        with printing:  # one run's lines together
            print(
                f"seeds: {chapter} offset {k}: {status} ({seconds:.0f} s)", flush=True
            )
            for i, label, message in failures:
                print(f"seeds:     cell {i} [{label}]: {message}", flush=True)
            report.append((chapter, k, failures))

    runs = [(c, k) for c in chapters for k in range(1, args.n + 1)]
    with concurrent.futures.ThreadPoolExecutor(max(1, args.jobs)) as pool:
        for future in [pool.submit(run, c, k) for c, k in runs]:
            future.result()
    print(f"\nsummary (offsets 1..{args.n}):")
    for chapter in chapters:
        bad = [(k, f) for c, k, f in report if c == chapter and f]
        cells = sorted({(i, label) for _, f in bad for i, label, _ in f})
        print(
            f"  {chapter}: {args.n - len(bad)}/{args.n} offsets pass"
            + (
                f"; failing: {', '.join(f'cell {i} [{label}]' for i, label in cells)}"
                if cells
                else ""
            )
        )
    return 1 if any(f for _, _, f in report) else 0


if __name__ == "__main__":
    sys.exit(main())
