"""The student's and the instructor's JupyterLab (lab/lab_config.py) in a real browser.

Each mode's JupyterLab is started as `make lab` / `make lab-instructor` start it (from the
repository root, with lab/lab_config.py), on a free loopback port with a random token,
with its settings and workspaces in a temporary folder, and is always stopped at the end.
Playwright drives the system's Chromium, as in test_browser.py (skipped, saying why, where
it is missing).

Student mode, on a copy of the student edition made by `make student-work`: chapter 01 opens
on the course's kernel with no dialog; no instructor tool exists (no formgrader, Create
Assignment or course list command, panel or menu item); Run All runs; Validate on the blank
notebook lists every exercise's test with the course's "not answered yet" message; after
one answer is typed in, Validate passes that exercise's test and still fails the others.
Instructor mode: the formgrader lists every chapter and its autograde API refuses, pointing
to `make grade`. Screenshots of each step go to _build/screenshots/lab/.
"""

import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

import nbtools
from grader.execute import UNANSWERED
from grader.formgrader import ADVICE
from test_browser import CHROMIUM_ARGS, chromium_path

SHOTS = nbtools.REPO / "_build" / "screenshots" / "lab"
LAB_CONFIG = nbtools.REPO / "lab" / "lab_config.py"
CHAPTER = "01_autodiff"  # the smallest chapter
ANSWERED = "gradient_check"  # the exercise the test answers
# Console errors the browser may log that are not the course's (none so far).
EXPECTED_CONSOLE_ERRORS = ()
INSTRUCTOR_COMMANDS = (
    "nbgrader:open-formgrader",
    "nbgrader:open-formgrader-local",
    "nbgrader:open-create-assignment",
    "nbgrader:open-course-list",
)


