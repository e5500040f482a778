"""Sphinx extension of the Deep Learning Core book: fixes to a stock Jupyter Book 1 page.

A stock Jupyter Book 1 build adds some scripts to every page twice: the sphinx-thebe
configuration (``const THEBE_JS_URL = ...``, which then throws "Identifier
'THEBE_JS_URL' has already been declared" in the browser) and sphinx-togglebutton's
selector. This extension

* drops duplicates (same file or body, same attributes) from each page's scripts,
  keeping the first;
* numbers every displayed equation (``$$ ... $$``), not only the labelled ones:
  Sphinx's ``math_number_all`` reaches only the ``{math}`` directive, not MyST's
  dollar math. With ``math_numfig`` the numbers read (chapter.n);
* refreshes the book's own static files (``book/_static``) after every build: Sphinx
  copies static files only when some page is out of date, so a change to the CSS
  alone would otherwise never reach ``_build/html``;
* drops sphinx-thebe's scripts altogether when the launch buttons do not enable Thebe:
  they would only ever load Thebe from a CDN (unpkg.com), and the book must not
  reference CDNs, so that it works offline.
"""

import filecmp
import pathlib
import shutil

from docutils import nodes
from sphinx.transforms import SphinxTransform

STATIC = pathlib.Path(__file__).resolve().parent.parent / "_static"

THEBE_SCRIPT = "sphinx-thebe.js"


def _is_thebe(js) -> bool:
    body = js.attributes.get("body", "") or ""
    return str(js.filename or "").endswith(THEBE_SCRIPT) or "THEBE_JS_URL" in body


def clean_scripts(app, pagename, templatename, context, doctree):
    scripts = context.get("script_files")
    if not scripts:
        return
    launch = (app.config.html_theme_options or {}).get("launch_buttons") or {}
    drop_thebe = not launch.get("thebe")
    kept, seen = [], set()
    for js in scripts:
        if drop_thebe and _is_thebe(js):
            continue
        key = (
            str(js.filename or ""),
            tuple(sorted(js.attributes.items())),
        )  # priority aside
        if key in seen:
            continue
        seen.add(key)
        kept.append(js)
    context["script_files"] = kept


class NumberAllEquations(SphinxTransform):
    """Give every unlabelled display equation a label and a number, as the {math} directive does."""

    default_priority = 500

    def apply(self, **kwargs):
        if not self.config.math_number_all:
            return
        domain = self.env.get_domain("math")
        for node in self.document.findall(nodes.math_block):
            # nowrap blocks (amsmath environments) are shown as written, never numbered.
            if node.get("label") or node.get("nowrap") or node.get("number"):
                continue
            label = f"{self.env.docname}:{self.env.new_serialno('sphinx.ext.math#equations')}"
            node["label"] = label
            domain.note_equation(self.env.docname, label, location=node)
            node["number"] = domain.get_equation_number_for(label)
            node_id = nodes.make_id(f"equation-{label}")
            node["ids"].append(node_id)
            self.document.ids[node_id] = node


def refresh_static(app, exc):
    if exc is not None or app.builder.format != "html" or not STATIC.is_dir():
        return
    target = pathlib.Path(app.outdir) / "_static"
    for source in STATIC.rglob("*"):
        if source.is_file():
            dest = target / source.relative_to(STATIC)
            if not dest.exists() or not filecmp.cmp(source, dest, shallow=False):
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, dest)


def setup(app):
    app.connect("build-finished", refresh_static)
    app.add_transform(NumberAllEquations)
    # After the themes and extensions have added their scripts to the page context.
    app.connect("html-page-context", clean_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
