"""The built book in a real browser: every page of the table of contents, served over HTTP.

Playwright drives the system's Chromium (installed by `make browser-deps`, which `make test`
runs first; never `playwright install`). The book in `_build/html` is served on
127.0.0.1 at a free port for the duration of this module. Every page must load with
status 200, without a JavaScript error, a failed request or any request that leaves the
loopback server (the book must work offline: no CDN), with all math typeset by the
locally served MathJax, every image decoded, no error output, no solution or hidden test,
and the book's own author in the footer. The search page must find each chapter by a
word of its title. At 1280 pixels the code column holds a full formatted line (ruff's
line length), and only cells with a line the formatter cannot split scroll sideways. Screenshots go to `_build/screenshots/` (a build artifact).
"""

import functools
import http.server
import json
import os
import re
import shutil
import tempfile
import threading
import time
import tomllib
import urllib.parse

import pytest
import yaml

import nbtools
from test_book import secret_lines

HTML = nbtools.REPO / "_build" / "html"
SHOTS = nbtools.REPO / "_build" / "screenshots"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
pytestmark = pytest.mark.slow


def chromium_path():
    for name in (
        os.environ.get("DLCOURSE_CHROMIUM"),
        "chromium",
        "chromium-browser",
        "google-chrome",
    ):
        if name and (found := shutil.which(name)):
            return found
    return None


def toc_pages():
    """Docnames of the table of contents, in reading order (root first)."""
    toc = yaml.safe_load((nbtools.REPO / "_toc.yml").read_text())
    pages = [toc["root"]]

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                pages.append(entry["file"])
            walk(entry.get("sections"))
            walk(entry.get("chapters"))

    for part in toc.get("parts", []):
        walk(part.get("chapters"))
    walk(toc.get("chapters"))
    return pages


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server(book):  # the session's one build of the book (conftest.py)
    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(HTML))
    )
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(10)


@pytest.fixture(scope="module")
def browser():
    executable = chromium_path()
    if executable is None:
        pytest.skip(
            "Chromium is not installed: run `make browser-deps` as root on Debian/Ubuntu "
            "(or install the chromium package) to run the browser test"
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip(
            "the Playwright client is not installed (pip install -r requirements.txt)"
        )
    with (
        tempfile.TemporaryDirectory(prefix="dlcourse-chromium-") as profile,
        sync_playwright() as pw,
    ):
        context = pw.chromium.launch_persistent_context(
            profile,
            executable_path=executable,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 900},
            color_scheme="light",
            service_workers="block",
        )
        try:
            yield context
        finally:
            context.close()


# --- what the page itself reports, evaluated in the browser ----------------------------------

WAIT_FOR_MATH = """async () => {
  if (!document.querySelector('.math')) return 'no math';
  const t0 = Date.now();
  while (!(window.MathJax && MathJax.startup && MathJax.startup.promise)) {
    if (Date.now() - t0 > 30000) return 'MathJax never started';
    await new Promise(r => setTimeout(r, 50));
  }
  await MathJax.startup.promise;
  return 'typeset';
}"""

INSPECT = """async () => {
  const imgs = [...document.images];
  imgs.forEach(i => { i.loading = 'eager'; });
  await Promise.all(imgs.map(i => i.complete ? null : new Promise(r => {
    i.addEventListener('load', r); i.addEventListener('error', r); setTimeout(r, 15000); })));
  const maths = [...document.querySelectorAll('span.math, div.math')];
  const skip = new Set(['PRE', 'CODE', 'SCRIPT', 'STYLE', 'TEXTAREA', 'MJX-CONTAINER']);
  const raw = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    let p = n.parentElement, inside = false;
    while (p) { if (skip.has(p.tagName)) { inside = true; break; } p = p.parentElement; }
    if (!inside && /\\\\\\(|\\\\\\[|\\$\\$|\\$[^$\\s][^$]*\\\\[a-zA-Z]+[^$]*\\$/.test(n.textContent)) raw.push(n.textContent.trim().slice(0, 80));
  }
  const footer = document.querySelector('footer.bd-footer-content, .bd-footer-content');
  return {
    brokenImages: imgs.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.getAttribute('src')),
    images: imgs.length,
    math: maths.length,
    untypeset: maths.filter(e => !e.querySelector('mjx-container')).map(e => e.textContent.trim().slice(0, 80)),
    mathErrors: [...document.querySelectorAll('mjx-merror')].map(e => e.getAttribute('data-mjx-error') || e.textContent),
    rawMath: raw,
    errorOutputs: [...document.querySelectorAll('.output.traceback, .output.stderr, .output.error, .output_error, .system-message, .problematic')]
                    .map(e => e.className + ': ' + e.textContent.trim().slice(0, 120)),
    text: document.documentElement.textContent,
    footer: footer ? footer.innerText : '',
  };
}"""


