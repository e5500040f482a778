"""Grade submissions one after another, each in its own nbgrader course directory: ``python -m grader.worker SLOT_DIR``.

The batch runs one worker per slot, in a sandbox (see grader.sandbox): its own
network namespace (only a loopback of its own), its own mount namespace (the
course's solutions, the tests, the submissions and the grading folder hidden
under empty tmpfs mounts; a private /tmp), and its own PID namespace (killing the
worker kills everything any submission started). The students' kernels are forked
by a zygote (grader.zygote) and run under the slot's unprivileged user id with
resource limits (grader.kernel); between two submissions the worker kills every
process of that user id and deletes what it wrote.

The batch writes a job folder into SLOT_DIR (job.json, course/ with the source,
a gradebook copy and the submission) and sends its name on stdin; the worker
writes result.json and course/feedback there and answers with the name on stdout.
"""

import json
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid

import nbformat

from . import kernel
from .limits import Limits


def _bring_up_loopback() -> None:
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True, capture_output=True)


def _mount(*args) -> None:
    subprocess.run(["mount", *args], check=True, capture_output=True)


PRIVATE_DIRS = (
    "/tmp",
    "/var/tmp",
    "/dev/shm",
)  # world-writable: each sandbox gets empty ones of its own


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
    keep = [
        k for k in keep if not any(k != o and _under(k, o) for o in keep)
    ]  # outermost only
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


def write_kernelspec(
    folder: pathlib.Path,
    limits: Limits,
    uid,
    scratch: str,
    repo: str,
    zygote_socket=None,
) -> str:
    """The kernel the student's notebook runs in: forked by the zygote where there is one, else grader.kernel."""
    if zygote_socket:
        argv = [
            sys.executable,
            "-m",
            "grader.zygote",
            "launch",
            zygote_socket,
            "--scratch",
            scratch,
        ]
    else:
        argv = [
            sys.executable,
            "-m",
            "grader.kernel",
            *kernel.limit_options(limits, uid, scratch),
        ]
    spec = {
        "argv": argv + ["-f", "{connection_file}"],
        "display_name": "Python 3 (grading sandbox)",
        "language": "python",
        "env": kernel_environment(limits, repo),
    }
    kdir = folder / "kernels" / "dlcourse-sandbox"
    kdir.mkdir(parents=True, exist_ok=True)
    (kdir / "kernel.json").write_text(json.dumps(spec))
    os.environ["JUPYTER_PATH"] = str(folder)
    os.environ["JUPYTER_RUNTIME_DIR"] = str(folder / "runtime")
    return "dlcourse-sandbox"


def kernel_environment(limits: Limits, repo: str) -> dict:
    threads = str(limits.threads)
    return {
        "PYTHONPATH": repo,
        "OMP_NUM_THREADS": threads,
        "MKL_NUM_THREADS": threads,
        "OPENBLAS_NUM_THREADS": threads,
        "MPLBACKEND": "Agg",
        "PYTHONWARNINGS": "ignore",
    }


