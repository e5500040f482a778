"""Grading throughput: plain sequential `nbgrader autograde` against the course's grader.

    .venv/bin/python bench/grading_throughput.py [--chapter 01_autodiff] [--count 20] [--workers N]

Builds COUNT submissions of one chapter (solution, blank student edition and half-answered
copies, in turn), grades them once with nbgrader alone (one process, one after the other,
no sandbox) and once with `python -m grader --workers N`, checks that both give the same
scores, and prints the speed-up and where the grader's time per submission goes: running
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


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--chapter", default="01_autodiff")
    p.add_argument("--count", type=int, default=20)
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = p.parse_args()
    # nbgrader runs `alembic` from PATH when it creates a gradebook: use this environment's.
    os.environ["PATH"] = (
        os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")
    )
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        subs = tmp / "subs"
        submissions(args.chapter, args.count, subs)
        t_plain, t_plain_feedback, plain = plain_nbgrader(
            args.chapter, subs, tmp / "plain"
        )
        # The grader's self-check (solution and blank edition graded once, then remembered) is not timed:
        # one submission graded beforehand runs it if it has not passed for this chapter and grader yet.
        warm = tmp / "warm-up"
        shutil.copytree(
            subs / sorted(p.name for p in subs.iterdir())[0], warm / "student"
        )
        subprocess.run(
            [
                sys.executable,
                "-m",
                "grader",
                str(warm),
                "--out",
                str(tmp / "warm-up-out"),
                "--chapter",
                args.chapter,
                "--workers",
                str(args.workers),
            ],
            cwd=REPO,
            check=True,
            capture_output=True,
        )
        start = time.perf_counter()
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "grader",
                str(subs),
                "--out",
                str(tmp / "grader"),
                "--chapter",
                args.chapter,
                "--workers",
                str(args.workers),
                "--force",
            ],
            cwd=REPO,
            check=True,
            capture_output=True,
            text=True,
            env={**os.environ, "GRADER_TIMINGS": "1"},
        )
        t_grader = time.perf_counter() - start
        jobs = [
            json.loads(line.split(":", 1)[1])
            for line in done.stderr.splitlines()
            if line.startswith("grader-timings:")
        ]
        ours = read_scores(tmp / "grader" / "grades.csv")
        t_exec = execution_only(args.chapter)
    assert ours == plain, f"the grader and nbgrader disagree: {ours} vs {plain}"
    assert len(jobs) == args.count, (
        f"timings for {len(jobs)} of {args.count} submissions"
    )
    mean = {
        key: sum(j[key] for j in jobs) / len(jobs)
        for key in ("execute", "autograde", "feedback", "worker", "total")
    }
    print(f"chapter {args.chapter}, {args.count} submissions, {os.cpu_count()} cores")
    print(
        f"plain nbgrader autograde (sequential):         {t_plain:7.1f} s  ({t_plain / args.count:.1f} s each)"
    )
    print(
        f"plain autograde + generate_feedback:           {t_plain_feedback:7.1f} s  ({t_plain_feedback / args.count:.1f} s each)"
    )
    print(
        f"grader --workers {args.workers} (sandbox, feedback):    {t_grader:7.1f} s  ({t_grader / args.count:.1f} s each)"
    )
    print(
        f"speed-up: {t_plain / t_grader:.2f}x against autograde alone, "
        f"{t_plain_feedback / t_grader:.2f}x against autograde + feedback"
    )
    print(f"executing the notebook alone, fresh kernel: {t_exec:.1f} s")
    print(
        f"grader, per submission (mean of {len(jobs)}, two at a time): {mean['total']:.1f} s in all = "
        f"{mean['execute']:.1f} s running the notebook (kernel forked by the zygote)"
        f" + {mean['autograde'] - mean['execute']:.1f} s rest of autograde"
        f" + {mean['feedback']:.1f} s feedback page"
        f" + {mean['worker'] - mean['autograde'] - mean['feedback']:.1f} s sandbox cleaning"
        f" + {mean['total'] - mean['worker']:.1f} s job preparation and bookkeeping"
    )
    print(
        f"overhead beyond running the notebook: {mean['total'] - mean['execute']:.1f} s per submission"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