# Run All has finished: no cell waits or runs ([*]) and the first code cell has run.
RUN_ALL_DONE = """() => {
  const prompts = [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')]
    .map(e => e.textContent);
  return prompts.length && /\\d/.test(prompts[0]) && !prompts.some(t => t.includes('*'));
}"""


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def jupyterlab(mode, tmp, root=None):
    """JupyterLab in `mode`; yields (base URL, token). Stopped, with its kernels, at the end."""
    assert LAB_CONFIG.is_file()  # (JupyterLab would start without it, silently)
    port, token = _free_port(), secrets.token_hex(16)
    env = {
        **os.environ,
        "DLCOURSE_LAB": mode,
        "JUPYTERLAB_SETTINGS_DIR": str(tmp / "settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(tmp / "workspaces"),
        "JUPYTER_RUNTIME_DIR": str(tmp / "runtime"),
    }
    env.pop(
        "MPLBACKEND", None
    )  # the student's notebook gets JupyterLab's inline figures
    cmd = [
        sys.executable, "-m", "jupyterlab",
        f"--config={LAB_CONFIG}",
        "--no-browser", f"--port={port}", "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        # the test reads the command registry (window.jupyterapp)
        "--LabApp.expose_app_in_browser=True",
    ]  # fmt: skip
    if root is not None:
        cmd.append(f"--ServerApp.root_dir={root}")
    if os.geteuid() == 0:
        cmd.append("--allow-root")
    log = open(tmp / f"{mode}-server.log", "w")
    proc = subprocess.Popen(
        cmd, cwd=nbtools.REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(
                    f"{base}/api/status?token={token}", timeout=5
                ):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    log.flush()
                    pytest.fail(
                        f"JupyterLab ({mode}) did not start:\n"
                        + (tmp / f"{mode}-server.log").read_text()[-3000:]
                    )
                time.sleep(0.5)
        yield base, token
    finally:
        # SIGTERM to the whole session: the server and every kernel it started.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(15)
        log.close()


@pytest.fixture(scope="module")
def browser():
    executable = chromium_path()
    if executable is None:
        pytest.skip(
            "Chromium is not installed: run `make browser-deps` as root on Debian/Ubuntu "
            "(or install the chromium package) to run the JupyterLab browser test"
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip(
            "the Playwright client is not installed (pip install -r requirements.txt)"
        )
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()


class Page:
    """A browser page that records console errors, page errors and every dialog shown."""

    def __init__(self, browser, base):
        self.base, self.problems = base, []
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        context.route(
            "**/*",
            lambda r: (
                r.continue_()
                if r.request.url.startswith(base) or r.request.url.startswith("data:")
                else (
                    self.problems.append(f"external request: {r.request.url}"),
                    r.abort(),
                )
            ),
        )
        self.page = page = context.new_page()
        page.on(
            "console",
            lambda m: (
                m.type == "error"
                and not any(e in m.text for e in EXPECTED_CONSOLE_ERRORS)
                and self.problems.append(f"console error: {m.text}")
            ),
        )
        page.on("pageerror", lambda e: self.problems.append(f"JavaScript error: {e}"))
        SHOTS.mkdir(parents=True, exist_ok=True)

    def shot(self, name):
        self.page.screenshot(path=str(SHOTS / f"{name}.png"))

    def dialogs(self):
        return self.page.eval_on_selector_all(
            ".jp-Dialog", "els => els.map(e => e.innerText)"
        )


def _solution(chapter, grade_id):
    cell = next(
        c
        for c in nbtools.load(nbtools.solution_path(chapter)).cells
        if nbtools.meta(c).get("grade_id") == grade_id
    )
    return nbtools.SOLUTION_BLOCK.sub(lambda m: m.group(1), cell.source)


def _validate(p, what):
    """Press Validate, wait for nbgrader's result dialog, return its text and close it."""
    page = p.page
    page.locator(
        ".jp-Toolbar-item .validate-button, button:has-text('Validate')"
    ).first.click()
    dialog = page.locator(".jp-Dialog")
    dialog.wait_for(timeout=240_000)
    page.wait_for_timeout(300)
    text = dialog.inner_text()
    if UNANSWERED in text:  # the screenshot shows the first message, not only test code
        dialog.get_by_text(UNANSWERED).first.scroll_into_view_if_needed()
    p.shot(what)
    page.locator(".jp-Dialog .jp-mod-accept, .jp-Dialog button").last.click()
    dialog.wait_for(state="detached", timeout=10_000)
    return text


def test_the_copy_in_work_is_made_once_and_never_overwritten(tmp_path):
    work = tmp_path / "work"
    make = ["make", "-s", "--no-print-directory", "student-work", f"WORK={work}"]
    subprocess.run(make, cwd=nbtools.REPO, check=True, capture_output=True)
    mine = work / CHAPTER / f"{CHAPTER}.ipynb"
    assert mine.read_bytes() == nbtools.student_path(CHAPTER).read_bytes()
    mine.write_text("my answers")
    (work / "02_backprop_init").rename(tmp_path / "gone")
    again = subprocess.run(make, cwd=nbtools.REPO, check=True, capture_output=True)
    assert mine.read_text() == "my answers", "make lab overwrote the student's work"
    assert (work / "02_backprop_init").exists() and b"02_backprop_init" in again.stdout


@pytest.mark.slow
def test_student_lab(browser, tmp_path):
    started = time.monotonic()
    work = tmp_path / "work"
    subprocess.run(
        ["make", "-s", "student-work", f"WORK={work}"], cwd=nbtools.REPO, check=True
    )
    with jupyterlab("student", tmp_path, root=work) as (base, token):
        p = Page(browser, base)
        page = p.page
        page.goto(f"{base}/lab/tree/{CHAPTER}/{CHAPTER}.ipynb?token={token}")
        page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=120_000)
        page.wait_for_selector(
            ".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=120_000
        )
        page.wait_for_timeout(1000)  # late dialogs and notifications
        p.shot("1-opened")
        assert not p.dialogs(), f"a dialog on opening the chapter: {p.dialogs()}"
        kernel = page.locator(".jp-KernelName").first.inner_text()
        assert "Python 3" in kernel, f"the notebook opened with kernel {kernel!r}"
        toasts = page.eval_on_selector_all(
            ".jp-Notification-Toast, .Toastify__toast",
            "els => els.map(e => e.innerText)",
        )
        assert not toasts, f"notifications popped up: {toasts}"

        # No instructor tool: no command, no menu item, no panel.
        present = page.evaluate(
            "cmds => cmds.filter(c => window.jupyterapp.commands.hasCommand(c))",
            list(INSTRUCTOR_COMMANDS),
        )
        assert not present, f"instructor commands in student mode: {present}"
        assert page.evaluate(
            "() => window.jupyterapp.commands.hasCommand('nbgrader:open-assignment-list')"
        ), "the assignment list is missing"
        page.locator(".lm-MenuBar-itemLabel", has_text="Nbgrader").click()
        items = page.eval_on_selector_all(
            ".lm-Menu-item",
            "els => els.filter(e => e.offsetParent).map(e => e.innerText.trim())",
        )
        page.keyboard.press("Escape")
        assert items == ["Assignment List"], f"the Nbgrader menu holds {items}"
        body = page.locator("body").inner_text()
        for tool in ("Create Assignment", "Formgrader", "Courses"):
            assert tool not in body, f"student mode shows {tool!r}"
        # The assignment list works (the course's exchange is in .workspace/).
        page.evaluate(
            "() => window.jupyterapp.commands.execute('nbgrader:open-assignment-list')"
        )
        assignments = page.locator("#nbgrader-assignment-list")
        assignments.get_by_text("There are no assignments to fetch").wait_for(
            timeout=60_000
        )
        p.shot("1b-assignment-list")
        assert "Error" not in assignments.inner_text(), assignments.inner_text()
        page.locator(".lm-TabBar-tab", has_text=f"{CHAPTER}.ipynb").click()

        # Run all cells: the lecture runs, the first unanswered test stops the run.
        page.evaluate(
            "() => window.jupyterapp.commands.execute('notebook:run-all-cells')"
        )
        page.wait_for_function(RUN_ALL_DONE, timeout=300_000, polling=500)
        p.shot("2-ran-all")
        assert not p.dialogs(), f"a dialog during Run All: {p.dialogs()}"
        assert "NotImplementedError" in page.locator(".jp-Notebook").inner_text(), (
            "Run All on the blank chapter raised nothing"
        )

        blank = _validate(p, "3-validate-blank")
        tests = [
            nbtools.meta(c)["grade_id"]
            for c in nbtools.load(nbtools.student_path(CHAPTER)).cells
            if nbtools.is_grade(c)
        ]
        assert blank.count(UNANSWERED) == len(tests), (
            f"Validate on the blank chapter: {len(tests)} tests should fail as "
            f"not answered:\n{blank[-3000:]}"
        )

        # Type one correct answer into its cell, then Validate again.
        index = next(
            i
            for i, c in enumerate(nbtools.load(nbtools.student_path(CHAPTER)).cells)
            if nbtools.meta(c).get("grade_id") == ANSWERED
        )
        cell = page.locator(".jp-Notebook .jp-Cell").nth(index)
        cell.scroll_into_view_if_needed()
        cell.locator(".cm-content").click()
        page.keyboard.press("Control+A")
        page.keyboard.insert_text(_solution(CHAPTER, ANSWERED))
        page.keyboard.press("Escape")
        p.shot("4-answered")
        answered = _validate(p, "5-validate-answered")
        assert answered.count(UNANSWERED) == len(tests) - 1, answered[-3000:]
        test_source = next(
            c.source
            for c in nbtools.load(nbtools.student_path(CHAPTER)).cells
            if nbtools.meta(c).get("grade_id") == f"test_{ANSWERED}"
        )
        assert test_source.splitlines()[0] not in answered, (
            f"test_{ANSWERED} still fails after the correct answer:\n{answered[-3000:]}"
        )
        assert not p.dialogs(), f"a dialog left open: {p.dialogs()}"
        assert not p.problems, "\n".join(p.problems)
    print(f"student lab test: {time.monotonic() - started:.1f} s")


@pytest.mark.slow
def test_instructor_lab(browser, tmp_path):
    started = time.monotonic()
    with jupyterlab("instructor", tmp_path) as (base, token):
        p = Page(browser, base)
        page = p.page
        page.goto(f"{base}/lab?token={token}")
        page.wait_for_selector(".jp-LabShell", timeout=120_000)
        page.wait_for_timeout(1000)
        present = page.evaluate(
            "cmds => cmds.filter(c => window.jupyterapp.commands.hasCommand(c))",
            ["nbgrader:open-formgrader", "nbgrader:open-create-assignment"],
        )
        assert len(present) == 2, f"instructor mode has only {present}"
        assert not p.dialogs(), p.dialogs()
        page.goto(f"{base}/formgrader/manage_assignments?token={token}")
        for chapter in nbtools.chapter_ids():
            page.locator("#main-table", has_text=chapter).wait_for(timeout=60_000)
        p.shot("6-formgrader")
        page.goto(f"{base}/formgrader/manage_submissions/{CHAPTER}")
        advice = page.locator("#dlcourse-make-grade")
        assert advice.inner_text() == ADVICE
        headers = page.eval_on_selector_all(
            "thead th",
            "els => els.filter(e => getComputedStyle(e).display !== 'none')"
            ".map(e => e.innerText.trim())",
        )
        assert "Autograde" not in headers and "Score" in headers, headers
        p.shot("7-formgrader-submissions")
        request = urllib.request.Request(
            f"{base}/formgrader/api/submission/{CHAPTER}/someone/autograde",
            method="POST",
            headers={"Authorization": f"token {token}"},
        )
        with urllib.request.urlopen(request, timeout=30) as answer:
            reply = json.loads(answer.read())
        assert reply == {"success": False, "log": "", "error": ADVICE}, reply
        assert not p.problems, "\n".join(p.problems)
    print(f"instructor lab test: {time.monotonic() - started:.1f} s")