def grade(job_dir: pathlib.Path, job: dict, limits: Limits, kernel_name: str) -> dict:
    from nbconvert.preprocessors import (
        ClearMetadataPreprocessor,
        CSSHTMLHeaderPreprocessor,
    )
    from nbgrader.api import Gradebook
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    from nbgrader.preprocessors import (
        AssignLatePenalties,
        CheckCellMetadata,
        ClearHiddenTests,
        GetGrades,
        IgnorePattern,
        LimitOutput,
        SaveAutoGrades,
    )

    from .batch import nbgrader_config
    from .execute import (
        ConciseErrors,
        FeedbackExporter,
        FinishTestCells,
        RemoveGuards,
        SafeExecute,
        ScrubHiddenTests,
        secret_lines,
    )

    course = job_dir / "course"
    cfg = nbgrader_config(course)
    cfg.Execute.timeout = limits.cell_timeout_s
    cfg.Execute.kernel_name = kernel_name
    cfg.LimitOutput.max_lines = limits.output_lines
    cfg.LimitOutput.max_traceback = 50
    cfg.Autograde.autograde_preprocessors = [
        SafeExecute,
        RemoveGuards,
        IgnorePattern,
        ClearMetadataPreprocessor,
        LimitOutput,
        FinishTestCells,
        SaveAutoGrades,
        AssignLatePenalties,
        CheckCellMetadata,
    ]
    cfg.GenerateFeedback.preprocessors = [
        GetGrades,
        ConciseErrors,
        ClearHiddenTests,
        ScrubHiddenTests,
        CSSHTMLHeaderPreprocessor,
    ]
    cfg.GenerateFeedback.exporter_class = FeedbackExporter
    cfg.ClearHiddenTests.enforce_metadata = False
    api = NbGraderAPI(coursedir=CourseDirectory(config=cfg), config=cfg)
    student, chapter = job["student"], job["chapter"]
    source = nbformat.read(
        str(course / "source" / chapter / f"{chapter}.ipynb"), as_version=4
    )
    ScrubHiddenTests.secrets = secret_lines(source)
    t0 = time.perf_counter()
    result = api.autograde(chapter, student, force=True)
    t1 = time.perf_counter()
    if not result["success"]:
        (job_dir / "nbgrader-log.txt").write_text(
            f"{result.get('log', '')}\n{result.get('error', '')}"
        )
        return {
            "status": "error",
            "reason": "nbgrader could not grade it: " + last_line(result),
            "cells": {},
        }
    if SafeExecute.start_failure:
        return {
            "status": "error",
            "reason": "the kernel failed before the first cell: "
            + SafeExecute.start_failure,
            "cells": {},
        }
    feedback = api.generate_feedback(chapter, student, force=True)
    t2 = time.perf_counter()
    cells = {}
    with Gradebook(cfg.CourseDirectory.db_url) as gb:
        for nb in gb.find_submission(chapter, student).notebooks:
            for g in nb.grades:
                cells[g.name] = float(g.score)
    reason = (
        ""
        if feedback["success"]
        else "graded, but no feedback page could be written: " + last_line(feedback)
    )
    return {
        "status": "graded",
        "reason": reason,
        "cells": cells,
        "scrubbed": ScrubHiddenTests.removed,
        "seconds": {
            "execute": round(SafeExecute.last_seconds, 2),
            "autograde": round(t1 - t0, 2),
            "feedback": round(t2 - t1, 2),
        },
    }


def last_line(result: dict) -> str:
    lines = (
        (result.get("error") or result.get("log") or "unknown error")
        .strip()
        .splitlines()
    )
    return lines[-1][:300] if lines else "unknown error"