class Visit:
    """One page load with everything the browser reported while loading it."""

    def __init__(self, context, base, path, wait_url=None):
        self.path, self.problems, self.external = path, [], []
        self.page = page = context.new_page()
        page.on(
            "console",
            lambda m: (
                m.type == "error" and self.problems.append(f"console error: {m.text}")
            ),
        )
        page.on("pageerror", lambda e: self.problems.append(f"JavaScript error: {e}"))
        page.on(
            "requestfailed",
            lambda r: (
                r.url.startswith(base)
                and self.problems.append(f"failed request: {r.url} ({r.failure})")
            ),
        )
        page.on(
            "response",
            lambda r: (
                r.status >= 400 and self.problems.append(f"HTTP {r.status}: {r.url}")
            ),
        )
        response = page.goto(base + path, wait_until="load")
        self.status = response.status if response else None
        if wait_url:
            page.wait_for_url(wait_url)
            page.wait_for_load_state("load")
        # networkidle: late requests too (the browser asks for the favicon after the load event)
        page.wait_for_load_state("networkidle")
        self.math_state = page.evaluate(WAIT_FOR_MATH)
        self.info = page.evaluate(INSPECT)
        page.wait_for_timeout(100)  # late console errors (theme scripts run after load)


@pytest.fixture(scope="module")
def visits(browser, server):
    external = []

    def route(r):
        url = r.request.url
        if url.startswith(server) or urllib.parse.urlsplit(url).scheme in (
            "data",
            "blob",
            "about",
        ):
            r.continue_()
        else:
            external.append(url)
            r.abort()

    browser.route("**/*", route)
    start = time.monotonic()
    pages = {}
    for doc in toc_pages():
        pages[doc] = Visit(browser, server, f"{doc}.html")
    SHOTS.mkdir(parents=True, exist_ok=True)
    landing = Visit(
        browser,
        server,
        "index.html",
        wait_url=re.compile(r".*/" + re.escape(toc_pages()[0]) + r"\.html$"),
    )
    landing.page.screenshot(path=str(SHOTS / "landing.png"), full_page=True)
    yield {
        "server": server,
        "pages": pages,
        "landing": landing,
        "external": external,
        "start": start,
    }
    for visit in [*pages.values(), landing]:
        visit.page.close()
    (SHOTS / "report.json").write_text(
        json.dumps(
            {
                "pages_tested": len(pages),
                "browser_seconds": round(time.monotonic() - start, 1),
            },
            indent=1,
        )
    )


def chapter_docs():
    return [d for d in toc_pages() if d.startswith("notebooks/")]


# --- the checks --------------------------------------------------------------------------------


def test_the_toc_is_all_there(visits):
    assert len(visits["pages"]) >= 5 and chapter_docs(), (
        "the table of contents looks empty"
    )
    for chapter in nbtools.chapter_ids():
        doc = f"notebooks/{chapter}/{chapter}"
        if doc not in visits["pages"]:
            pytest.fail(f"{chapter} is not in _toc.yml, so no reader can reach it")


def test_every_page_loads_cleanly(visits):
    bad = {}
    for doc, visit in [
        *visits["pages"].items(),
        ("index (landing)", visits["landing"]),
    ]:
        problems = list(visit.problems)
        if visit.status != 200:
            problems.insert(0, f"status {visit.status}")
        if problems:
            bad[doc] = problems
    assert not bad, "pages with problems:\n" + json.dumps(bad, indent=1)
    assert not visits["external"], (
        "the book requested resources outside the local server "
        f"(it must work offline, without CDNs): {sorted(set(visits['external']))[:10]}"
    )


