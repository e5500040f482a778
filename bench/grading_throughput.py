"""Grading throughput: plain sequential `nbgrader autograde` against the course's grader.

    .venv/bin/python bench/grading_throughput.py [--chapter 01_autodiff] [--count 20] [--workers 1 2]

(bench/run.py, `make bench`, calls measure() and stores its result.) Builds COUNT submissions
of one chapter (solution, blank student edition and half-answered copies, in turn), grades them
once with nbgrader alone (one process, one after the other, no sandbox) and once with
`python -m grader --workers N` for each N, checks that every run gives the same scores, and prints the speed-up and where the grader's time per submission goes: running
the notebook, the rest of nbgrader's autograde, the feedback page, cleaning the sandbox
between submissions, and the batch's own bookkeeping.
"""

import argparse
import csv
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time

import nbformat

REPO = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
from notebook_times import execute_seconds  # noqa: E402  (bench/ is the script's folder)

import nbtools  # noqa: E402


def submissions(chapter, count, folder):
    solution = nbtools.load(nbtools.solution_path(chapter))
    student = nbtools.load(nbtools.student_path(chapter))
    exercises = nbtools.exercises(solution)
    half = nbformat.reads(nbformat.writes(student), as_version=4)
    answers = {
        ex.name: solution.cells[ex.solution].source
        for ex in exercises[: len(exercises) // 2]
    }
    for cell in half.cells:
        gid = nbtools.meta(cell).get("grade_id")
        if gid in answers:
            cell.source = answers[gid]
    kinds = [solution, student, half]
    for i in range(count):
        (folder / f"s{i:03d}").mkdir(parents=True)
        nbformat.write(kinds[i % 3], str(folder / f"s{i:03d}" / f"{chapter}.ipynb"))


def plain_nbgrader(chapter, subs, course):
    """nbgrader as documented: generate_assignment once, then autograde every student, one by one."""
    (course / "source" / chapter).mkdir(parents=True)
    (course / "source" / chapter / f"{chapter}.ipynb").write_bytes(
        nbtools.solution_path(chapter).read_bytes()
    )
    for student in sorted(p.name for p in subs.iterdir()):
        target = course / "submitted" / student / chapter
        target.mkdir(parents=True)
        (target / f"{chapter}.ipynb").write_bytes(
            (subs / student / f"{chapter}.ipynb").read_bytes()
        )
    common = [
        f"--CourseDirectory.root={course}",
        "--CourseDirectory.source_directory=source",
        "--CourseDirectory.release_directory=release",
        "--CourseDirectory.submitted_directory=submitted",
        "--CourseDirectory.autograded_directory=autograded",
        f"--CourseDirectory.db_url=sqlite:///{course}/gb.db",
        "--log-level=ERROR",
    ]
    nbg = [sys.executable, "-m", "nbgrader"]
    subprocess.run(
        nbg + ["generate_assignment", chapter, "--force"] + common, cwd=REPO, check=True
    )
    start = time.perf_counter()
    subprocess.run(
        nbg + ["autograde", chapter, "--force"] + common,
        cwd=REPO,
        check=True,
        capture_output=True,
    )
    autograde = time.perf_counter() - start
    subprocess.run(
        nbg
        + [
            "generate_feedback",
            chapter,
            "--force",
            "--CourseDirectory.feedback_directory=feedback",
        ]
        + common,
        cwd=REPO,
        check=True,
        capture_output=True,
    )
    with_feedback = time.perf_counter() - start
    subprocess.run(
        nbg + ["export", f"--to={course}/grades.csv"] + common,
        cwd=REPO,
        check=True,
        capture_output=True,
    )
    return autograde, with_feedback, read_scores(course / "grades.csv")


def read_scores(path):
    with open(path, newline="") as f:
        return {r["student_id"]: float(r["score"]) for r in csv.DictReader(f)}


def execution_only(chapter, repeats=2):
    nb_path = nbtools.solution_path(chapter)
    best = float("inf")
    for _ in range(repeats):
        best = min(best, execute_seconds(nb_path))
    return best


def run_grader(subs, out, chapter, workers, tmp):
    """`python -m grader` on the submissions: seconds, scores and the per-submission timings.

    The grader's self-check (solution and blank edition graded once, then remembered) is not
    timed: one submission graded beforehand runs it if it has not passed for this chapter yet."""
    warm = tmp / f"warm-up-{workers}"
    shutil.copytree(subs / sorted(p.name for p in subs.iterdir())[0], warm / "student")
    grader = [sys.executable, "-m", "grader"]
    common = ["--chapter", chapter, "--workers", str(workers)]
    subprocess.run(
        grader + [str(warm), "--out", str(tmp / f"warm-up-out-{workers}"), *common],
        cwd=REPO,
        check=True,
        capture_output=True,
    )
    start = time.perf_counter()
    done = subprocess.run(
        grader + [str(subs), "--out", str(out), *common, "--force"],
        cwd=REPO,
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "GRADER_TIMINGS": "1"},
    )
    seconds = time.perf_counter() - start
    jobs = [
        json.loads(line.split(":", 1)[1])
        for line in done.stderr.splitlines()
        if line.startswith("grader-timings:")
    ]
    return seconds, read_scores(out / "grades.csv"), jobs


