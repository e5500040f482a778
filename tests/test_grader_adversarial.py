"""The grader against bad submissions: each gets exactly its expected grade and reason,
the batch completes, nobody else's grade changes, the gradebook stays intact, and
nothing is written outside the sandbox. Uses the two-chapter tiny course of tinycourse.py.
"""
import csv
import hashlib
import json
import os
import pathlib
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
from nbtools import HIDDEN_BLOCK, REPO

from grader import sandbox

FULL = sandbox.isolation()[0] == "full"
needs_isolation = pytest.mark.skipif(not FULL, reason="needs Linux namespaces as root (see the instructor's guide)")

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
    return ("def double(x):\n    return 2 * np.asarray(x, dtype=float)\n"
            f"try:\n    {expr}\n    def double(x):\n        return 3 * np.asarray(x, dtype=float)\n"
            "except Exception:\n    pass")


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
    add("infinite_loop", notebook_for(base, "def double(x):\n    while True:\n        pass"), 5, "CellTimeoutError")
    add("memory_bomb", notebook_for(base, "hog = []\nwhile True:\n    hog.append(bytearray(200 * 2**20))\n" + CORRECT_DOUBLE),
        5, "NameError")
    add("fork_bomb", notebook_for(base, "import os, time\nforked = 0\ntry:\n    for _ in range(100000):\n"
                                        "        if os.fork() == 0:\n            time.sleep(120)\n            os._exit(0)\n"
                                        "        forked += 1\nexcept OSError:\n    pass\n"
                                        "assert forked < 100000\n" + CORRECT_DOUBLE), 10)
    add("network", notebook_for(base, probe(f"__import__('socket').create_connection(('127.0.0.1', {listener.port}), timeout=3)")), 10)
    add("reads_solutions", notebook_for(base, probe(f"open({str(solutions / '99_tiny' / '99_tiny.ipynb')!r}).read()")), 10)
    add("reads_repo_solutions", notebook_for(base, probe(f"print(open({str(REPO / 'solutions')!r} + '/' + "
                                                         f"__import__('os').listdir({str(REPO / 'solutions')!r})[0] + '/' + "
                                                         f"__import__('os').listdir({str(REPO / 'solutions')!r})[0] + '.ipynb').read())")), 10)
    add("reads_gradebook", notebook_for(base, probe(f"open({str(out / 'gradebook.db')!r}, 'rb').read()")), 10)
    add("reads_other_student", notebook_for(base, probe(f"open({str(subs / 'honest' / '99_tiny.ipynb')!r}).read()")), 10)
    writes = "\n".join(f"for p in {[str(REPO / 'escaped.txt'), str(subs / 'escaped.txt'), str(out / 'escaped.txt'), HOST_TMP_MARK]!r}:"
                       .splitlines()) + "\n    try:\n        open(p, 'w').write('x')\n    except OSError:\n        pass\n"
    add("writes_outside", notebook_for(base, writes + CORRECT_DOUBLE), 10)
    deleted = notebook_for(base)
    deleted.cells = [c for c in deleted.cells if c.metadata.get("nbgrader", {}).get("grade_id") != "test_double"]
    add("deleted_test_cell", deleted, 10, "restored")
    edited = notebook_for(base, WRONG_DOUBLE)
    for c in edited.cells:
        if c.metadata.get("nbgrader", {}).get("grade_id") == "test_double":
            c.source = "pass"
    add("edited_locked_cell", edited, 5, "double(x) must return 2 * x")
    dup = notebook_for(base)
    i = next(i for i, c in enumerate(dup.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == "double")
    wrong_copy = copy_cell(dup.cells[i])
    wrong_copy.source = WRONG_DOUBLE
    dup.cells.insert(i + 2, wrong_copy)  # a second answer cell with the same grade id, after the tests
    dup.cells.insert(i + 3, copy_cell(dup.cells[i + 1]))  # a copied test cell
    add("duplicate_grade_id", dup, 10, "more than once")
    stripped = notebook_for(base)
    for c in stripped.cells:
        c.metadata.pop("nbgrader", None)
    add("stripped_metadata", stripped, 10, "metadata was removed")
    patch = ("import builtins, sys, numpy, dlcourse\n"
             "np.testing.assert_allclose = lambda *a, **k: None\n"
             "numpy.allclose = lambda *a, **k: True\n"
             "dlcourse.relative_error = lambda a, b: 0.0\n"
             "dlcourse.gradcheck.relative_error.__code__ = (lambda a, b: 0.0).__code__\n"
             "builtins.abs = lambda x: 0.0\n"
             "class Fake:\n    def __getattr__(self, name):\n        return lambda *a, **k: True\n"
             "sys.modules['numpy.testing'] = Fake()\n")
    add("monkeypatch", notebook_for(base, patch + WRONG_DOUBLE, "def norm2(v):\n    return 0.0"), 0, "must return 2 * x")
    add("sys_exit", notebook_for(base, "import sys\nsys.exit(1)\n" + CORRECT_DOUBLE), 5, "NameError")
    add("os_exit", notebook_for(base, CORRECT_DOUBLE, "import os\nos._exit(0)"), 5, "kernel died")
    add("segfault", notebook_for(base, "import ctypes\nctypes.string_at(0)\n" + CORRECT_DOUBLE), 0, "kernel died")
    add("enormous_output", notebook_for(base, "for i in range(300000):\n    print('spam' * 20, i)\n" + CORRECT_DOUBLE), 10)
    add("broken_json", nbformat.writes(base)[:300], 0, "not valid notebook JSON")
    add("empty_file", "", 0, "is empty")
    add("wrong_chapter", twin, 0, "is the notebook of chapter 98_twin")
    add("renamed", notebook_for(base), 10, "graded as 99_tiny", name="my homework final.ipynb")
    add("prints_warnings", notebook_for(base, "import sys, warnings\ndef double(x):\n"
                                              "    print('this may take a while', file=sys.stderr)\n"
                                              "    warnings.warn('a harmless warning')\n"
                                              "    return 2 * np.asarray(x, dtype=float)"), 10)
    extra = notebook_for(base, "def double(x):\n    return helper(x)")
    i = next(i for i, c in enumerate(extra.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == "double")
    extra.cells.insert(i, nbformat.v4.new_code_cell("def helper(x):\n    return x + x"))
    extra.cells.insert(i, nbformat.v4.new_markdown_cell("My notes on the exercise."))
    add("extra_cells", extra, 10)
    return cases


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
    return sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))


