"""The chapters' own code, taken out of their solution notebooks by name, for the benchmarks.

    ns = chapter_code.load("07_attention", ["softmax", "attention"])
    ns["attention"](q, k, v)

The benchmark times the functions and classes the chapter defines, not a copy of them, so it
cannot drift from the text. Only definitions are taken: each top-level ``def``, ``class`` or
assignment to one of the requested names, in notebook order (a later definition replaces an
earlier one, as when the notebook runs), executed after the imports of the chapter's setup
cell. Nothing else in the notebook runs: no training, no figures, no asserts. A name that the
notebook no longer defines is an error, which the bench's test reports.
"""

import ast
import json
import pathlib

REPO = pathlib.Path(__file__).resolve().parent.parent


def _code_cells(chapter):
    path = REPO / "solutions" / chapter / f"{chapter}.ipynb"
    nb = json.loads(path.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        source = "".join(cell["source"])
        try:
            tree = ast.parse(source)
        except SyntaxError:  # an IPython magic or shell line: no definitions we need
            continue
        yield cell, source, tree


def _assigned(node):
    if isinstance(node, ast.Assign):  # x = ... and x, y = ...
        names = set()
        for target in node.targets:
            elts = target.elts if isinstance(target, ast.Tuple) else [target]
            names |= {t.id for t in elts if isinstance(t, ast.Name)}
        return names
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        return {node.target.id}
    return set()


def source(chapter, names):
    """The setup cell's imports and the requested definitions, as one Python source."""
    wanted, found, parts = set(names), set(), []
    for cell, text, tree in _code_cells(chapter):
        is_setup = (
            cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "setup"
        )
        for node in tree.body:
            if is_setup and isinstance(node, ast.Import | ast.ImportFrom):
                parts.append(ast.get_source_segment(text, node))
            elif (
                isinstance(node, ast.FunctionDef | ast.ClassDef) and node.name in wanted
            ):
                found.add(node.name)
                parts.append(ast.get_source_segment(text, node))
            elif _assigned(node) & wanted:
                found |= _assigned(node) & wanted
                parts.append(ast.get_source_segment(text, node))
    missing = wanted - found
    if missing:
        raise LookupError(
            f"solutions/{chapter} no longer defines {sorted(missing)} at the top level of a "
            "code cell: update the benchmark (bench/ratios.py or bench/run.py) to its new names"
        )
    return "\n\n".join(parts) + "\n"


def load(chapter, names, **globals_):
    """A namespace holding the chapter's definitions of ``names`` (and its imports).

    ``globals_`` are set first: module-level values the definitions read when called
    (chapter 07's ``train_lm`` reads ``train_ids``, ``V`` and ``CONTEXT``, for example).
    """
    namespace = {"__name__": f"chapter_{chapter}", **globals_}
    code = compile(
        source(chapter, names), f"solutions/{chapter}/{chapter}.ipynb", "exec"
    )
    exec(code, namespace)
    return namespace
