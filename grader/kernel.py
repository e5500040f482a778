"""Confine a student's IPython kernel: ``python -m grader.kernel [options] -f CONNECTION_FILE``.

``confine`` sets resource limits, moves to the scratch folder and drops to an
unprivileged user id; only then does any student code run. On Linux the grading
worker's zygote (grader.zygote) calls it in each kernel it forks. Elsewhere the
worker's kernelspec runs this module, which confines itself and then execs
ipykernel. The connection file is copied into the scratch folder first, because
after the drop the kernel can no longer read root's copy.
"""

import argparse
import os
import resource
import shutil
import sys


def _limit(which, value) -> None:
    """Set a hard and soft limit; where the OS refuses one (macOS and RLIMIT_AS), keep going."""
    try:
        resource.setrlimit(which, (value, value))
    except (ValueError, OSError) as exc:
        print(f"grader.kernel: limit {which} not applied: {exc}", file=sys.stderr)


def add_limit_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--uid", type=int)
    p.add_argument(
        "--scratch",
        help="the kernel's working folder (the zygote is told it per kernel)",
    )
    p.add_argument("--memory-mb", type=int, required=True)
    p.add_argument("--processes", type=int, required=True)
    p.add_argument("--file-size-mb", type=int, required=True)
    p.add_argument("--open-files", type=int, required=True)


def limit_options(limits, uid, scratch=None) -> list:
    """The command-line form of ``add_limit_options``."""
    argv = [
        "--memory-mb",
        str(limits.memory_mb),
        "--processes",
        str(limits.processes),
        "--file-size-mb",
        str(limits.file_size_mb),
        "--open-files",
        str(limits.open_files),
    ]
    return (
        argv
        + (["--uid", str(uid)] if uid is not None else [])
        + (["--scratch", scratch] if scratch else [])
    )


def confine(args, connection_file: str) -> str:
    """Limits, scratch folder, user id; returns the connection file's copy that the kernel can read."""
    os.makedirs(args.scratch, exist_ok=True)
    connection = os.path.join(args.scratch, ".kernel-connection.json")
    shutil.copyfile(connection_file, connection)
    if args.uid is not None:
        os.chown(args.scratch, args.uid, args.uid)
        os.chown(connection, args.uid, args.uid)
    os.chdir(args.scratch)

    mb = 1024 * 1024
    _limit(resource.RLIMIT_AS, args.memory_mb * mb)
    _limit(resource.RLIMIT_FSIZE, args.file_size_mb * mb)
    _limit(resource.RLIMIT_NOFILE, args.open_files)
    _limit(resource.RLIMIT_CORE, 0)
    if args.uid is not None:
        # RLIMIT_NPROC counts every process of the user id, and root ignores it:
        # it only bites after the drop, on a user id that this worker slot alone uses.
        _limit(resource.RLIMIT_NPROC, args.processes)
        os.setgroups([])
        os.setgid(args.uid)
        os.setuid(args.uid)
    os.environ.update(
        HOME=args.scratch,
        TMPDIR=args.scratch,
        MPLCONFIGDIR=os.path.join(args.scratch, ".matplotlib"),
    )
    return connection


# The grading kernel (grader.protect) keeps no history database: the input history would hold the tests.
KERNEL_ARGS = [
    "--HistoryManager.enabled=False",
    "--IPKernelApp.kernel_class=grader.protect.GuardedKernel",
]


def main(argv=None) -> None:
    p = argparse.ArgumentParser()
    p.add_argument("-f", dest="connection_file", required=True)
    add_limit_options(p)
    args = p.parse_args(argv)
    connection = confine(args, args.connection_file)
    os.execv(
        sys.executable,
        [sys.executable, "-m", "ipykernel_launcher", "-f", connection, *KERNEL_ARGS],
    )


if __name__ == "__main__":
    main()
