"""How fast is this course? The one benchmark driver: `make bench` (everything) or `make bench QUICK=1`.

    .venv/bin/python bench/run.py [--quick] [--sections ratios,notebooks,...] [--out FILE]
                                  [--lm-minutes 10] [--grading-count 20]

Writes bench/results.json (or --out) and prints a table. Sections, each a module of bench/:

  ratios     chapters' NumPy code against PyTorch on the CPU, outputs checked equal (ratios.py)
  notebooks  each solution notebook's wall and CPU seconds against its budget (notebook_times.py)
  grading    submissions per minute: the grader (1 and 2 workers) against plain nbgrader
             (grading_throughput.py), scores checked equal
  book       cold build, cached rebuild, rebuild after one chapter changed (full mode only)
  lm         chapter 07's transformer trained for --lm-minutes, test bits/char against
             gzip/bz2/xz (full mode only)

Absolute times on a shared machine are noisy; the ratios, measured side by side in one run, are
what to compare between machines. The file records the machine and its load average before
and after, so that a run on a busy machine can be recognised as one.
"""

import argparse
import datetime
import json
import math
import os
import pathlib
import platform
import shutil
import subprocess
import sys
import tempfile
import time

BENCH = pathlib.Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(BENCH))

SECTIONS = ("ratios", "notebooks", "grading", "book", "lm")
QUICK_SECTIONS = ("ratios", "notebooks", "grading")
# the smallest chapter: quick mode's notebook and grading runs
QUICK_CHAPTER = "01_autodiff"


def machine(threads):
    import numpy as np
    import threadpoolctl
    import torch

    model = "unknown"
    try:
        for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    blas = [
        {k: info.get(k) for k in ("internal_api", "version", "num_threads")}
        for info in threadpoolctl.threadpool_info()
    ]
    return dict(
        cores=os.cpu_count(),
        cpu_model=model,
        platform=platform.platform(),
        python=platform.python_version(),
        numpy=np.__version__,
        torch=torch.__version__,
        torch_default_threads=torch.get_num_threads(),
        blas=blas,
        bench_threads=threads,
        gpu=torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
    )


def book_builds():
    """Seconds of three builds of a copy of the book (the repository's _build is not touched)."""
    jb = [str(pathlib.Path(sys.executable).parent / "jupyter-book"), "build"]
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    times = {}
    with tempfile.TemporaryDirectory() as tmp:
        root = pathlib.Path(tmp) / "book"
        root.mkdir()
        for name in ("book", "notebooks", "_config.yml", "_toc.yml", "bench"):
            src = REPO / name
            (shutil.copytree if src.is_dir() else shutil.copy2)(src, root / name)

        def build(label):
            start = time.perf_counter()
            done = subprocess.run(
                jb + [str(root), "-W", "-n", "--keep-going"],
                env=env,
                capture_output=True,
                text=True,
            )
            assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
            times[label] = time.perf_counter() - start

        build("cold_s")  # executes every chapter's lecture cells
        build("cached_no_change_s")
        # One chapter's text changes (a markdown cell): its page is rebuilt, nothing runs again.
        page = root / "notebooks" / "10_debugging" / "10_debugging.ipynb"
        nb = json.loads(page.read_text())
        cell = next(c for c in nb["cells"] if c["cell_type"] == "markdown")
        cell["source"] = ["".join(cell["source"]) + "\n\n(changed for the benchmark)"]
        page.write_text(json.dumps(nb))
        build("one_chapter_changed_s")
    times["changed"] = (
        "one markdown cell of 10_debugging (no code cell: no re-execution)"
    )
    return times


