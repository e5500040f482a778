"""The grader against bad submissions: each gets exactly its expected grade and reason,
the batch completes, nobody else's grade changes, the gradebook stays intact, and
nothing is written outside the sandbox. Uses the two-chapter tiny course of tinycourse.py.
"""

import csv
import hashlib
import html
import json
import os
import pathlib
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import uuid

import nbformat
import pytest

import tinycourse
from grader import sandbox
from nbtools import HIDDEN_BLOCK, REPO

FULL = sandbox.isolation()[0] == "full"
needs_isolation = pytest.mark.skipif(
    not FULL, reason="needs Linux namespaces as root (see the instructor's guide)"
)

CORRECT_DOUBLE = "def double(x):\n    return 2 * np.asarray(x, dtype=float)"
CORRECT_NORM2 = "def norm2(v):\n    return float(np.sqrt(np.sum(np.square(v))))"
WRONG_DOUBLE = "def double(x):\n    return 3 * np.asarray(x, dtype=float)"
HOST_TMP_MARK = f"/tmp/dlcourse-escape-{uuid.uuid4().hex}"


class Listener:
    """A TCP server on the host's loopback that counts the connections it gets."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port, self.hits, self.stop = self.sock.getsockname()[1], 0, False
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while not self.stop:
            try:
                conn, _ = self.sock.accept()
                self.hits += 1
                conn.close()
            except OSError:
                pass

    def close(self):
        self.stop = True
        self.thread.join()
        self.sock.close()


def notebook_for(base, double=CORRECT_DOUBLE, norm2=CORRECT_NORM2):
    return tinycourse.answer(tinycourse.answer(base, "double", double), "norm2", norm2)


def probe(expr):
    """A `double` that is right only if ``expr`` (an attempt to escape) raises."""
    return (
        "def double(x):\n    return 2 * np.asarray(x, dtype=float)\n"
        f"try:\n    {expr}\n    def double(x):\n        return 3 * np.asarray(x, dtype=float)\n"
        "except Exception:\n    pass"
    )


def student_edition(path):
    """The notebook as a student receives it: hidden tests removed (as nbgrader does)."""
    nb = nbformat.read(str(path), as_version=4)
    for cell in nb.cells:
        cell.source = HIDDEN_BLOCK.sub("", cell.source)
    return nb


def copy_cell(cell):
    new = nbformat.from_dict(json.loads(json.dumps(cell)))
    new["id"] = uuid.uuid4().hex[:8]
    return new


def build_submissions(subs, solutions, out, listener):
    base = student_edition(solutions / "99_tiny" / "99_tiny.ipynb")
    twin = student_edition(solutions / "98_twin" / "98_twin.ipynb")
    stub = "def double(x):\n    raise NotImplementedError()"
    stub2 = "def norm2(v):\n    raise NotImplementedError()"
    cases = {}

    def add(student, nb, expected, reason="", name="99_tiny.ipynb"):
        (subs / student).mkdir(parents=True)
        target = subs / student / name
        if isinstance(nb, str):
            target.write_text(nb)
        else:
            nbformat.write(nb, str(target))
        cases[student] = (expected, reason)

    add("honest", notebook_for(base), 10)
    add("blank", notebook_for(base, stub, stub2), 0, "NotImplementedError")
    add(
        "infinite_loop",
        notebook_for(base, "def double(x):\n    while True:\n        pass"),
        5,
        "CellTimeoutError",
    )
    add(
        "memory_bomb",
        notebook_for(
            base,
            "hog = []\nwhile True:\n    hog.append(bytearray(200 * 2**20))\n"
            + CORRECT_DOUBLE,
        ),
        5,
        "NameError",
    )
    add(
        "fork_bomb",
        notebook_for(
            base,
            "import os, time\nforked = 0\ntry:\n    for _ in range(100000):\n"
            "        if os.fork() == 0:\n            time.sleep(120)\n            os._exit(0)\n"
            "        forked += 1\nexcept OSError:\n    pass\n"
            "assert forked < 100000\n" + CORRECT_DOUBLE,
        ),
        10,
    )
    add(
        "network",
        notebook_for(
            base,
            probe(
                f"__import__('socket').create_connection(('127.0.0.1', {listener.port}), timeout=3)"
            ),
        ),
        10,
    )
    add(
        "reads_solutions",
        notebook_for(
            base,
            probe(f"open({str(solutions / '99_tiny' / '99_tiny.ipynb')!r}).read()"),
        ),
        10,
    )
    add(
        "reads_repo_solutions",
        notebook_for(
            base,
            probe(
                f"print(open({str(REPO / 'solutions')!r} + '/' + "
                f"__import__('os').listdir({str(REPO / 'solutions')!r})[0] + '/' + "
                f"__import__('os').listdir({str(REPO / 'solutions')!r})[0] + '.ipynb').read())"
            ),
        ),
        10,
    )
    add(
        "reads_gradebook",
        notebook_for(base, probe(f"open({str(out / 'gradebook.db')!r}, 'rb').read()")),
        10,
    )
    add(
        "reads_other_student",
        notebook_for(
            base, probe(f"open({str(subs / 'honest' / '99_tiny.ipynb')!r}).read()")
        ),
        10,
    )
    writes = (
        "\n".join(
            f"for p in {[str(REPO / 'escaped.txt'), str(subs / 'escaped.txt'), str(out / 'escaped.txt'), HOST_TMP_MARK]!r}:".splitlines()
        )
        + "\n    try:\n        open(p, 'w').write('x')\n    except OSError:\n        pass\n"
    )
    add("writes_outside", notebook_for(base, writes + CORRECT_DOUBLE), 10)
    deleted = notebook_for(base)
    deleted.cells = [
        c
        for c in deleted.cells
        if c.metadata.get("nbgrader", {}).get("grade_id") != "test_double"
    ]
    add("deleted_test_cell", deleted, 10, "restored")
    edited = notebook_for(base, WRONG_DOUBLE)
    for c in edited.cells:
        if c.metadata.get("nbgrader", {}).get("grade_id") == "test_double":
            c.source = "pass"
    add("edited_locked_cell", edited, 5, "double(x) must return 2 * x")
    dup = notebook_for(base)
    i = next(
        i
        for i, c in enumerate(dup.cells)
        if c.metadata.get("nbgrader", {}).get("grade_id") == "double"
    )
    wrong_copy = copy_cell(dup.cells[i])
    wrong_copy.source = WRONG_DOUBLE
    dup.cells.insert(
        i + 2, wrong_copy
    )  # a second answer cell with the same grade id, after the tests
    dup.cells.insert(i + 3, copy_cell(dup.cells[i + 1]))  # a copied test cell
    add("duplicate_grade_id", dup, 10, "more than once")
    stripped = notebook_for(base)
    for c in stripped.cells:
        c.metadata.pop("nbgrader", None)
    add("stripped_metadata", stripped, 10, "metadata was removed")
    patch = (
        "import builtins, sys, numpy, dlcourse\n"
        "np.testing.assert_allclose = lambda *a, **k: None\n"
        "numpy.allclose = lambda *a, **k: True\n"
        "dlcourse.relative_error = lambda a, b: 0.0\n"
        "dlcourse.gradcheck.relative_error.__code__ = (lambda a, b: 0.0).__code__\n"
        "builtins.abs = lambda x: 0.0\n"
        "class Fake:\n    def __getattr__(self, name):\n        return lambda *a, **k: True\n"
        "sys.modules['numpy.testing'] = Fake()\n"
    )
    add(
        "monkeypatch",
        notebook_for(base, patch + WRONG_DOUBLE, "def norm2(v):\n    return 0.0"),
        0,
        "must return 2 * x",
    )
    add(
        "sys_exit",
        notebook_for(base, "import sys\nsys.exit(1)\n" + CORRECT_DOUBLE),
        5,
        "NameError",
    )
    add(
        "os_exit",
        notebook_for(base, CORRECT_DOUBLE, "import os\nos._exit(0)"),
        5,
        "kernel died",
    )
    add(
        "segfault",
        notebook_for(base, "import ctypes\nctypes.string_at(0)\n" + CORRECT_DOUBLE),
        0,
        "kernel died",
    )
    add(
        "enormous_output",
        notebook_for(
            base,
            "for i in range(300000):\n    print('spam' * 20, i)\n" + CORRECT_DOUBLE,
        ),
        10,
    )
    add("broken_json", nbformat.writes(base)[:300], 0, "not valid notebook JSON")
    add("empty_file", "", 0, "is empty")
    add("wrong_chapter", twin, 0, "is the notebook of chapter 98_twin")
    add(
        "renamed",
        notebook_for(base),
        10,
        "graded as 99_tiny",
        name="my homework final.ipynb",
    )
    add(
        "prints_warnings",
        notebook_for(
            base,
            "import sys, warnings\ndef double(x):\n"
            "    print('this may take a while', file=sys.stderr)\n"
            "    warnings.warn('a harmless warning')\n"
            "    return 2 * np.asarray(x, dtype=float)",
        ),
        10,
    )
    extra = notebook_for(base, "def double(x):\n    return helper(x)")
    i = next(
        i
        for i, c in enumerate(extra.cells)
        if c.metadata.get("nbgrader", {}).get("grade_id") == "double"
    )
    extra.cells.insert(i, nbformat.v4.new_code_cell("def helper(x):\n    return x + x"))
    extra.cells.insert(i, nbformat.v4.new_markdown_cell("My notes on the exercise."))
    add("extra_cells", extra, 10)
    add_kernel_attacks(add, base, stub, stub2)
    return cases


# Attacks on the IPython shell that runs both the submission and the tests (grader.protect).
# Each scores exactly what the same answers score without the attack.
WRONG_NORM2 = "def norm2(v):\n    return 0.0"
PATCH_TESTS = (
    "    np.testing.assert_allclose = lambda *a, **k: None\n    np.allclose = lambda *a, **k: True\n"
    "    dlcourse.relative_error = lambda a, b: 0.0\n    __import__('builtins').abs = lambda x: 0.0\n"
)
FAKE_REPLY = (
    "k = get_ipython().kernel\n"
    "async def fake(stream, ident, parent):\n"
    "    k.session.send(stream, 'execute_reply', {'status': 'ok', 'execution_count': 1,\n"
    "                   'user_expressions': {}, 'payload': []}, parent, ident=ident)\n"
)
KERNEL_ATTACKS = {
    # name: (double's cell, norm2's cell, expected score, expected reason)
    "input_transformer": (
        "get_ipython().input_transformers_cleanup.append(lambda lines: ['pass\\n'])\n{stub}",
        "{stub2}",
        0,
        "NotImplementedError",
    ),
    "post_transformer": (
        "get_ipython().input_transformers_post.append(lambda lines: ['pass\\n'])\n{stub}",
        "{stub2}",
        0,
        "NotImplementedError",
    ),
    "ast_strips_asserts": (
        "import ast\nclass NoAsserts(ast.NodeTransformer):\n    def visit_Assert(self, node):\n"
        "        return ast.Pass()\nget_ipython().ast_transformers.append(NoAsserts())\n"
        + WRONG_DOUBLE,
        "{correct2}",
        5,
        "must return 2 * x",
    ),
    "event_callbacks_print": (
        "ip = get_ipython()\nfor event in ('pre_execute', 'pre_run_cell'):\n"
        "    ip.events.register(event, lambda *info: print('SEEN', info and info[0].raw_cell))\n"
        "ip.events.register('post_run_cell', lambda result: print('SEEN', result.info.raw_cell))\n"
        + CORRECT_DOUBLE,
        "{correct2}",
        10,
        "",
    ),
    "hides_tracebacks": (
        "type(get_ipython()).showtraceback = lambda self, *a, **k: None\n"
        "get_ipython()._showtraceback = lambda *a, **k: None\n{stub}",
        "{stub2}",
        0,
        "",
    ),
    "custom_exception_handler": (
        "get_ipython().set_custom_exc((BaseException,), lambda *a, **k: None)\n{stub}",
        "{stub2}",
        0,
        "",
    ),
    "replaces_message_handler": (
        FAKE_REPLY + "k.shell_handlers['execute_request'] = fake\n{stub}",
        "{stub2}",
        0,
        "NotImplementedError",
    ),
    "replaces_kernel_method": (
        "k = get_ipython().kernel\nasync def fake(*a, **kw):\n"
        "    return {'status': 'ok', 'execution_count': 1, 'user_expressions': {}, 'payload': []}\n"
        "k.do_execute = fake\n{stub}",
        "{stub2}",
        0,
        "NotImplementedError",
    ),
    "replaces_shell_class_method": (
        "from IPython.core.interactiveshell import ExecutionInfo, ExecutionResult\n"
        "def fake(self, raw_cell, *a, **k):\n"
        "    return ExecutionResult(ExecutionInfo(raw_cell, False, False, False, None))\n"
        "async def fake_async(self, raw_cell, *a, **k):\n    return fake(self, raw_cell)\n"
        "shell_class = type(get_ipython())\n"
        "shell_class.run_cell, shell_class.run_cell_async = fake, fake_async\n{stub}",
        "{stub2}",
        0,
        "NotImplementedError",
    ),
    "drops_error_messages": (
        "k = get_ipython().kernel\nsend = k.session.send\n"
        "k.session.send = lambda stream, kind, *a, **kw: None if kind == 'error' "
        "else send(stream, kind, *a, **kw)\n{stub}",
        "{stub2}",
        0,
        "NotImplementedError",
    ),
    "trace_function_patches": (
        "import sys, dlcourse\ndef tracer(frame, event, arg):\n"
        + PATCH_TESTS
        + "sys.settrace(tracer)\nsys.setprofile(tracer)\n"
        + WRONG_DOUBLE,
        WRONG_NORM2,
        0,
        "",
    ),
    "signal_timer_patches": (
        "import signal, dlcourse\ndef handler(signum, frame):\n"
        + PATCH_TESTS
        + "signal.signal(signal.SIGALRM, handler)\nsignal.setitimer(signal.ITIMER_REAL, 0.002, 0.002)\n"
        + WRONG_DOUBLE,
        WRONG_NORM2,
        0,
        "",
    ),
    "thread_patches": (
        "import threading, time, dlcourse\ndef patch_forever():\n    while True:\n"
        + PATCH_TESTS.replace("    ", "        ")
        + "        time.sleep(0.001)\n"
        "threading.Thread(target=patch_forever, daemon=True).start()\n" + WRONG_DOUBLE,
        WRONG_NORM2,
        0,
        "a thread the submission started",
    ),
    # Right for the visible test, which it then disarms the hidden one with: the test's next line
    # looks up the replaced abs().
    "patches_while_tested": (
        CORRECT_DOUBLE,
        "import builtins\ncalls = []\ndef norm2(v):\n    calls.append(v)\n"
        "    builtins.abs = lambda x: 0.0\n"
        "    return float(np.sqrt(np.sum(np.square(v)))) if len(calls) == 1 else 0.0",
        5,
        "while the tests ran",
    ),
    "replaces_guard": (
        "import dlcourse\n__dlcourse_guard = lambda: None\n"
        + PATCH_TESTS.replace("    ", "")
        + WRONG_DOUBLE,
        WRONG_NORM2,
        0,
        "",
    ),
    "audit_hook": (
        probe(
            "seen = []; __import__('sys').addaudithook(lambda e, a: seen.append(e)); "
            "open('/dev/null').close(); assert seen"
        ),
        "{correct2}",
        10,
        "",
    ),
    "reads_history": (
        CORRECT_DOUBLE,
        "import linecache, sys\nprint(In, _ih, _i, _ii, _iii, Out)\n"
        "print([''.join(entry[2]) for entry in linecache.cache.values() if len(entry) > 2])\n"
        "print(getattr(sys, 'last_value', None))\n{correct2}",
        10,
        "",
    ),
    "leaks_through_the_stack": (
        "import inspect\nseen = []\ndef double(x):\n"
        "    seen.extend(''.join(f.code_context or []) for f in inspect.stack(context=40))\n"
        "    return 2 * np.asarray(x, dtype=float)",
        "print('\\n'.join(seen))\n{correct2}",
        10,
        "",
    ),
    "raises_hidden_code": (
        "import inspect\ndef double(x):\n"
        "    raise ValueError(''.join(inspect.stack(context=40)[1].code_context))",
        "{correct2}",
        5,
        "ValueError",
    ),
}
LEAKS_ONLY_IN_OUTPUT = {
    "leaks_through_the_stack",
    "raises_hidden_code",
}  # the grader must scrub these pages


def add_kernel_attacks(add, base, stub, stub2):
    for name, (double, norm2, expected, reason) in KERNEL_ATTACKS.items():
        fill = {"{stub}": stub, "{stub2}": stub2, "{correct2}": CORRECT_NORM2}
        for placeholder, text in fill.items():
            double, norm2 = (
                double.replace(placeholder, text),
                norm2.replace(placeholder, text),
            )
        add(name, notebook_for(base, double, norm2), expected, reason)


def tree_digest(folder, skip=()):
    """{relative path: content hash} of every file under ``folder``."""
    digest = {}
    for p in sorted(folder.rglob("*")):
        rel = p.relative_to(folder)
        if rel.parts and (rel.parts[0] in skip or "__pycache__" in rel.parts):
            continue
        if p.is_file() and not p.is_symlink():
            digest[str(rel)] = hashlib.sha256(p.read_bytes()).hexdigest()
    return digest


def changed(before, after):
    return sorted(
        k for k in before.keys() | after.keys() if before.get(k) != after.get(k)
    )


def grader_command(subs, out, solutions, *extra):
    """The grader on the tiny chapter, with limits small enough for tests (later options win)."""
    return [sys.executable, "-m", "grader", str(subs), "--out", str(out),
            "--solutions", str(solutions), "--chapter", "99_tiny", "--cell-timeout", "20",
            "--notebook-timeout", "180", "--memory-mb", "2048", *extra]  # fmt: skip


def grade(subs, out, solutions, *extra):
    cmd = grader_command(subs, out, solutions, *extra)
    return subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=1200)


def read_rows(out):
    with open(out / "exercises.csv", newline="") as f:
        return list(csv.DictReader(f))


def per_student(rows):
    result = {}
    for r in rows:
        entry = result.setdefault(
            r["student"],
            {
                "score": 0.0,
                "reason": r["reason"],
                "notes": r["notes"],
                "status": r["status"],
                "cells": {},
            },
        )
        entry["score"] += float(r["score"])
        entry["cells"][r["grade_id"]] = float(r["score"])
    return result


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    root = tmp_path_factory.mktemp("adversarial")
    solutions = tinycourse.write_course(root / "solutions")
    subs, out = root / "submissions", root / "out"
    listener = Listener()
    try:
        cases = build_submissions(subs, solutions, out, listener)
        repo_before = tree_digest(
            REPO, skip={".workspace", "_build", ".pytest_cache", ".venv", ".git"}
        )
        subs_before = tree_digest(subs)
        start = time.perf_counter()
        done = grade(subs, out, solutions, "--workers", "2")
        seconds = time.perf_counter() - start
    finally:
        listener.close()
    return dict(
        root=root,
        solutions=solutions,
        subs=subs,
        out=out,
        cases=cases,
        done=done,
        seconds=seconds,
        hits=listener.hits,
        repo_before=repo_before,
        subs_before=subs_before,
    )


def test_batch_completes_with_a_summary(batch):
    assert batch["done"].returncode == 0, batch["done"].stderr[-3000:]
    assert "submission(s): mean" in batch["done"].stdout
    assert len(batch["cases"]) >= 15


@pytest.mark.parametrize(
    "student",
    [
        "honest",
        "blank",
        "infinite_loop",
        "memory_bomb",
        "fork_bomb",
        "network",
        "reads_solutions",
        "reads_repo_solutions",
        "reads_gradebook",
        "reads_other_student",
        "writes_outside",
        "deleted_test_cell",
        "edited_locked_cell",
        "duplicate_grade_id",
        "stripped_metadata",
        "monkeypatch",
        "sys_exit",
        "os_exit",
        "segfault",
        "enormous_output",
        "broken_json",
        "empty_file",
        "wrong_chapter",
        "renamed",
        "prints_warnings",
        "extra_cells",
        *KERNEL_ATTACKS,
    ],
)
def test_exact_outcome(batch, student):
    if not FULL and student in {
        "network",
        "reads_solutions",
        "reads_repo_solutions",
        "reads_gradebook",
        "reads_other_student",
        "writes_outside",
        "fork_bomb",
    }:
        pytest.skip("this machine gives no namespace isolation")
    expected, reason = batch["cases"][student]
    got = per_student(read_rows(batch["out"]))
    assert student in got, f"{student} is missing from exercises.csv"
    entry = got[student]
    assert entry["score"] == expected, f"{student}: {entry}"
    assert reason in entry["reason"] + " " + entry["notes"], (
        f"{student}: expected {reason!r} in {entry}"
    )


def test_grades_csv_agrees(batch):
    with open(batch["out"] / "grades.csv", newline="") as f:
        scores = {r["student_id"]: float(r["score"]) for r in csv.DictReader(f)}
    assert scores == {s: float(e) for s, (e, _) in batch["cases"].items()}


@needs_isolation
def test_no_network_and_nothing_written_outside(batch):
    assert batch["hits"] == 0, "a submission reached a server on the host's loopback"
    for path in [
        REPO / "escaped.txt",
        batch["subs"] / "escaped.txt",
        batch["out"] / "escaped.txt",
        pathlib.Path(HOST_TMP_MARK),
    ]:
        assert not path.exists(), f"a submission wrote {path}"
    after = tree_digest(
        REPO, skip={".workspace", "_build", ".pytest_cache", ".venv", ".git"}
    )
    assert not changed(batch["repo_before"], after), (
        f"files changed in the repository: {changed(batch['repo_before'], after)[:5]}"
    )
    assert not changed(batch["subs_before"], tree_digest(batch["subs"])), (
        "the submissions folder was changed"
    )


@needs_isolation
def test_no_process_outlives_the_batch(batch):
    left = subprocess.run(
        ["ps", "-eo", "uid="], capture_output=True, text=True
    ).stdout.split()
    slot_uids = range(
        sandbox.SLOT_UID_BASE, sandbox.SLOT_UID_BASE + 1024
    )  # not `nobody` (65534)
    assert not [u for u in left if int(u) in slot_uids], (
        "processes of the grading user ids survived"
    )


def test_gradebook_intact(batch):
    with sqlite3.connect(batch["out"] / "gradebook.db") as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        students = {r[0] for r in db.execute("SELECT id FROM student")}
    assert students == set(batch["cases"])


def hidden_lines(solutions):
    nb = nbformat.read(str(solutions / "99_tiny" / "99_tiny.ipynb"), as_version=4)
    return {
        ln.strip()
        for c in nb.cells
        for block in HIDDEN_BLOCK.findall(c.source)
        for ln in block.splitlines()
        if len(ln.strip()) >= 12
    }


def page_text(path):
    return html.unescape(re.sub(r"<[^>]+>", "", path.read_text(encoding="utf-8")))


def test_no_feedback_page_holds_hidden_test_code(batch):
    secrets = hidden_lines(batch["solutions"])
    assert len(secrets) == 2
    pages = sorted((batch["out"] / "feedback").glob("*/99_tiny/99_tiny.html"))
    assert len(pages) >= 30, f"only {len(pages)} feedback pages"
    for page in pages:
        text = page_text(page)
        leaked = [s for s in secrets if s in text]
        assert not leaked, (
            f"{page.parent.parent.name}'s feedback shows hidden test code: {leaked}"
        )


def test_scrubbing_is_reported_only_where_needed(batch):
    got = per_student(read_rows(batch["out"]))
    for student in LEAKS_ONLY_IN_OUTPUT:
        assert "hidden test code removed" in got[student]["notes"], (
            f"{student}: {got[student]}"
        )
    for student in ("honest", "reads_history", "event_callbacks_print"):
        assert "hidden test code removed" not in got[student]["notes"], (
            f"{student}: {got[student]}"
        )
    assert "hidden test code was removed from the feedback of" in batch["done"].stdout


def test_feedback_shows_messages_not_hidden_tests(batch):
    page = (
        batch["out"] / "feedback" / "edited_locked_cell" / "99_tiny" / "99_tiny.html"
    ).read_text()
    assert "double(x) must return 2 * x" in page
    assert "relative_error(double(np.linspace" not in page, (
        "feedback shows hidden test code"
    )
    big = batch["out"] / "feedback" / "enormous_output" / "99_tiny" / "99_tiny.html"
    assert big.stat().st_size < 3_000_000, "enormous output was not truncated"


def test_parallel_equals_sequential_and_resume(batch, tmp_path):
    subset = tmp_path / "subs"
    for student in ["honest", "blank", "edited_locked_cell", "monkeypatch", "os_exit"]:
        (subset / student).mkdir(parents=True)
        for f in (batch["subs"] / student).iterdir():
            (subset / student / f.name).write_bytes(f.read_bytes())
    out = tmp_path / "sequential"
    done = grade(subset, out, batch["solutions"], "--workers", "1")
    assert done.returncode == 0, done.stderr[-2000:]
    parallel = {
        s: e["cells"]
        for s, e in per_student(read_rows(batch["out"])).items()
        if (subset / s).exists()
    }
    sequential = {s: e["cells"] for s, e in per_student(read_rows(out)).items()}
    assert sequential == parallel
    again = grade(subset, out, batch["solutions"], "--workers", "1")
    assert "0 to grade, 5 unchanged" in again.stderr, again.stderr[-2000:]
    assert {s: e["cells"] for s, e in per_student(read_rows(out)).items()} == sequential
    nb = subset / "blank" / "99_tiny.ipynb"
    nb.write_text(
        json.dumps(
            {
                **json.loads(nb.read_text()),
                "metadata": {**json.loads(nb.read_text())["metadata"], "x": 1},
            }
        )
    )
    changed = grade(subset, out, batch["solutions"], "--workers", "1")
    assert "1 to grade, 4 unchanged" in changed.stderr, changed.stderr[-2000:]


LEAVE_TRACES = (
    """import os, time
