"""The strict book build passes, and the HTML leaks no solution, hidden test or traceback.

The book's execution cache is seeded from the solution notebooks' runs (see BOOK_EXECUTES)."""

import html
import importlib.util
import pathlib
import re
import subprocess
import time

import pytest
import yaml

import nbtools
from nbtools import HIDDEN_BLOCK, SOLUTION_BLOCK

HTML = nbtools.REPO / "_build" / "html"


# The book executes this chapter itself (myst-nb's own execution of the student edition: the
# `skip-execution` tags, the inline backend, allow_errors: false); it is the cheapest one. Every
# other chapter's lecture outputs come from the run of its solution notebook (nbtools.run_chapter),
# which the test of that notebook shares: one execution per chapter, not two.
BOOK_EXECUTES = "01_autodiff"
EXECUTING = re.compile(r"^(\S+\.ipynb): Executing notebook", re.M)


def forget_cached(chapter):
    """Drop the chapter's entry from the book's execution cache, so that the build executes it."""
    from jupyter_cache import get_cache

    cache = get_cache(str(nbtools.BOOK_CACHE))
    try:
        record = cache.match_cache_notebook(nbtools.load(nbtools.student_path(chapter)))
    except KeyError:
        return
    cache.remove_cache_notebook(record.pk)


def build_book(chapter_runs):
    """`make book` from the chapters' seeded runs, checked; its pages as text. The session's
    `book` fixture (conftest.py) calls it once for this module and the browser test."""
    seeded = []
    # Every chapter's solution run (its own test needs it too), several at a time.
    chapter_runs.prefetch(nbtools.chapter_ids())
    for chapter in nbtools.chapter_ids():
        if chapter == BOOK_EXECUTES:
            forget_cached(chapter)
            continue
        try:
            run = chapter_runs(chapter)
        except (
            Exception
        ):  # the notebook test reports it; the book executes the chapter itself
            continue
        if nbtools.seed_book_cache(run):
            seeded.append(chapter)
    done = subprocess.run(
        ["make", "--no-print-directory", "book"],
        cwd=nbtools.REPO,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    log = done.stdout + done.stderr
    assert done.returncode == 0, log[-6000:]
    executed = {pathlib.Path(p).stem for p in EXECUTING.findall(log)}
    missed = sorted(executed & set(seeded))
    assert not missed, (
        f"the book executed {missed} again although the solution run had seeded its cache"
    )
    if BOOK_EXECUTES in nbtools.chapter_ids():
        assert BOOK_EXECUTES in executed, (
            f"the book did not execute {BOOK_EXECUTES} itself:\n{log[-3000:]}"
        )
    pages = {
        p: html.unescape(re.sub(r"<[^>]+>", "", p.read_text(encoding="utf-8")))
        for p in HTML.rglob("*.html")
    }
    return pages


def secret_lines(chapter):
    """Distinctive lines of the solutions and hidden tests that no student edition shows
    (a generic line such as `for step in range(steps):` may stand in another chapter's lecture)."""
    solution = nbtools.load(nbtools.solution_path(chapter))
    # The cells' text, not the file's JSON, where quotes are escaped and would hide a line.
    shown = "\n".join(
        cell.source
        for ch in nbtools.chapter_ids()
        if nbtools.student_path(ch).exists()
        for cell in nbtools.load(nbtools.student_path(ch)).cells
    )
    lines = set()
    for cell in solution.cells:
        for block in SOLUTION_BLOCK.findall(cell.source) + HIDDEN_BLOCK.findall(
            cell.source
        ):
            lines |= {ln.strip() for ln in block.splitlines() if len(ln.strip()) >= 20}
    return {ln for ln in lines if ln not in shown}


@pytest.mark.slow
def test_every_chapter_is_in_the_book(book):
    for chapter in nbtools.chapter_ids():
        page = HTML / "notebooks" / chapter / f"{chapter}.html"
        assert page.exists(), f"{chapter} is not in the book (add it to _toc.yml)"
        text = page.read_text(encoding="utf-8")
        assert "cell_output" in text, f"{chapter} was not executed"
        assert re.search(r"<img[^>]+src=\"[^\"]+\.png\"", text), (
            f"{chapter} shows no figure"
        )


@pytest.mark.slow
def test_no_traceback_or_error_output(book):
    for path, text in book.items():
        assert "Traceback (most recent call last)" not in text, (
            f"{path} shows a traceback"
        )
        raw = path.read_text(encoding="utf-8")
        assert "output error" not in raw and "output_error" not in raw, (
            f"{path} shows an error output"
        )


@pytest.mark.slow
def test_no_solution_or_hidden_test_leaks(book):
    for chapter in nbtools.chapter_ids():
        secrets = secret_lines(chapter)
        assert secrets, f"{chapter}: found no solution lines to look for"
        for path, text in book.items():
            lines = {ln.strip() for ln in text.splitlines()}
            leaked = sorted(secrets & lines)
            assert not leaked, (
                f"{path} shows solution or hidden-test code: {leaked[:3]}"
            )
        page = book[HTML / "notebooks" / chapter / f"{chapter}.html"]
        assert "BEGIN SOLUTION" not in page and "BEGIN HIDDEN TESTS" not in page


# --- the book as a product (issue 7); tests/test_browser.py checks the same pages in a browser ---


@pytest.mark.slow
def test_a_no_change_rebuild_reuses_the_execution_cache(book):
    start = time.monotonic()
    done = subprocess.run(
        ["make", "--no-print-directory", "book"],
        cwd=nbtools.REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    seconds = time.monotonic() - start
    assert done.returncode == 0, (done.stdout + done.stderr)[-6000:]
    assert "Executing notebook" not in done.stdout + done.stderr, (
        "a rebuild without changes executed a notebook"
    )
    assert seconds <= 30, (
        f"a rebuild without changes took {seconds:.0f} s (the budget is 30 s)"
    )


@pytest.mark.slow
def test_the_book_works_offline(book):
    """No script, stylesheet or font from a CDN; MathJax is served from the book itself."""
    assert (HTML / "_static" / "mathjax" / "tex-chtml.js").exists(), (
        "MathJax is not copied into the book"
    )
    for path in book:
        raw = path.read_text(encoding="utf-8")
        remote = re.findall(
            r"<(?:script|link|img)\b[^>]*\b(?:src|href)=\"((?:https?:)?//[^\"]+)\"", raw
        )
        assert not remote, f"{path} loads {remote[:3]} from the network"
        assert "THEBE_JS_URL" not in raw, (
            f"{path} still carries sphinx-thebe's CDN loader"
        )


@pytest.mark.slow
def test_reader_features(book):
    raw = {
        path.relative_to(HTML).as_posix(): path.read_text(encoding="utf-8")
        for path in book
    }
    chapters = [f"notebooks/{c}/{c}.html" for c in nbtools.chapter_ids()]
    config = yaml.safe_load((nbtools.REPO / "_config.yml").read_text())
    launch = config.get("launch_buttons") or {}
    for page in chapters:
        # numbered chapter (1., 2., ...) and numbered display equations, (chapter.n)
        assert re.search(
            r'<h1><span class="section-number">\d+\. </span>', raw[page]
        ), f"{page}: chapter not numbered"
        displays = re.findall(
            r'<div class="math notranslate nohighlight"[^>]*>(.*?)</div>',
            raw[page],
            re.S,
        )
        unnumbered = [
            d[:80] for d in displays if 'class="eqno"' not in d and "\\begin" not in d
        ]
        assert not unnumbered, (
            f"{page}: display equations without a number: {unnumbered[:3]}"
        )
        # download and launch buttons
        assert re.search(r'href="[./]*_sources/[^"]+\.ipynb"', raw[page]), (
            f"{page}: no download-notebook button"
        )
        # a launch button exactly for each service _config.yml names (none by default)
        for key, service in (
            ("binderhub_url", "/v2/gh/"),
            ("colab_url", "colab.research.google.com/github/"),
            ("jupyterhub_url", "/hub/user-redirect/git-pull"),
        ):
            wanted = bool(launch.get(key))
            assert (service in raw[page]) == wanted, (
                f"{page}: launch button for {service} "
                + ("missing" if wanted else f"shown, but {key} is not set")
            )
    for page, text in book.items():
        assert "Jupyter Book community" not in text, f"{page}: stock footer"
    glossary = raw["book/glossary.html"]
    assert len(re.findall(r"<dt\b", glossary)) >= 40, (
        "the glossary has fewer than 40 terms"
    )
    resources = book[HTML / "book" / "resources.html"]
    for level in ("beginner", "intermediate", "advanced"):
        assert level in resources, f"the further-resources page has no {level} entries"
    assert "lilianweng.github.io" not in raw["book/resources.html"], (
        "an unverified link made it into the resources"
    )
    # the front matter points into the chapters, by page and by section
    how = raw["book/how_to_use.html"]
    assert re.search(r'href="\.\./notebooks/[^"#]+\.html#[^"]+"', how), (
        "how_to_use has no link into a chapter section"
    )
    assert (HTML / "_static" / "dlbook.css").exists() and "dlbook.css" in raw[
        "book/intro.html"
    ]


def test_the_instructor_edition_collapses_solutions_and_hidden_tests():
    """`make book-instructor` builds from solutions/ (checked here without the build); `make book` never does."""
    spec = importlib.util.spec_from_file_location(
        "instructor", nbtools.REPO / "book" / "_ext" / "instructor.py"
    )
    instructor = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(instructor)
    for chapter in nbtools.chapter_ids():
        solution = nbtools.load(nbtools.solution_path(chapter))
        edition = instructor.instructor_notebook(solution)
        secret = [
            c
            for c in edition.cells
            if nbtools.is_solution(c) or "### BEGIN HIDDEN TESTS" in c.source
        ]
        assert secret, f"{chapter}: no solution cells found"
        for cell in secret:
            if cell.cell_type == "code":
                assert "hide-input" in cell.metadata.get("tags", []), (
                    f"{chapter}: a solution is shown expanded"
                )
                assert (
                    "### BEGIN SOLUTION" in cell.source
                    or "### BEGIN HIDDEN TESTS" in cell.source
                )
            else:
                assert cell.source.startswith(":::{dropdown}"), (
                    f"{chapter}: a written solution is not collapsed"
                )
        assert len(edition.cells) > len(solution.cells), (
            f"{chapter}: the solutions carry no label"
        )
    plan = subprocess.run(
        ["make", "-n", "--no-print-directory", "book"],
        cwd=nbtools.REPO,
        capture_output=True,
        text=True,
    )
    assert "instructor" not in plan.stdout, (
        "`make book` must never build the instructor edition"
    )
