"""The benchmarks (bench/run.py, `make bench`) cannot rot: the chapters' code they take by name
still exists and still agrees with PyTorch, the driver's quick mode runs (all of its
sections) and writes the JSON the book's page reads, and the committed bench/results.json has
that structure."""

import json
import math
import subprocess
import sys

import pytest

import nbtools

BENCH = nbtools.REPO / "bench"
sys.path.insert(0, str(BENCH))

import ratios  # noqa: E402  (bench/ is not a package)

MACHINE_KEYS = {"cores", "cpu_model", "numpy", "torch", "blas", "bench_threads"}
RATIO_KEYS = {"name", "code", "sizes", "numpy_s", "torch_s", "ratio", "within_target"}
RATIO_KEYS |= {"outputs_equal", "max_abs_difference", "note"}


def check_results(results):
    """The structure that book/_ext/benchpage.py renders; returns a list of problems."""
    problems = []
    for key in ("date", "quick", "machine", "load_before", "load_after", "sections"):
        if key not in results:
            problems.append(f"no {key!r}")
    problems += [
        f"machine has no {k!r}" for k in MACHINE_KEYS - set(results.get("machine", {}))
    ]
    if len(results.get("load_before", [])) != 3:
        problems.append("load_before is not os.getloadavg()'s three numbers")
    for row in results.get("ratios", []):
        missing = RATIO_KEYS - set(row)
        if missing:
            problems.append(f"{row.get('name')}: no {sorted(missing)}")
            continue
        if row["outputs_equal"] is not True:
            problems.append(f"{row['name']}: outputs not checked equal")
        if not (row["numpy_s"] > 0 and row["torch_s"] > 0):
            problems.append(f"{row['name']}: a time is not positive")
        elif not math.isclose(row["ratio"], row["numpy_s"] / row["torch_s"]):
            problems.append(f"{row['name']}: ratio is not numpy_s / torch_s")
    for row in results.get("notebooks", []):
        for key in ("chapter", "wall_s", "cpu_s", "budget_s", "slowest_cells"):
            if key not in row:
                problems.append(f"notebook row {row.get('chapter')}: no {key!r}")
    grading = results.get("grading")
    if grading is not None and grading.get("scores_equal") is not True:
        problems.append("grading: scores not checked equal to plain nbgrader's")
    return problems


@pytest.mark.parametrize("name", list(ratios.BENCHMARKS))
def test_benchmark_code_still_in_the_chapter_and_equal_to_pytorch(name):
    """Takes the chapter's definitions by name and checks NumPy == PyTorch (no timing)."""
    case = ratios.BENCHMARKS[name](quick=True)
    assert case["diff"] < 1e-6, f"{name}: outputs differ by {case['diff']}"


def test_committed_results_have_the_structure_the_book_page_reads():
    results = json.loads((BENCH / "results.json").read_text())
    assert not check_results(results), check_results(results)
    assert {r["name"] for r in results["ratios"]} == set(ratios.BENCHMARKS), (
        "bench/results.json is older than bench/ratios.py: run `make bench` (or QUICK=1)"
    )


@pytest.mark.slow
def test_quick_bench_runs_and_writes_results(tmp_path):
    """`make bench QUICK=1` end to end, every quick section: the ratios, chapter 01's notebook
    timed against its budget, and its grading by plain nbgrader and by `make grade`'s grader
    with equal scores. About 2.7 minutes on a quiet 2-core machine."""
    out = tmp_path / "results.json"
    done = subprocess.run(
        [sys.executable, str(BENCH / "run.py"), "--quick", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    results = json.loads(out.read_text())
    assert not check_results(results), check_results(results)
    assert results["quick"] is True
    assert [r["name"] for r in results["ratios"]] == list(ratios.BENCHMARKS)
    import run as bench_run

    notebook_rows = results["notebooks"]
    assert [r["chapter"] for r in notebook_rows] == [bench_run.QUICK_CHAPTER]
    assert notebook_rows[0]["errors"] == [], notebook_rows[0]["errors"]
    assert notebook_rows[0]["wall_s"] > 0 and notebook_rows[0]["slowest_cells"]
    grading = results["grading"]
    assert grading["submissions"] == 2 and grading["grader"], grading
    for heading in ("from scratch vs PyTorch CPU", "solution notebook", "all of them"):
        assert heading in done.stdout, f"the printed table has no {heading!r}"


def test_the_page_tells_other_work_from_the_benchmarks_own():
    sys.path.insert(0, str(nbtools.REPO / "book" / "_ext"))
    from benchpage import busy_with_other_work

    def run(before, between, after):
        return dict(
            machine=dict(cores=2, bench_threads=1),
            load_before=[before],
            load_between_sections=between,
            load_after=[after],
        )

    # this run's own load: 1 process, 2 in the grading section (the third reading)
    assert not busy_with_other_work(run(0.8, [0.9, 1.1, 1.5, 1.0, 1.0], 1.0))
    assert busy_with_other_work(run(2.4, [0.9, 1.1, 1.5, 1.0, 1.0], 1.0))  # before
    assert busy_with_other_work(run(0.8, [2.4, 1.1, 1.5, 1.0, 1.0], 1.0))  # ratios
    assert busy_with_other_work(run(0.8, [0.9, 1.1, 1.5, 1.0, 1.0], 2.6))  # after