def grade(subs, out, solutions, *extra):
    cmd = [sys.executable, "-m", "grader", str(subs), "--out", str(out), "--solutions", str(solutions),
           "--chapter", "99_tiny", "--cell-timeout", "20", "--notebook-timeout", "180", "--memory-mb", "2048", *extra]
    return subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=1200)


def read_rows(out):
    with open(out / "exercises.csv", newline="") as f:
        return list(csv.DictReader(f))


def per_student(rows):
    result = {}
    for r in rows:
        entry = result.setdefault(r["student"], {"score": 0.0, "reason": r["reason"], "notes": r["notes"],
                                                 "status": r["status"], "cells": {}})
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
        repo_before = tree_digest(REPO, skip={".workspace", "_build", ".pytest_cache", ".venv", ".git"})
        subs_before = tree_digest(subs)
        start = time.perf_counter()
        done = grade(subs, out, solutions, "--workers", "2")
        seconds = time.perf_counter() - start
    finally:
        listener.close()
    return dict(root=root, solutions=solutions, subs=subs, out=out, cases=cases, done=done, seconds=seconds,
                hits=listener.hits, repo_before=repo_before, subs_before=subs_before)


def test_batch_completes_with_a_summary(batch):
    assert batch["done"].returncode == 0, batch["done"].stderr[-3000:]
    assert "submission(s): mean" in batch["done"].stdout
    assert len(batch["cases"]) >= 15


@pytest.mark.parametrize("student", [
    "honest", "blank", "infinite_loop", "memory_bomb", "fork_bomb", "network", "reads_solutions",
    "reads_repo_solutions", "reads_gradebook", "reads_other_student", "writes_outside", "deleted_test_cell",
    "edited_locked_cell", "duplicate_grade_id", "stripped_metadata", "monkeypatch", "sys_exit", "os_exit",
    "segfault", "enormous_output", "broken_json", "empty_file", "wrong_chapter", "renamed", "prints_warnings",
    "extra_cells"])
def test_exact_outcome(batch, student):
    if not FULL and student in {"network", "reads_solutions", "reads_repo_solutions", "reads_gradebook",
                                "reads_other_student", "writes_outside", "fork_bomb"}:
        pytest.skip("this machine gives no namespace isolation")
    expected, reason = batch["cases"][student]
    got = per_student(read_rows(batch["out"]))
    assert student in got, f"{student} is missing from exercises.csv"
    entry = got[student]
    assert entry["score"] == expected, f"{student}: {entry}"
    assert reason in entry["reason"] + " " + entry["notes"], f"{student}: expected {reason!r} in {entry}"


def test_grades_csv_agrees(batch):
    with open(batch["out"] / "grades.csv", newline="") as f:
        scores = {r["student_id"]: float(r["score"]) for r in csv.DictReader(f)}
    assert scores == {s: float(e) for s, (e, _) in batch["cases"].items()}


@needs_isolation
def test_no_network_and_nothing_written_outside(batch):
    assert batch["hits"] == 0, "a submission reached a server on the host's loopback"
    for path in [REPO / "escaped.txt", batch["subs"] / "escaped.txt", batch["out"] / "escaped.txt",
                 pathlib.Path(HOST_TMP_MARK)]:
        assert not path.exists(), f"a submission wrote {path}"
    after = tree_digest(REPO, skip={".workspace", "_build", ".pytest_cache", ".venv", ".git"})
    assert not changed(batch["repo_before"], after), f"files changed in the repository: {changed(batch['repo_before'], after)[:5]}"
    assert not changed(batch["subs_before"], tree_digest(batch["subs"])), "the submissions folder was changed"


