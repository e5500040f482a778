"""Grade one submission in its own nbgrader course directory: ``python -m grader.worker JOB_DIR``.

The batch runs this in a sandbox (see grader.sandbox): its own network namespace
(only a loopback of its own), its own mount namespace (the course's solutions,
the tests, the other submissions and the grading folder hidden under empty
tmpfs mounts; a private /tmp), and its own PID namespace (killing it kills
everything the submission started). The student's kernel itself runs under an
unprivileged user id with resource limits (grader.kernel).

JOB_DIR holds job.json and course/ (source, gradebook copy, the submission); the
worker writes result.json and course/feedback there.
"""
import json
import os
import pathlib
import subprocess
import sys
import time
import uuid

from .limits import Limits


def _bring_up_loopback() -> None:
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True, capture_output=True)


def _mount(*args) -> None:
    subprocess.run(["mount", *args], check=True, capture_output=True)


PRIVATE_DIRS = ("/tmp", "/var/tmp", "/dev/shm")  # world-writable: each sandbox gets empty ones of its own


def _under(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def _closed_ancestor(path: str):
    """The outermost folder above ``path`` that other users cannot enter (e.g. /root), or None."""
    parts = pathlib.Path(path).parts
    for i in range(2, len(parts)):
        folder = str(pathlib.Path(*parts[:i]))
        if not os.stat(folder).st_mode & 0o001:
            return folder
    return None


def enter_sandbox(job_dir: pathlib.Path, hide: list, keep: list) -> pathlib.Path:
    """Inside fresh namespaces: loopback up, a private /tmp, secrets covered; returns the job folder's new path.

    Folders the grading itself needs (the repository, the Python installation) may lie
    under /tmp, or under a folder the kernel's user id may not enter (a pyenv Python in
    /root): such a folder is covered by an empty tmpfs and the needed folders are
    bind-mounted back into it, so the kernel sees them and nothing else there.
    """
    _bring_up_loopback()
    base = pathlib.Path("/run") if os.path.isdir("/run") else pathlib.Path("/mnt")
    stash = base / f"dlcourse-{uuid.uuid4().hex[:8]}"
    stash.mkdir(mode=0o700)
    moved = stash / "job"
    moved.mkdir()
    _mount("--bind", str(job_dir), str(moved))
    keep = sorted({os.path.realpath(k) for k in keep if os.path.isdir(k)})
    cover = {d: "1777" for d in PRIVATE_DIRS if os.path.isdir(d)}
    for k in keep:
        closed = _closed_ancestor(k)
        if closed and closed not in cover:
            cover[closed] = "755"
    keep = [k for k in keep if any(_under(k, d) for d in cover)]
    keep = [k for k in keep if not any(k != o and _under(k, o) for o in keep)]  # outermost only
    for i, path in enumerate(keep):
        (stash / str(i)).mkdir()
        _mount("--bind", path, str(stash / str(i)))
    for path, mode in cover.items():
        _mount("-t", "tmpfs", "-o", f"size=512m,mode={mode}", "tmpfs", path)
    for i, path in enumerate(keep):
        os.makedirs(path, exist_ok=True)
        _mount("--bind", str(stash / str(i)), path)
    for path in hide:
        if os.path.isdir(path):
            _mount("-t", "tmpfs", "-o", "size=1m,mode=000", "tmpfs", path)
        elif os.path.isfile(path):
            _mount("--bind", "/dev/null", path)
    return moved


def write_kernelspec(job_dir: pathlib.Path, limits: Limits, uid, scratch: str, repo: str) -> str:
    argv = [sys.executable, "-m", "grader.kernel", "--scratch", scratch,
            "--memory-mb", str(limits.memory_mb), "--processes", str(limits.processes),
            "--file-size-mb", str(limits.file_size_mb), "--open-files", str(limits.open_files)]
    if uid is not None:
        argv += ["--uid", str(uid)]
    threads = str(limits.threads)
    spec = {"argv": argv + ["-f", "{connection_file}"], "display_name": "Python 3 (grading sandbox)",
            "language": "python",
            "env": {"PYTHONPATH": repo, "OMP_NUM_THREADS": threads, "MKL_NUM_THREADS": threads,
                    "OPENBLAS_NUM_THREADS": threads, "MPLBACKEND": "Agg", "PYTHONWARNINGS": "ignore"}}
    kdir = job_dir / "kernels" / "dlcourse-sandbox"
    kdir.mkdir(parents=True, exist_ok=True)
    (kdir / "kernel.json").write_text(json.dumps(spec))
    os.environ["JUPYTER_PATH"] = str(job_dir)
    os.environ["JUPYTER_RUNTIME_DIR"] = str(job_dir / "runtime")
    return "dlcourse-sandbox"


def grade(job_dir: pathlib.Path, job: dict) -> dict:
    from nbconvert.preprocessors import ClearMetadataPreprocessor, CSSHTMLHeaderPreprocessor
    from nbgrader.api import Gradebook
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    from nbgrader.preprocessors import (AssignLatePenalties, CheckCellMetadata, ClearHiddenTests, GetGrades,
                                        IgnorePattern, LimitOutput, SaveAutoGrades)

    from .batch import nbgrader_config
    from .execute import ConciseErrors, DemoteStderr, RemoveGuards, SafeExecute

    limits = Limits(**job["limits"])
    course = job_dir / "course"
    # Windows has no resource limits: there the student's kernel is the ordinary one.
    kernel = "python3" if os.name == "nt" else write_kernelspec(job_dir, limits, job.get("uid"), job["scratch"], job["repo"])
    cfg = nbgrader_config(course)
    cfg.Execute.timeout = limits.cell_timeout_s
    cfg.Execute.kernel_name = kernel
    cfg.LimitOutput.max_lines = limits.output_lines
    cfg.LimitOutput.max_traceback = 50
    cfg.Autograde.autograde_preprocessors = [SafeExecute, RemoveGuards, IgnorePattern, ClearMetadataPreprocessor,
                                             LimitOutput, DemoteStderr, SaveAutoGrades, AssignLatePenalties,
                                             CheckCellMetadata]
    cfg.GenerateFeedback.preprocessors = [GetGrades, ConciseErrors, ClearHiddenTests, CSSHTMLHeaderPreprocessor]
    cfg.ClearHiddenTests.enforce_metadata = False
    api = NbGraderAPI(coursedir=CourseDirectory(config=cfg), config=cfg)
    student, chapter = job["student"], job["chapter"]
    t0 = time.perf_counter()
    result = api.autograde(chapter, student, force=True)
    t1 = time.perf_counter()
    if not result["success"]:
        (job_dir / "nbgrader-log.txt").write_text(f"{result.get('log', '')}\n{result.get('error', '')}")
        return {"status": "error", "reason": "nbgrader could not grade it: " + last_line(result), "cells": {}}
    feedback = api.generate_feedback(chapter, student, force=True)
    t2 = time.perf_counter()
    cells = {}
    with Gradebook(cfg.CourseDirectory.db_url) as gb:
        for nb in gb.find_submission(chapter, student).notebooks:
            for g in nb.grades:
                cells[g.name] = float(g.score)
    reason = "" if feedback["success"] else "graded, but no feedback page could be written: " + last_line(feedback)
    return {"status": "graded", "reason": reason, "cells": cells,
            "seconds": {"autograde": round(t1 - t0, 2), "feedback": round(t2 - t1, 2)}}


def last_line(result: dict) -> str:
    lines = (result.get("error") or result.get("log") or "unknown error").strip().splitlines()
    return lines[-1][:300] if lines else "unknown error"


def main(argv=None) -> int:
    started = time.perf_counter()
    job_dir = pathlib.Path((argv or sys.argv[1:])[0]).resolve()
    job = json.loads((job_dir / "job.json").read_text())
    if job.get("sandbox"):
        keep = [job["repo"], sys.prefix, sys.base_prefix, os.path.dirname(os.path.realpath(sys.executable))]
        job_dir = enter_sandbox(job_dir, job.get("hide", []), keep)
    os.chdir(job_dir)  # the old path may now be covered
    try:
        result = grade(job_dir, job)
    except Exception as exc:  # reported to the batch as this submission's reason
        import traceback
        (job_dir / "worker-error.txt").write_text(traceback.format_exc())
        result = {"status": "error", "reason": f"grading failed: {type(exc).__name__}: {exc}"[:400], "cells": {}}
    result.setdefault("seconds", {})["worker"] = round(time.perf_counter() - started, 2)
    (job_dir / "result.json").write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