def test_math_is_typeset_by_local_mathjax(visits):
    typeset = 0
    for doc, visit in visits["pages"].items():
        info = visit.info
        if info["math"]:
            assert visit.math_state == "typeset", f"{doc}: {visit.math_state}"
        assert not info["untypeset"], (
            f"{doc}: math left unrendered: {info['untypeset'][:5]}"
        )
        assert not info["mathErrors"], (
            f"{doc}: MathJax errors: {info['mathErrors'][:5]}"
        )
        assert not info["rawMath"], (
            f"{doc}: TeX left in the text: {info['rawMath'][:5]}"
        )
        typeset += info["math"]
    assert typeset > 50, "hardly any math in the book: is MathJax configured?"
    for doc in chapter_docs():
        html = (HTML / f"{doc}.html").read_text(encoding="utf-8")
        assert re.search(
            r'<script[^>]+src="[./]*_static/mathjax/tex-chtml\.js', html
        ), f"{doc}: MathJax is not served locally"
        assert not re.search(
            r'(src|href)="(https?:)?//[^"]*(cdn|unpkg|jsdelivr)', html
        ), f"{doc} references a CDN"


def test_every_image_is_shown(visits):
    figures = 0
    for doc, visit in visits["pages"].items():
        assert not visit.info["brokenImages"], (
            f"{doc}: broken images {visit.info['brokenImages']}"
        )
        if doc.startswith("notebooks/"):
            figures += visit.info["images"]
    assert figures >= len(chapter_docs()), "the chapters show no figures"


def test_no_error_output_or_traceback(visits):
    for doc, visit in visits["pages"].items():
        assert not visit.info["errorOutputs"], (
            f"{doc} shows error output: {visit.info['errorOutputs'][:3]}"
        )
        assert "Traceback (most recent call last)" not in visit.info["text"], (
            f"{doc} shows a traceback"
        )


def test_no_solution_or_hidden_test_in_the_rendered_pages(visits):
    secrets = set()
    for chapter in nbtools.chapter_ids():
        found = secret_lines(chapter)
        assert found, f"{chapter}: found no solution lines to look for"
        secrets |= found
    for doc, visit in visits["pages"].items():
        text = visit.info["text"]
        if doc.startswith(
            "notebooks/"
        ):  # (the instructor's guide explains the markers)
            for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS"):
                assert marker not in text, f"{doc} shows nbgrader's {marker!r} marker"
        leaked = sorted(secrets & {ln.strip() for ln in text.splitlines()})
        assert not leaked, f"{doc} shows solution or hidden-test code: {leaked[:3]}"


def test_footer_names_the_authors(visits):
    author = yaml.safe_load((nbtools.REPO / "_config.yml").read_text())["author"]
    for doc, visit in visits["pages"].items():
        footer = visit.info["footer"]
        assert "Jupyter Book community" not in visit.info["text"], (
            f"{doc}: stock footer"
        )
        assert author in footer, f"{doc}: footer does not name {author!r}: {footer!r}"


def test_search_finds_every_chapter(visits, browser):
    """The search page (search.html?q=...) finds each chapter by a word of its own title."""
    base = visits["server"]
    for doc in chapter_docs():
        title = visits["pages"][doc].page.title()
        words = [
            w
            for w in re.findall(r"[A-Za-z]{6,}", title.split("\u2014")[0])
            if w.lower() not in {"networks"}
        ]
        assert words, f"{doc}: no word to search for in its title {title!r}"
        term = max(words, key=len).lower()
        visit = Visit(browser, base, f"search.html?q={urllib.parse.quote(term)}")
        page = visit.page
        try:
            page.wait_for_function(
                """() => { const s = document.querySelector('#search-results');
                return s && /found|did not match/i.test(s.textContent); }""",
                timeout=30000,
            )
            hrefs = page.eval_on_selector_all(
                "#search-results li a", "els => els.map(a => a.getAttribute('href'))"
            )
            assert hrefs, f"searching for {term!r} found nothing"
            assert any(doc in (h or "") for h in hrefs), (
                f"searching for {term!r} did not find {doc}: {hrefs[:8]}"
            )
            assert not visit.problems, f"search page problems: {visit.problems}"
        finally:
            page.close()


LAUNCH_SERVICES = (  # (the _config.yml key, the service, what its launch link contains)
    ("binderhub_url", "Binder", "/v2/gh/"),
    ("jupyterhub_url", "JupyterHub", "/hub/user-redirect/git-pull"),
    ("colab_url", "Colab", "colab.research.google.com/github/"),
)


