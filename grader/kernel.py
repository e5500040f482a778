"""Start a student's IPython kernel with fewer rights: ``python -m grader.kernel [options] -f CONNECTION_FILE``.

Run as root by the grading worker (through the kernelspec the worker writes), it
sets resource limits, moves to the scratch folder, drops to an unprivileged user
id and only then execs ipykernel. The connection file is copied into the scratch
folder first, because after the drop the kernel can no longer read root's copy.
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


def main(argv=None) -> None:
    p = argparse.ArgumentParser()
    p.add_argument("-f", dest="connection_file", required=True)
    p.add_argument("--uid", type=int)
    p.add_argument("--scratch", required=True)
    p.add_argument("--memory-mb", type=int, required=True)
    p.add_argument("--processes", type=int, required=True)
    p.add_argument("--file-size-mb", type=int, required=True)
    p.add_argument("--open-files", type=int, required=True)
    args = p.parse_args(argv)

    os.makedirs(args.scratch, exist_ok=True)
    connection = os.path.join(args.scratch, ".kernel-connection.json")
    shutil.copyfile(args.connection_file, connection)
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
    os.environ.update(HOME=args.scratch, TMPDIR=args.scratch, MPLCONFIGDIR=os.path.join(args.scratch, ".matplotlib"))
    os.execv(sys.executable, [sys.executable, "-m", "ipykernel_launcher", "-f", connection,
                              "--HistoryManager.hist_file=:memory:"])


if __name__ == "__main__":
    main()