for folder in ("/tmp", "/var/tmp", "/dev/shm"):
    open(f"{folder}/dlcourse-trace-file", "w").write("left by the previous student")
if os.fork() == 0:  # a detached process that keeps leaving traces
    os.setsid()
    for i in range(3000):
        try:
            open(f"/dev/shm/dlcourse-trace-live-{i}", "w").write("still here")
        except OSError:
            pass
        time.sleep(0.1)
    os._exit(0)
"""
    + CORRECT_DOUBLE
)

FIND_TRACES = (
    "__import__('time').sleep(1.0); [open(d + '/' + n).read() for d in ('/tmp', '/var/tmp', '/dev/shm') "
    "for n in __import__('os').listdir(d) if n.startswith('dlcourse-trace')][0]"
)


@needs_isolation
def test_nothing_passes_from_one_submission_to_the_next(batch, tmp_path):
    """A worker slot grades submissions one after another: files and processes of one must not reach the next."""
    subs = tmp_path / "subs"
    for student, double in [
        ("a_leaves_traces", LEAVE_TRACES),
        ("b_finds_traces", probe(FIND_TRACES)),
    ]:
        (subs / student).mkdir(parents=True)
        nb = notebook_for(
            student_edition(batch["solutions"] / "99_tiny" / "99_tiny.ipynb"), double
        )
        nbformat.write(nb, str(subs / student / "99_tiny.ipynb"))
    done = grade(subs, tmp_path / "out", batch["solutions"], "--workers", "1")
    assert done.returncode == 0, done.stderr[-2000:]
    got = per_student(read_rows(tmp_path / "out"))
    assert got["a_leaves_traces"]["score"] == 10, got["a_leaves_traces"]
    assert got["b_finds_traces"]["score"] == 10, (
        f"the second submission found the first one's traces: {got['b_finds_traces']}"
    )


def test_a_submission_over_the_notebook_time_limit_costs_only_its_own_grade(
    batch, tmp_path
):
    """The notebook limit stops the whole worker slot; the next submission gets a fresh one."""
    subs = tmp_path / "subs"
    slow = "import time\ntime.sleep(8)\n"
    for student, nb in [
        (
            "a_too_slow",
            notebook_for(
                student_edition(batch["solutions"] / "99_tiny" / "99_tiny.ipynb"),
                slow + CORRECT_DOUBLE,
                slow + CORRECT_NORM2,
            ),
        ),
        (
            "b_honest",
            notebook_for(
                student_edition(batch["solutions"] / "99_tiny" / "99_tiny.ipynb")
            ),
        ),
    ]:
        (subs / student).mkdir(parents=True)
        nbformat.write(nb, str(subs / student / "99_tiny.ipynb"))
    done = grade(
        subs,
        tmp_path / "out",
        batch["solutions"],
        "--workers",
        "1",
        "--notebook-timeout",
        "12",
    )
    assert done.returncode == 0, done.stderr[-2000:]
    got = per_student(read_rows(tmp_path / "out"))
    assert (
        got["a_too_slow"]["score"] == 0
        and "notebook time limit" in got["a_too_slow"]["reason"]
    ), got["a_too_slow"]
    assert got["b_honest"]["score"] == 10, got["b_honest"]
    assert (tmp_path / "out" / "jobs" / "a_too_slow__99_tiny").is_dir(), (
        "the failed job is kept for inspection"
    )


def test_a_broken_environment_stops_the_batch_before_any_student(batch, tmp_path):
    """The self-check: when the reference solution cannot earn full marks here (a module the setup cell
    needs is missing from the sandbox's Python), nobody is graded and the command fails, saying why."""
    solutions = tinycourse.write_course(tmp_path / "solutions")
    path = solutions / "99_tiny" / "99_tiny.ipynb"
    nb = nbformat.read(str(path), as_version=4)
    nb.cells[1].source = (
        "import dlcourse_module_missing_from_the_sandbox\n" + nb.cells[1].source
    )
    nbformat.write(nb, str(path))
    subs = tmp_path / "subs"
    (subs / "honest").mkdir(parents=True)
    nbformat.write(
        notebook_for(student_edition(path)), str(subs / "honest" / "99_tiny.ipynb")
    )
    done = grade(subs, tmp_path / "out", solutions, "--workers", "2")
    assert done.returncode == 3, done.stderr[-2000:]
    assert "the self-check failed, so no submission was graded" in done.stderr, (
        done.stderr[-2000:]
    )
    assert (
        "the reference solution scored 0/10" in done.stderr
        and "dlcourse_module_missing" in done.stderr
    )
    assert not (tmp_path / "out" / "feedback" / "honest").exists(), (
        "a student was graded after a failed self-check"
    )


def slot_processes(out):
    """Processes of the grading user ids, or whose command line names this batch's folder."""
    table = subprocess.run(
        ["ps", "-eo", "pid=,uid=,args="], capture_output=True, text=True
    ).stdout.splitlines()
    slot_uids = range(sandbox.SLOT_UID_BASE, sandbox.SLOT_UID_BASE + 1024)
    found = []
    for line in table:
        pid, uid, args = (
            line.split(None, 2)
            if len(line.split(None, 2)) == 3
            else (*line.split(None, 1), "")
        )
        if int(pid) != os.getpid() and (int(uid) in slot_uids or str(out) in args):
            found.append(line.strip())
    return found


def wait_until(condition, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return condition()


@needs_isolation
def test_nothing_outlives_a_terminated_or_killed_batch(batch, tmp_path):
    """SIGTERM (as `timeout` or a closed terminal sends it) stops every worker, kernel and sandbox with one
    line of explanation; the next run resumes; a batch killed outright (SIGKILL) takes its workers too."""
    subs, out = tmp_path / "subs", tmp_path / "out"
    base = student_edition(batch["solutions"] / "99_tiny" / "99_tiny.ipynb")
    slow = "import time\ntime.sleep(100)\n" + CORRECT_DOUBLE
    for student, nb in [
        ("a_honest", notebook_for(base)),
        ("b_slow", notebook_for(base, slow)),
    ]:
        (subs / student).mkdir(parents=True)
        nbformat.write(nb, str(subs / student / "99_tiny.ipynb"))
    cmd = grader_command(
        subs, out, batch["solutions"], "--cell-timeout", "150", "--workers", "1"
    )
    for how in (signal.SIGTERM, signal.SIGKILL):
        proc = subprocess.Popen(
            cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        try:
            state = out / "state.json"
            started = wait_until(
                lambda: (
                    state.exists()
                    and "a_honest" in state.read_text()
                    and any(
                        str(sandbox.SLOT_UID_BASE) in p.split()[1]
                        for p in slot_processes(out)
                    )
                ),
                240,
            )
            assert started, f"the slow submission never started: {slot_processes(out)}"
            proc.send_signal(how)
            _, stderr = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
        assert wait_until(lambda: not slot_processes(out), 10), (
            f"left running after {how.name}: {slot_processes(out)}"
        )
        if how == signal.SIGTERM:
            assert proc.returncode == 128 + signal.SIGTERM, stderr[-2000:]
            assert "Traceback" not in stderr, stderr[-3000:]
            assert [
                ln for ln in stderr.splitlines() if "interrupted (SIGTERM)" in ln
            ], stderr[-2000:]
            recorded = json.loads((out / "state.json").read_text())
            assert set(recorded) == {"a_honest/99_tiny"}, (
                recorded
            )  # the interrupted job is not recorded
            with sqlite3.connect(out / "gradebook.db") as db:
                assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        else:
            assert "1 to grade, 1 unchanged" in stderr, stderr[
                -2000:
            ]  # the second run resumed