class Slot:
    """One worker slot: its sandbox and zygote, set up once, and the jobs it grades one after another.

    Between two jobs nothing of the first may reach the second: every process of the
    slot's user id is killed and everything that user id wrote in the private
    temporary folders is deleted (the kernel can write nowhere else).
    """

    def __init__(self, slot_dir: pathlib.Path, config: dict):
        self.config, self.limits = config, Limits(**config["limits"])
        self.uid, self.sandboxed = config.get("uid"), config.get("sandbox")
        if self.sandboxed:
            keep = [
                config["repo"],
                sys.prefix,
                sys.base_prefix,
                os.path.dirname(os.path.realpath(sys.executable)),
            ]
            slot_dir = enter_sandbox(slot_dir, config.get("hide", []), keep)
            private = slot_dir.parent  # root-only: the zygote's socket lives there
        else:
            private = pathlib.Path(tempfile.mkdtemp(prefix="dlcourse-zygote-"))
        os.chdir(slot_dir)  # the old path may now be covered
        self.slot_dir, self.private, self.socket = (
            slot_dir,
            private,
            str(private / "zygote.sock"),
        )
        self.zygote_env = {
            **os.environ,
            **kernel_environment(self.limits, config["repo"]),
            "MPLCONFIGDIR": str(private / "matplotlib"),
        }
        self.zygote = None
        # The zygote forks, which macOS does not allow after some of its libraries are loaded.
        self.use_zygote = sys.platform.startswith("linux")

    def start_zygote(self) -> None:
        if not self.use_zygote or (
            self.zygote is not None and self.zygote.poll() is None
        ):
            return
        options = kernel.limit_options(self.limits, self.uid)
        self.zygote = subprocess.Popen(
            [sys.executable, "-m", "grader.zygote", "serve", self.socket, *options],
            env=self.zygote_env,
            stdin=subprocess.DEVNULL,
            stdout=sys.stderr,
        )

    def grade(self, job_dir: pathlib.Path) -> dict:
        job = json.loads((job_dir / "job.json").read_text())
        self.start_zygote()
        scratch = "/tmp/scratch" if self.sandboxed else str(job_dir / "scratch")
        if (
            os.name == "nt"
        ):  # Windows has no resource limits: the student's kernel is the ordinary one
            kernel_name = "python3"
        else:
            kernel_name = write_kernelspec(
                job_dir,
                self.limits,
                self.uid,
                scratch,
                self.config["repo"],
                self.socket if self.use_zygote else None,
            )
        try:
            return grade(job_dir, job, self.limits, kernel_name)
        except Exception as exc:  # reported to the batch as this submission's reason
            import traceback

            (job_dir / "worker-error.txt").write_text(traceback.format_exc())
            return {
                "status": "error",
                "reason": f"grading failed: {type(exc).__name__}: {exc}"[:400],
                "cells": {},
            }
        finally:
            if self.sandboxed:
                self.clean_up()

    def clean_up(self) -> None:
        """Kill what the last submission left running and delete what it wrote."""
        for _ in range(100):
            left = _processes_of(self.uid)
            if not left:
                break
            helper = os.fork()
            if (
                helper == 0
            ):  # as the slot's user, `kill -1` reaches exactly that user's processes
                try:
                    os.setuid(self.uid)
                    os.kill(-1, signal.SIGKILL)
                finally:
                    os._exit(0)
            os.waitpid(helper, 0)
            self.reap()
            time.sleep(0.01)
        else:
            raise RuntimeError(f"processes of user id {self.uid} survive: {left[:5]}")
        for folder in PRIVATE_DIRS:
            for entry in os.scandir(folder) if os.path.isdir(folder) else []:
                if entry.stat(follow_symlinks=False).st_uid == self.uid:
                    if entry.is_dir(follow_symlinks=False):
                        shutil.rmtree(entry.path, ignore_errors=True)
                    else:
                        os.unlink(entry.path)

    def reap(self) -> None:
        """This worker is the sandbox's PID 1: orphans of killed processes become its zombies."""
        me = os.getpid()
        for pid, ppid, _, state in _process_table():
            if (
                ppid == me
                and state == "Z"
                and not (self.zygote and pid == self.zygote.pid)
            ):
                try:
                    os.waitpid(pid, os.WNOHANG)
                except ChildProcessError:
                    pass


def _process_table():
    """(pid, parent pid, real uid, state) of every process this PID namespace shows."""
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/status") as f:
                    fields = dict(line.split(":", 1) for line in f if ":" in line)
                yield (
                    int(name),
                    int(fields["PPid"]),
                    int(fields["Uid"].split()[0]),
                    fields["State"].split()[0],
                )
            except (OSError, KeyError, ValueError):
                continue  # it ended while we looked


def _processes_of(uid: int) -> list:
    return [pid for pid, _, owner, _ in _process_table() if owner == uid]


def main(argv=None) -> int:
    """Serve one slot: read job folder names (relative to SLOT_DIR) on stdin, answer each with its name
    on stdout once JOB/result.json is written."""
    slot_dir = pathlib.Path((argv or sys.argv[1:])[0]).resolve()
    replies = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # whatever else writes to stdout must not garble the replies
    slot = Slot(slot_dir, json.loads((slot_dir / "slot.json").read_text()))
    slot.start_zygote()  # it imports while the first job is prepared
    try:
        for line in sys.stdin:
            name = line.strip()
            started = time.perf_counter()
            job_dir = slot.slot_dir / name
            result = slot.grade(job_dir)
            result.setdefault("seconds", {})["worker"] = round(
                time.perf_counter() - started, 2
            )
            (job_dir / "result.json").write_text(json.dumps(result))
            replies.write(name + "\n")
    finally:
        if slot.zygote is not None:
            slot.zygote.kill()
            slot.zygote.wait()
        if (
            not slot.sandboxed
        ):  # in a sandbox the folder vanishes with the mount namespace
            shutil.rmtree(slot.private, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
