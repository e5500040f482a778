"""Build the instructor edition of the book (`make book-instructor`): never part of `make book`.

The instructor edition is the same book built from `solutions/` instead of the student
edition: every solution and every test cell with hidden tests is there, collapsed behind
a "show" toggle, for teaching assistants. It shows the answers, so never publish it.

How: copy the book's sources (`book/`, `_config.yml`, `_toc.yml`) into
`_build/instructor/src`, put each chapter's solution notebook where the table of contents
expects the student edition (`notebooks/<id>/<id>.ipynb`), tag its solution and hidden-test
cells `hide-input` (code) or wrap them in a dropdown (Markdown), and run Jupyter Book there.
The HTML lands in `_build/instructor/html`; executed notebooks are cached in
`_build/instructor/_build/.jupyter_cache`, so a second run only re-executes changed chapters.
"""

import argparse
import copy
import pathlib
import shutil
import subprocess
import sys

import nbformat
import yaml

REPO = pathlib.Path(__file__).resolve().parents[2]
BANNER = "Instructor edition: it shows the solutions and the hidden tests. Do not publish it."


def nbgrader(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def has_hidden_tests(cell) -> bool:
    return cell.cell_type == "code" and "### BEGIN HIDDEN TESTS" in cell.source


def instructor_notebook(nb):
    """The solution notebook with its solutions and hidden tests collapsed, each under a short label."""
    nb = copy.deepcopy(nb)
    cells = []
    for cell in nb.cells:
        label = None
        if nbgrader(cell).get("solution") and cell.cell_type == "markdown":
            cell.source = (
                f":::{{dropdown}} Solution (instructor edition)\n{cell.source}\n:::"
            )
        elif nbgrader(cell).get("solution") or has_hidden_tests(cell):
            tags = cell.metadata.setdefault("tags", [])
            if "hide-input" not in tags:
                tags.append("hide-input")
            label = (
                "**Solution** (instructor edition): show the cell below."
                if nbgrader(cell).get("solution")
                else "**Tests, hidden ones included** (instructor edition): show the cell below."
            )
        if label:
            cells.append(nbformat.v4.new_markdown_cell(label))
        cells.append(cell)
    nb.cells = cells
    return nb


def toc_chapters(toc) -> list[str]:
    found = []

    def walk(entries):
        for entry in entries or []:
            if str(entry.get("file", "")).startswith("notebooks/"):
                found.append(entry["file"])
            walk(entry.get("sections"))
            walk(entry.get("chapters"))

    for part in toc.get("parts", []):
        walk(part.get("chapters"))
    walk(toc.get("chapters"))
    return found


def prepare(src: pathlib.Path) -> list[str]:
    """Write the instructor edition's sources into `src`; return the chapters it contains."""
    if src.exists():
        shutil.rmtree(src)
    src.mkdir(parents=True)
    shutil.copytree(
        REPO / "book",
        src / "book",
        ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"),
    )
    toc = yaml.safe_load((REPO / "_toc.yml").read_text())
    shutil.copy2(REPO / "_toc.yml", src / "_toc.yml")
    # book/benchmarks.md renders the committed benchmark results (book/_ext/benchpage.py)
    (src / "bench").mkdir()
    shutil.copy2(REPO / "bench" / "results.json", src / "bench" / "results.json")
    config = yaml.safe_load((REPO / "_config.yml").read_text())
    config["title"] = (
        f"{config.get('title', 'Deep Learning Core')} (instructor edition)"
    )
    config.setdefault("html", {})["announcement"] = BANNER
    (src / "_config.yml").write_text(
        yaml.safe_dump(config, sort_keys=False, allow_unicode=True)
    )
    chapters = []
    for doc in toc_chapters(toc):
        chapter = pathlib.PurePosixPath(doc).name
        solution = REPO / "solutions" / chapter / f"{chapter}.ipynb"
        if not solution.exists():
            sys.exit(
                f"instructor edition: {doc} is in _toc.yml but {solution} does not exist"
            )
        target = src / doc
        shutil.copytree(
            solution.parent,
            target.parent,
            ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"),
        )
        nbformat.write(
            instructor_notebook(nbformat.read(str(solution), as_version=4)),
            str(target.with_suffix(".ipynb")),
        )
        chapters.append(chapter)
    return chapters


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out",
        default=str(REPO / "_build" / "instructor"),
        help="output folder (default: %(default)s)",
    )
    args = parser.parse_args(argv)
    out = pathlib.Path(args.out).resolve()
    chapters = prepare(out / "src")
    print(
        f"instructor edition: {len(chapters)} chapters from solutions/: {', '.join(chapters)}"
    )
    jb = pathlib.Path(sys.executable).with_name("jupyter-book")
    done = subprocess.run(
        [
            str(jb),
            "build",
            str(out / "src"),
            "--path-output",
            str(out),
            "-W",
            "-n",
            "--keep-going",
        ]
    )
    if done.returncode:
        return done.returncode
    html = out / "html"
    if html.exists():
        shutil.rmtree(html)
    shutil.copytree(out / "_build" / "html", html)
    return 0


if __name__ == "__main__":
    sys.exit(main())