def language_model(minutes):
    """Chapter 07's GPT trained for about `minutes` on the character benchmark (its train_lm)."""
    import numpy as np  # noqa: F401 (train_lm returns NumPy arrays)
    import torch
    from chapter_code import load

    import dlcourse

    bench = dlcourse.char_benchmark()
    train_ids = torch.tensor(bench.encode(bench.train))
    test_ids = torch.tensor(bench.encode(bench.test))
    context = 48
    names = ["rotate", "CausalConv", "CausalSelfAttention", "SquaredReLU", "Block"]
    names += ["GPT", "random_windows", "orthogonalize", "Muon", "make_optimizers"]
    names += ["train_lm", "bits_per_char_of", "n_params", "STEPS", "BATCH", "CONTEXT"]
    names += ["GPT_LR", "GPT_MUON_LR"]
    ns = load(
        "07_attention", names, train_ids=train_ids, V=len(bench.vocab), CONTEXT=context
    )
    with dlcourse.one_thread():
        torch.manual_seed(0)
        probe = ns["GPT"](len(bench.vocab), rope=True)
        start = time.perf_counter()
        rates = dict(lr=ns["GPT_LR"], muon_lr=ns["GPT_MUON_LR"])
        ns["train_lm"](probe, steps=50, **rates)
        per_step = (time.perf_counter() - start) / 50
        steps = max(100, int(minutes * 60 / per_step))
        torch.manual_seed(0)
        gpt = ns["GPT"](len(bench.vocab), rope=True)
        start = time.perf_counter()
        losses = ns["train_lm"](gpt, steps=steps, **rates)
        seconds = time.perf_counter() - start
        bpc = ns["bits_per_char_of"](gpt, test_ids)
    return dict(
        model=f"chapter 07's GPT (RoPE, QK-norm, causal convolutions on its input and on q, k, v, squared ReLU; Muon), {ns['n_params'](gpt):,} parameters",
        chapter_steps=ns["STEPS"],
        steps=steps,
        train_seconds=seconds,
        final_train_loss_bits=float(losses[-50:].mean() / math.log(2)),
        test_bits_per_char=bpc,
        compressors_bits_per_char=dlcourse.charbench.compressors(bench.test),
        test_characters=len(bench.test),
    )