@needs_isolation
def test_no_process_outlives_the_batch(batch):
    left = subprocess.run(["ps", "-eo", "uid="], capture_output=True, text=True).stdout.split()
    slot_uids = range(sandbox.SLOT_UID_BASE, sandbox.SLOT_UID_BASE + 1024)  # not `nobody` (65534)
    assert not [u for u in left if int(u) in slot_uids], "processes of the grading user ids survived"


def test_gradebook_intact(batch):
    with sqlite3.connect(batch["out"] / "gradebook.db") as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        students = {r[0] for r in db.execute("SELECT id FROM student")}
    assert students == set(batch["cases"])


def test_feedback_shows_messages_not_hidden_tests(batch):
    page = (batch["out"] / "feedback" / "edited_locked_cell" / "99_tiny" / "99_tiny.html").read_text()
    assert "double(x) must return 2 * x" in page
    assert "relative_error(double(np.linspace" not in page, "feedback shows hidden test code"
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
    parallel = {s: e["cells"] for s, e in per_student(read_rows(batch["out"])).items() if (subset / s).exists()}
    sequential = {s: e["cells"] for s, e in per_student(read_rows(out)).items()}
    assert sequential == parallel
    again = grade(subset, out, batch["solutions"], "--workers", "1")
    assert "0 to grade, 5 unchanged" in again.stderr, again.stderr[-2000:]
    assert {s: e["cells"] for s, e in per_student(read_rows(out)).items()} == sequential
    nb = subset / "blank" / "99_tiny.ipynb"
    nb.write_text(json.dumps({**json.loads(nb.read_text()), "metadata": {**json.loads(nb.read_text())["metadata"], "x": 1}}))
    changed = grade(subset, out, batch["solutions"], "--workers", "1")
    assert "1 to grade, 4 unchanged" in changed.stderr, changed.stderr[-2000:]


LEAVE_TRACES = """import os, time
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
""" + CORRECT_DOUBLE

FIND_TRACES = ("__import__('time').sleep(1.0); [open(d + '/' + n).read() for d in ('/tmp', '/var/tmp', '/dev/shm') "
               "for n in __import__('os').listdir(d) if n.startswith('dlcourse-trace')][0]")


@needs_isolation
def test_nothing_passes_from_one_submission_to_the_next(batch, tmp_path):
    """A worker slot grades submissions one after another: files and processes of one must not reach the next."""
    subs = tmp_path / "subs"
    for student, double in [("a_leaves_traces", LEAVE_TRACES), ("b_finds_traces", probe(FIND_TRACES))]:
        (subs / student).mkdir(parents=True)
        nb = notebook_for(student_edition(batch["solutions"] / "99_tiny" / "99_tiny.ipynb"), double)
        nbformat.write(nb, str(subs / student / "99_tiny.ipynb"))
    done = grade(subs, tmp_path / "out", batch["solutions"], "--workers", "1")
    assert done.returncode == 0, done.stderr[-2000:]
    got = per_student(read_rows(tmp_path / "out"))
    assert got["a_leaves_traces"]["score"] == 10, got["a_leaves_traces"]
    assert got["b_finds_traces"]["score"] == 10, f"the second submission found the first one's traces: {got['b_finds_traces']}"


def test_a_submission_over_the_notebook_time_limit_costs_only_its_own_grade(batch, tmp_path):
    """The notebook limit stops the whole worker slot; the next submission gets a fresh one."""
    subs = tmp_path / "subs"
    slow = "import time\ntime.sleep(8)\n"
    for student, nb in [("a_too_slow", notebook_for(student_edition(batch["solutions"] / "99_tiny" / "99_tiny.ipynb"),
                                                    slow + CORRECT_DOUBLE, slow + CORRECT_NORM2)),
                        ("b_honest", notebook_for(student_edition(batch["solutions"] / "99_tiny" / "99_tiny.ipynb")))]:
        (subs / student).mkdir(parents=True)
        nbformat.write(nb, str(subs / student / "99_tiny.ipynb"))
    done = grade(subs, tmp_path / "out", batch["solutions"], "--workers", "1", "--notebook-timeout", "12")
    assert done.returncode == 0, done.stderr[-2000:]
    got = per_student(read_rows(tmp_path / "out"))
    assert got["a_too_slow"]["score"] == 0 and "notebook time limit" in got["a_too_slow"]["reason"], got["a_too_slow"]
    assert got["b_honest"]["score"] == 10, got["b_honest"]
    assert (tmp_path / "out" / "jobs" / "a_too_slow__99_tiny").is_dir(), "the failed job is kept for inspection"
