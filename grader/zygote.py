"""Start students' kernels in milliseconds: fork them from a process that has already imported the heavy modules.

    python -m grader.zygote serve SOCKET [limit options]                (the grading worker starts one per slot)
    python -m grader.zygote launch SOCKET --scratch DIR -f CONNECTION   (the kernelspec's command)

Importing IPython, NumPy, PyTorch and Matplotlib costs about 3 s of CPU, in every
kernel, for every submission: as much as half of running a chapter. The zygote
imports them once; for each submission it forks a copy that confines itself
exactly as grader.kernel does (limits, scratch folder, the slot's user id), gets
fresh random seeds, and only then becomes an ipykernel and runs student code.

The launcher stands in for the kernel towards jupyter_client, which expects a child
process: it forwards interrupt and terminate signals to the kernel and exits
with the kernel's exit status. If the launcher is killed, the zygote kills the kernel.
Linux only: macOS forbids forking after some system libraries are loaded.
"""

import argparse
import json
import os
import select
import signal
import socket
import sys
import time

from . import kernel

# What a chapter's setup cell imports; a module that is missing is simply not preloaded.
PRELOAD = (
    "ipykernel.kernelapp",
    "ipykernel.ipkernel",
    "numpy",
    "torch",
    "torch.fx",
    "torch.func",
    "torch.utils.checkpoint",
    "matplotlib",
    "matplotlib.pyplot",
    "dlcourse",
    "grader.protect",
)
POLL_S = 0.01


def _send(conn, message: dict) -> None:
    conn.sendall(json.dumps(message).encode() + b"\n")


def _receive(conn) -> dict:
    data = b""
    while not data.endswith(b"\n"):
        chunk = conn.recv(65536)
        if not chunk:
            raise ConnectionError("the other side closed the connection")
        data += chunk
    return json.loads(data)


# -- the zygote -----------------------------------------------------------------------------
def serve(socket_path: str, args) -> None:
    import importlib

    _die_with_parent()
    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except ImportError:
            pass
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    if os.path.exists(socket_path):
        os.unlink(socket_path)
    server.bind(socket_path)
    os.chmod(
        socket_path, 0o600
    )  # only root (the worker's launcher) may ask for a kernel
    server.listen(8)
    while True:
        conn, _ = server.accept()
        try:
            request = _receive(conn)
        except (ConnectionError, ValueError):
            conn.close()
            continue
        pid = os.fork()
        if pid == 0:
            server.close()
            conn.close()
            args.scratch = request["scratch"]
            _become_kernel(request["connection_file"], args)  # never returns
        try:
            _send(conn, {"pid": pid})
        except OSError:
            pass
        status = _watch(conn, pid)
        try:
            _send(conn, {"status": status})
        except OSError:
            pass
        conn.close()


def _watch(conn, pid: int) -> int:
    """Wait until the kernel exits (its exit code) or its launcher goes away (kill the kernel)."""
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        readable, _, _ = select.select([conn], [], [], POLL_S)
        if readable and not conn.recv(
            1
        ):  # end of file: jupyter_client killed the launcher
            for kill in (os.killpg, os.kill):
                try:
                    kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            os.waitpid(pid, 0)
            return -signal.SIGKILL


def _become_kernel(connection_file: str, args) -> None:
    """In the forked child: confine, reseed, run ipykernel; exit without returning to the zygote's loop."""
    code = 1
    try:
        os.setsid()  # its own process group: an interrupt reaches the kernel, not the zygote
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGPIPE, signal.SIGCHLD):
            signal.signal(sig, signal.SIG_DFL)
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (
            0,
            1,
            2,
        ):  # the kernel sends its output to the notebook, never to the worker's pipes
            os.dup2(null, fd)
        connection = kernel.confine(args, connection_file)
        _die_with_parent()  # after the change of user id, which clears it
        _reseed()
        from ipykernel import kernelapp

        sys.argv = ["ipykernel_launcher", "-f", connection, *kernel.KERNEL_ARGS]
        kernelapp.launch_new_instance(argv=sys.argv[1:])
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:
        code = 1
    finally:
        import atexit

        atexit._run_exitfuncs()
        os._exit(code)


def _die_with_parent() -> None:
    """Be killed when the parent dies: no kernel outlives its zygote, no zygote its worker."""
    parent = os.getppid()
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(
            1, signal.SIGKILL
        )  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:  # it died before the request took effect
        os._exit(1)


def _reseed() -> None:
    """A forked copy shares its parent's random state: give each kernel its own, as a fresh process has."""
    import random

    random.seed()
    if "numpy" in sys.modules:
        sys.modules["numpy"].random.seed()
    if "torch" in sys.modules:
        sys.modules["torch"].seed()


# -- the launcher -----------------------------------------------------------------------------
def launch(
    socket_path: str, connection_file: str, scratch: str, wait_s: float = 120.0
) -> int:
    deadline = time.monotonic() + wait_s
    while True:  # the zygote may still be importing when the first kernel is asked for
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            conn.connect(socket_path)
            break
        except (FileNotFoundError, ConnectionRefusedError):
            conn.close()
            if time.monotonic() > deadline:
                print(
                    f"grader.zygote: no zygote listens on {socket_path}",
                    file=sys.stderr,
                )
                return 1
            time.sleep(0.05)
    _send(
        conn, {"connection_file": os.path.abspath(connection_file), "scratch": scratch}
    )
    pid = _receive(conn)["pid"]

    def forward(signum, _frame):
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            pass

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT, signal.SIGHUP):
        signal.signal(sig, forward)
    while True:
        try:
            status = _receive(conn)["status"]
            break
        except InterruptedError:
            continue
        except (ConnectionError, ValueError):
            return 1
    return status if status >= 0 else 128 - status


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="grader.zygote")
    p.add_argument("mode", choices=["serve", "launch"])
    p.add_argument("socket")
    p.add_argument("-f", dest="connection_file")
    if (argv or sys.argv[1:])[:1] == ["serve"]:
        kernel.add_limit_options(p)
    else:
        p.add_argument("--scratch", required=True)
    args = p.parse_args(argv)
    if args.mode == "serve":
        serve(args.socket, args)
        return 0
    return launch(args.socket, args.connection_file, args.scratch)


if __name__ == "__main__":
    raise SystemExit(main())