def print_table(results):
    m = results["machine"]
    print(
        f"\n{results['date']}  {m['cores']} cores, {m['cpu_model']}; torch {m['torch']}, "
        f"numpy {m['numpy']}, {m['bench_threads']} thread(s); "
        f"load average {results['load_before'][0]:.1f} before, {results['load_after'][0]:.1f} after; "
        f"{'quick' if results['quick'] else 'full'} mode"
    )
    if "ratios" in results:
        print(
            f"\n{'from scratch vs PyTorch CPU':42s} {'NumPy ms':>9s} {'PyTorch ms':>10s} {'ratio':>7s}"
        )
        for r in results["ratios"]:
            flag = "" if r["within_target"] else f"  > 5x: {r['note']}"
            print(
                f"{r['name']:42s} {r['numpy_s'] * 1e3:9.2f} {r['torch_s'] * 1e3:10.2f} "
                f"{r['ratio']:6.2f}x{flag}"
            )
    if "notebooks" in results:
        print(
            f"\n{'solution notebook':20s} {'wall s':>7s} {'CPU s':>7s} {'budget s':>8s}  slowest cell (CPU s)"
        )
        for r in results["notebooks"]:
            slow = r["slowest_cells"][0] if r["slowest_cells"] else {}
            print(
                f"{r['chapter']:20s} {r['wall_s']:7.1f} {r['cpu_s']:7.1f} {r['budget_s']:8.0f}  "
                f"{slow.get('cpu_s', 0):.1f} s: {slow.get('first_line', '')}"
                + ("" if r["within_budget"] else "  OVER BUDGET")
            )
        total = results["notebooks_total"]
        print(
            f"{'all of them':20s} {total['wall_s']:7.1f} {total['cpu_s']:7.1f} {total['budget_s']:8.0f}"
        )
    if "grading" in results:
        from grading_throughput import report

        print()
        report(results["grading"])
    if "book" in results:
        b = results["book"]
        print(
            f"\nbook: cold build {b['cold_s']:.0f} s, cached rebuild {b['cached_no_change_s']:.0f} s, "
            f"after one chapter changed {b['one_chapter_changed_s']:.0f} s"
        )
    if "lm" in results:
        lm = results["lm"]
        comp = ", ".join(
            f"{k} {v:.2f}" for k, v in lm["compressors_bits_per_char"].items()
        )
        print(
            f"\nlanguage model: {lm['model']}, {lm['steps']} steps in {lm['train_seconds']:.0f} s: "
            f"test {lm['test_bits_per_char']:.3f} bits/char ({comp})"
        )


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="reduced sizes and sections")
    p.add_argument("--sections", help=f"comma-separated subset of {','.join(SECTIONS)}")
    p.add_argument("--out", type=pathlib.Path, default=BENCH / "results.json")
    p.add_argument(
        "--threads", type=int, default=1, help="CPU threads for NumPy and PyTorch"
    )
    p.add_argument("--lm-minutes", type=float, default=10.0)
    p.add_argument("--grading-count", type=int, help="submissions (quick 2, full 20)")
    args = p.parse_args(argv)
    sections = (
        args.sections.split(",")
        if args.sections
        else (QUICK_SECTIONS if args.quick else SECTIONS)
    )
    unknown = set(sections) - set(SECTIONS)
    if unknown:
        p.error(f"unknown sections {sorted(unknown)}; choose from {SECTIONS}")

    # Every kernel and grader this run starts uses the same threads as the timings (the test
    # suite and the grader use one): on 2 busy cores more threads only contend, and chapter
    # 05's training loop can then run past the 300 s cell limit.
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ.setdefault(var, str(args.threads))
    import torch
    from threadpoolctl import threadpool_limits

    results = dict(
        date=datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        quick=args.quick,
        sections=list(sections),
        machine=machine(args.threads),
        load_before=list(os.getloadavg()),
        # 1-minute load average after each section: a busy spell in the middle shows here
        load_between_sections=[],
    )
    start = time.perf_counter()
    if "ratios" in sections:
        import ratios

        saved = torch.get_num_threads()
        torch.set_num_threads(args.threads)
        try:
            with threadpool_limits(limits=args.threads):
                results["ratios"] = ratios.run(quick=args.quick)
        finally:
            torch.set_num_threads(saved)
        results["ratio_target"] = ratios.TARGET
    results["load_between_sections"].append(os.getloadavg()[0])
    if "notebooks" in sections:
        import notebook_times

        rows = notebook_times.measure([QUICK_CHAPTER] if args.quick else None)
        results["notebooks"] = rows
        results["notebooks_total"] = dict(
            wall_s=sum(r["wall_s"] for r in rows),
            cpu_s=sum(r["cpu_s"] for r in rows),
            budget_s=notebook_times.COURSE_BUDGET_S,
            chapters=len(rows),
        )
    results["load_between_sections"].append(os.getloadavg()[0])
    if "grading" in sections:
        import grading_throughput

        # Quick mode: 2 submissions and 2 workers only, the notebook timed alone once (each of
        # these runs executes chapter 01 about 15 s); full mode compares 1 and 2 workers on 20.
        results["grading"] = grading_throughput.measure(
            QUICK_CHAPTER,
            args.grading_count or (2 if args.quick else 20),
            workers=(2,) if args.quick else (1, 2),
            execution_repeats=1 if args.quick else 2,
        )
    results["load_between_sections"].append(os.getloadavg()[0])
    if "book" in sections:
        results["book"] = book_builds()
    results["load_between_sections"].append(os.getloadavg()[0])
    if "lm" in sections:
        results["lm"] = language_model(args.lm_minutes)
    results["load_between_sections"].append(os.getloadavg()[0])
    results["bench_seconds"] = time.perf_counter() - start
    results["load_after"] = list(os.getloadavg())
    args.out.write_text(json.dumps(results, indent=1) + "\n")
    print_table(results)
    print(f"\nwritten: {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