def measure(chapter="01_autodiff", count=20, workers=(1, 2), execution_repeats=2):
    """Plain nbgrader against the grader with each number of workers, on the same submissions.

    Returns a dict of seconds, submissions per minute and the grader's per-submission
    breakdown; raises AssertionError if any run's scores differ from plain nbgrader's."""
    # nbgrader runs `alembic` from PATH when it creates a gradebook: use this environment's.
    os.environ["PATH"] = (
        os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")
    )
    per_minute = lambda seconds: 60.0 * count / seconds
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        subs = tmp / "subs"
        submissions(chapter, count, subs)
        t_plain, t_plain_feedback, plain = plain_nbgrader(chapter, subs, tmp / "plain")
        result = dict(
            chapter=chapter,
            submissions=count,
            plain_autograde_s=t_plain,
            plain_autograde_feedback_s=t_plain_feedback,
            plain_autograde_per_minute=per_minute(t_plain),
            plain_autograde_feedback_per_minute=per_minute(t_plain_feedback),
            grader=[],
            scores_equal=True,
        )
        for n in workers:
            t_grader, ours, jobs = run_grader(
                subs, tmp / f"grader-{n}", chapter, n, tmp
            )
            assert ours == plain, (
                f"the grader (--workers {n}) and nbgrader disagree: {ours} vs {plain}"
            )
            assert len(jobs) == count, f"timings for {len(jobs)} of {count} submissions"
            mean = {
                key: sum(j[key] for j in jobs) / len(jobs)
                for key in ("execute", "autograde", "feedback", "worker", "total")
            }
            result["grader"].append(
                dict(
                    workers=n,
                    seconds=t_grader,
                    per_minute=per_minute(t_grader),
                    speedup_vs_autograde=t_plain / t_grader,
                    speedup_vs_autograde_feedback=t_plain_feedback / t_grader,
                    mean_per_submission_s=mean["total"],
                    mean_execute_s=mean["execute"],
                    mean_rest_of_autograde_s=mean["autograde"] - mean["execute"],
                    mean_feedback_s=mean["feedback"],
                    mean_sandbox_cleaning_s=mean["worker"]
                    - mean["autograde"]
                    - mean["feedback"],
                    mean_bookkeeping_s=mean["total"] - mean["worker"],
                    overhead_beyond_execution_s=mean["total"] - mean["execute"],
                )
            )
        result["execute_alone_s"] = execution_only(chapter, execution_repeats)
    return result


def report(r):
    count = r["submissions"]
    print(f"chapter {r['chapter']}, {count} submissions, {os.cpu_count()} cores")
    print(
        f"plain nbgrader autograde (sequential):         {r['plain_autograde_s']:7.1f} s  "
        f"({r['plain_autograde_per_minute']:.1f} per minute)"
    )
    print(
        f"plain autograde + generate_feedback:           {r['plain_autograde_feedback_s']:7.1f} s  "
        f"({r['plain_autograde_feedback_per_minute']:.1f} per minute)"
    )
    for g in r["grader"]:
        print(
            f"grader --workers {g['workers']} (sandbox, feedback):    {g['seconds']:7.1f} s  "
            f"({g['per_minute']:.1f} per minute; {g['speedup_vs_autograde']:.2f}x autograde alone, "
            f"{g['speedup_vs_autograde_feedback']:.2f}x autograde + feedback)"
        )
        print(
            f"  per submission {g['mean_per_submission_s']:.1f} s = {g['mean_execute_s']:.1f} s running "
            f"the notebook + {g['mean_rest_of_autograde_s']:.1f} s rest of autograde + "
            f"{g['mean_feedback_s']:.1f} s feedback + {g['mean_sandbox_cleaning_s']:.1f} s sandbox "
            f"cleaning + {g['mean_bookkeeping_s']:.1f} s bookkeeping; overhead beyond running the "
            f"notebook {g['overhead_beyond_execution_s']:.1f} s"
        )
    print(f"executing the notebook alone, fresh kernel: {r['execute_alone_s']:.1f} s")


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--chapter", default="01_autodiff")
    p.add_argument("--count", type=int, default=20)
    p.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = p.parse_args()
    report(measure(args.chapter, args.count, args.workers))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
