"""How much isolation this machine allows, and the command that starts one grading worker.

Linux as root (a lab server, CI, a container): full isolation. The worker runs under
``unshare --net --mount --pid --fork --mount-proc --kill-child``: no network but a
private loopback, secrets hidden under empty mounts, a private /tmp, a /proc that
shows only the sandbox's own processes, and one kill ends every process it started.
The student's kernel runs under a user id of its own (one per worker slot, so the
process limit is per slot) with limits on memory, processes, file size and open
files; between two submissions the worker kills that user id's processes and
deletes its files.

Elsewhere (not root, macOS, WSL without namespaces): the same limits where the OS
offers them, in a process group that the batch kills on time-out, but no network
or file-system isolation: the grader says so before it starts. Windows: no limits
at all beyond the time-outs.
"""

import os
import shutil
import subprocess
import sys

SLOT_UID_BASE = (
    62000  # unprivileged user ids the kernels run under: one per worker slot
)


def isolation() -> tuple:
    """(level, explanation): level is "full", "limits" or "none"."""
    if os.name == "nt":
        return "none", (
            "Windows: submissions run with your rights and without resource limits; "
            "only the time-outs apply. Grade untrusted work on Linux."
        )
    if (
        sys.platform.startswith("linux")
        and os.geteuid() == 0
        and shutil.which("unshare")
        and shutil.which("ip")
    ):
        probe = subprocess.run(
            ["unshare", "--net", "--mount", "--pid", "--fork", "--mount-proc", "true"],
            capture_output=True,
        )
        if probe.returncode == 0:
            return (
                "full",
                "Linux as root: no network, hidden files, private /tmp, own user id and limits",
            )
        why = probe.stderr.decode(errors="replace").strip() or "unshare failed"
        return "limits", (
            f"namespaces are not available here ({why}): student code keeps network access and can "
            "read what you can read; memory, file-size and time limits still apply"
        )
    return "limits", (
        "not running as root on Linux: student code keeps network access and can read what you can "
        "read; memory, file-size and time limits still apply"
    )


def worker_command(slot_dir, level: str) -> list:
    """The worker dies with the thread of the batch that started it (PR_SET_PDEATHSIG through ``setpriv``),
    so that a batch killed outright leaves no sandbox running; ``unshare --kill-child`` then takes the
    sandbox's every process with it."""
    cmd = [sys.executable, "-m", "grader.worker", str(slot_dir)]
    if level == "full":
        cmd = [
            "unshare",
            "--net",
            "--mount",
            "--pid",
            "--fork",
            "--mount-proc",
            "--kill-child",
            *cmd,
        ]
    if sys.platform.startswith("linux") and shutil.which("setpriv"):
        cmd = ["setpriv", "--pdeathsig", "KILL", *cmd]
    return cmd