def test_chapters_offer_download_and_only_the_configured_launch_buttons(
    visits, browser
):
    """A launch button either is configured in _config.yml (the instructor's guide says
    what each needs to work) or is not shown: none points to a placeholder."""
    config = yaml.safe_load((nbtools.REPO / "_config.yml").read_text())
    launch = config.get("launch_buttons") or {}
    base = visits["server"]
    for doc in chapter_docs():
        page = visits["pages"][doc].page
        links = page.eval_on_selector_all(
            "a", "els => els.map(a => a.getAttribute('href') || '')"
        )
        download = [h for h in links if h.endswith(".ipynb") and "_sources/" in h]
        assert download, f"{doc}: no download-notebook button"
        got = browser.request.get(
            urllib.parse.urljoin(base + doc + ".html", download[0])
        )
        assert got.status == 200, (
            f"{doc}: downloading the notebook gave HTTP {got.status}"
        )
        assert json.loads(got.body())["cells"], (
            f"{doc}: the downloaded notebook is empty"
        )
        for key, service, pattern in LAUNCH_SERVICES:
            shown = any(pattern in h and doc in urllib.parse.unquote(h) for h in links)
            if launch.get(key):
                assert shown, f"{doc}: no {service} launch button ({key} is set)"
            else:
                assert not shown, f"{doc}: a {service} button, but {key} is not set"
        assert not any("example.org" in h for h in links), f"{doc}: a placeholder link"


def test_figures_are_readable_in_dark_mode_and_screenshots_are_saved(visits):
    doc = chapter_docs()[0]
    page = visits["pages"][doc].page
    page.evaluate("() => window.scrollTo(0, 0)")
    equation = page.locator("div.math").first
    if equation.count():
        equation.scroll_into_view_if_needed()
        page.evaluate("() => window.scrollBy(0, -200)")
    page.screenshot(path=str(SHOTS / "chapter.png"))
    page.emulate_media(color_scheme="dark")
    page.wait_for_function(
        "() => document.documentElement.dataset.theme === 'dark'", timeout=10000
    )
    figure = page.locator(".cell_output img").first
    figure.scroll_into_view_if_needed()
    page.evaluate("() => window.scrollBy(0, -120)")
    style = figure.evaluate(
        "img => { const s = getComputedStyle(img); return [s.backgroundColor, s.filter]; }"
    )
    page.screenshot(path=str(SHOTS / "chapter-dark.png"))
    page.emulate_media(color_scheme="light")
    assert style == ["rgb(255, 255, 255)", "none"], (
        f"in dark mode, figures have background and filter {style}"
    )
    for name in ("landing.png", "chapter.png", "chapter-dark.png"):
        assert (SHOTS / name).stat().st_size > 10_000, f"screenshot {name} looks empty"


CODE_COLUMN = """() => {
  const pres = [...document.querySelectorAll('div.cell_input div.highlight pre')];
  if (!pres.length) return {chars: 0, scrolling: []};
  const probe = document.createElement('span');
  probe.textContent = 'x'.repeat(100);
  pres[0].appendChild(probe);
  const charWidth = probe.getBoundingClientRect().width / 100;
  probe.remove();
  const style = getComputedStyle(pres[0]);
  const inner = pres[0].clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
  return {
    chars: Math.floor(inner / charWidth),
    cells: pres.length,
    scrolling: pres.filter(p => p.scrollWidth > p.clientWidth).map(p => {
      const lines = p.textContent.split('\\n');
      return {first: lines[0].slice(0, 60), longest: Math.max(...lines.map(l => l.length))};
    }),
  };
}"""


def test_code_cells_fit_the_column_at_1280_pixels(visits):
    """No code cell of a chapter scrolls sideways in a 1280-pixel-wide window.

    The column holds ruff's line length (pyproject.toml), and ruff enforces it in the
    solution notebooks. What each chapter measured goes to _build/screenshots/code-scroll.json.
    """
    pyproject = tomllib.loads((nbtools.REPO / "pyproject.toml").read_text())
    limit = pyproject["tool"]["ruff"]["line-length"]
    report, scrolling = {}, {}
    for doc in chapter_docs():
        page = visits["pages"][doc].page
        assert page.viewport_size["width"] == 1280
        column = page.evaluate(CODE_COLUMN)
        report[doc] = column
        assert column["chars"] >= limit, (
            f"{doc}: the code column holds {column['chars']} characters at 1280 px, "
            f"ruff formats to {limit} (book/_static/dlbook.css sets the column)"
        )
        if column["scrolling"]:
            scrolling[doc] = column["scrolling"]
    SHOTS.mkdir(parents=True, exist_ok=True)
    (SHOTS / "code-scroll.json").write_text(json.dumps(report, indent=1))
    assert not scrolling, (
        "code cells that scroll sideways at 1280 px (first line, longest line): "
        f"{json.dumps(scrolling, indent=1)}\nkeep code lines within {limit} "
        "characters (`make lint` checks the solution notebooks)"
    )
