"""Parts of the grader on their own: rebuilding a submission on its chapter, and the kernel zygote."""

import os
import subprocess
import sys
import time

import nbformat
import pytest
from jupyter_client import KernelManager

import nbtools
from grader import guard, submission
from grader.limits import Limits
from grader.worker import write_kernelspec

CHAPTERS = nbtools.chapter_ids()


def release(chapter):
    """The template the grader rebuilds on: the student edition as nbgrader releases it."""
    return nbtools.load(nbtools.student_path(chapter))


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_rebuild_runs_each_chapter_cell_once(chapter):
    template = release(chapter)
    graded, notes, answered = submission.rebuild(
        nbtools.load(nbtools.student_path(chapter)), template
    )
    added = [c for c in graded.cells if c.metadata.get(guard.MARK)]
    rest = [c for c in graded.cells if not c.metadata.get(guard.MARK)]
    assert [c.source for c in rest] == [c.source for c in template.cells], (
        "a chapter cell was dropped or repeated"
    )
    n_tests = sum(
        1 for c in template.cells if c.metadata.get("nbgrader", {}).get("grade")
    )
    assert len(added) == 1 + n_tests, (
        "one snapshot after the setup cell and one guard before each test cell"
    )
    assert notes == [] and answered == len(
        nbtools.exercises(nbtools.load(nbtools.solution_path(chapter)))
    )


def test_rebuild_keeps_added_and_changed_cells_in_place():
    chapter = CHAPTERS[0]
    template = release(chapter)
    mine = nbtools.load(nbtools.student_path(chapter))
    i = next(
        i
        for i, c in enumerate(mine.cells)
        if c.cell_type == "code" and not c.metadata.get("nbgrader")
    )
    original = mine.cells[i].source
    mine.cells[i].source = original + "\nmy_experiment = 1"
    mine.cells.insert(i + 1, nbformat.v4.new_code_cell("my_helper = 2"))
    mine.cells.insert(i + 1, nbformat.v4.new_code_cell(""))  # blank cells are dropped
    graded, notes, _ = submission.rebuild(mine, template)
    sources = [c.source for c in graded.cells]
    assert sources.count(original) == 1, (
        "the chapter's own version of the cell still runs, once"
    )
    changed_at = sources.index(original + "\nmy_experiment = 1")
    assert sources.index(original) == changed_at - 1, (
        "an edited cell runs right after the chapter's version"
    )
    assert sources[changed_at + 1] == "my_helper = 2", (
        "an added cell stays where it was"
    )
    assert "" not in sources and notes == []


# -- the zygote ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def zygote(tmp_path_factory):
    if not sys.platform.startswith("linux"):
        pytest.skip("the zygote is used on Linux only")
    root = tmp_path_factory.mktemp("zygote")
    sock = str(root / "z.sock")
    env = {
        **os.environ,
        "PYTHONPATH": str(nbtools.REPO),
        "MPLBACKEND": "Agg",
        "OMP_NUM_THREADS": "1",
    }
    limits = Limits()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "grader.zygote",
            "serve",
            sock,
            "--memory-mb",
            "2048",
            "--processes",
            "4096",
            "--file-size-mb",
            "16",
            "--open-files",
            "256",
        ],
        env=env,
        cwd=root,
    )
    old = {k: os.environ.get(k) for k in ("JUPYTER_PATH", "JUPYTER_RUNTIME_DIR")}
    name = write_kernelspec(
        root, limits, None, str(root / "scratch"), str(nbtools.REPO), sock
    )
    yield name, root
    proc.kill()
    proc.wait()
    for k, v in old.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


def run(kc, code, timeout=60):
    """(stdout text, error name or None) of running ``code`` in the kernel."""
    msg_id = kc.execute(code)
    out, error = [], None
    while True:
        msg = kc.get_iopub_msg(timeout=timeout)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        kind, content = msg["msg_type"], msg["content"]
        if kind == "stream":
            out.append(content["text"])
        elif kind == "error":
            error = content["ename"]
        elif kind == "status" and content["execution_state"] == "idle":
            while (
                kc.get_shell_msg(timeout=timeout)["parent_header"].get("msg_id")
                != msg_id
            ):
                pass  # the reply to this request, so that the next one reads its own
            return "".join(out), error


def start(name):
    km = KernelManager(kernel_name=name)
    km.start_kernel()
    kc = km.client()
    kc.start_channels()
    kc.wait_for_ready(timeout=120)
    return km, kc


def test_zygote_kernels_are_fresh_confined_and_interruptible(zygote):
    name, root = zygote
    km, kc = start(name)
    try:
        out, err = run(
            kc,
            "import os, resource, numpy as np\n"
            "print(os.getcwd(), resource.getrlimit(resource.RLIMIT_FSIZE)[0], np.random.rand())",
        )
        assert err is None, out
        cwd, fsize, first_random = out.split()
        assert cwd == str(root / "scratch") and int(fsize) == 16 * 2**20, (
            "the kernel did not confine itself"
        )
        started = time.perf_counter()
        msg_id = kc.execute("while True:\n    pass")
        time.sleep(1.0)
        km.interrupt_kernel()  # what nbclient does when a cell overruns its time limit
        reply = kc.get_shell_msg(timeout=30)
        assert (
            reply["parent_header"]["msg_id"] == msg_id
            and reply["content"]["ename"] == "KeyboardInterrupt"
        )
        assert time.perf_counter() - started < 20
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=False)
    assert not km.is_alive()

    km2, kc2 = start(name)
    try:
        out, _ = run(kc2, "import numpy as np; print(np.random.rand())")
        assert out.split()[0] != first_random, (
            "two kernels share the zygote's random state"
        )
        pid, _ = run(kc2, "import os; print(os.getpid())")
        km2.shutdown_kernel(
            now=True
        )  # jupyter_client kills the launcher: the zygote must kill the kernel it stands for
        deadline = time.time() + 10
        while time.time() < deadline and os.path.exists(f"/proc/{int(pid)}"):
            time.sleep(0.1)
        alive = (
            os.path.exists(f"/proc/{int(pid)}")
            and "Z" not in open(f"/proc/{int(pid)}/stat").read().split()[2]
        )
        assert not alive, "the kernel outlived its launcher"
    finally:
        kc2.stop_channels()


def test_grader_errors_make_the_command_fail(monkeypatch, tmp_path, capsys):
    """Exit status 1 when a submission ends in an error (the grader's fault), 0 when it is only rejected."""
    from grader import batch

    for status, expected in (("rejected", 0), ("graded", 0), ("error", 1)):
        outcome = batch.Outcome("s1", "01_autodiff", 0.0, 10.0, status, "why")
        monkeypatch.setattr(batch, "run", lambda *a, **k: [outcome])
        (tmp_path / "subs").mkdir(exist_ok=True)
        assert (
            batch.main([str(tmp_path / "subs"), "--out", str(tmp_path / "out")])
            == expected
        ), status
    assert "ended in a grader error" in capsys.readouterr().err
