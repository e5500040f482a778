"""The strict book build passes, and the HTML leaks no solution, hidden test or traceback."""
import html
import re
import subprocess

import pytest

import nbtools
from nbtools import HIDDEN_BLOCK, SOLUTION_BLOCK

HTML = nbtools.REPO / "_build" / "html"


@pytest.fixture(scope="module")
def book():
    done = subprocess.run(["make", "--no-print-directory", "book"], cwd=nbtools.REPO,
                          capture_output=True, text=True, timeout=1800)
    assert done.returncode == 0, (done.stdout + done.stderr)[-6000:]
    pages = {p: html.unescape(re.sub(r"<[^>]+>", "", p.read_text(encoding="utf-8"))) for p in HTML.rglob("*.html")}
    return pages


def secret_lines(chapter):
    """Distinctive lines of the solutions and hidden tests that the student edition does not show."""
    solution = nbtools.load(nbtools.solution_path(chapter))
    shown = nbtools.student_path(chapter).read_text()
    lines = set()
    for cell in solution.cells:
        for block in SOLUTION_BLOCK.findall(cell.source) + HIDDEN_BLOCK.findall(cell.source):
            lines |= {ln.strip() for ln in block.splitlines() if len(ln.strip()) >= 20}
    return {ln for ln in lines if ln not in shown}


def test_every_chapter_is_in_the_book(book):
    for chapter in nbtools.chapter_ids():
        page = HTML / "notebooks" / chapter / f"{chapter}.html"
        assert page.exists(), f"{chapter} is not in the book (add it to _toc.yml)"
        text = page.read_text(encoding="utf-8")
        assert "cell_output" in text, f"{chapter} was not executed"
        assert re.search(r"<img[^>]+src=\"[^\"]+\.png\"", text), f"{chapter} shows no figure"


def test_no_traceback_or_error_output(book):
    for path, text in book.items():
        assert "Traceback (most recent call last)" not in text, f"{path} shows a traceback"
        raw = path.read_text(encoding="utf-8")
        assert "output error" not in raw and "output_error" not in raw, f"{path} shows an error output"


def test_no_solution_or_hidden_test_leaks(book):
    for chapter in nbtools.chapter_ids():
        secrets = secret_lines(chapter)
        assert secrets, f"{chapter}: found no solution lines to look for"
        for path, text in book.items():
            lines = {ln.strip() for ln in text.splitlines()}
            leaked = sorted(secrets & lines)
            assert not leaked, f"{path} shows solution or hidden-test code: {leaked[:3]}"
        page = book[HTML / "notebooks" / chapter / f"{chapter}.html"]
        assert "BEGIN SOLUTION" not in page and "BEGIN HIDDEN TESTS" not in page
