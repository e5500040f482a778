"""Reading a submitted notebook and rebuilding it on the chapter's own template.

Only the answers are taken from a submission. Everything else (setup, lecture,
task and test cells, their metadata) comes from the release version of the
chapter, so deleted, edited or duplicated test cells and stripped metadata change
nothing. Cells the student added are kept where they were, without any nbgrader
metadata. Every repair is reported as a note.
"""

import copy

import nbformat

from . import guard


class Rejected(ValueError):
    """The submission cannot be graded at all; the message says why."""


def read_notebook(path) -> nbformat.NotebookNode:
    if path.suffix != ".ipynb":
        raise Rejected(f"{path.name} is not a notebook (.ipynb)")
    if path.stat().st_size == 0:
        raise Rejected(f"{path.name} is empty")
    try:
        nb = nbformat.read(str(path), as_version=4)
    except Exception as exc:  # nbformat raises several types for bad JSON
        raise Rejected(
            f"{path.name} is not valid notebook JSON ({type(exc).__name__}: {str(exc)[:200]})"
        ) from None
    if not isinstance(nb.get("cells"), list):
        raise Rejected(f"{path.name} has no list of cells")
    return nb


def nbgrader_meta(cell) -> dict:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return meta if isinstance(meta, dict) else {}


def grade_id(cell):
    gid = nbgrader_meta(cell).get("grade_id")
    return gid if isinstance(gid, str) else None


def cell_ids(nb) -> set:
    return {gid for gid in map(grade_id, nb.cells) if gid}


def identify_chapter(nb, known: dict):
    """The chapter (of ``known``: chapter -> its grade ids) whose cells this notebook shares most, or None."""
    ids = cell_ids(nb)
    best = max(known, key=lambda ch: len(known[ch] & ids), default=None)
    return best if best is not None and known[best] & ids else None


def _first_line(source: str) -> str:
    return next((ln.strip() for ln in source.splitlines() if ln.strip()), "")


def _source(cell) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else str(src)


def rebuild(submitted, template):
    """(notebook to grade, notes, number of answers found): the template with the submission's answers.

    A submitted cell is one of: a graded or locked cell (matched by grade id), an answer
    recognised by its first line (when the nbgrader metadata was stripped), an unchanged
    cell of the chapter (matched by its text: it runs once, as the template's), or a cell
    the student added (kept right after the chapter cell it followed) or changed (kept
    right after the chapter's version, so that the student's edit takes effect).
    """
    notes = []
    tmpl_ids = [grade_id(c) for c in template.cells]
    solution_ids = {
        gid
        for gid, c in zip(tmpl_ids, template.cells)
        if gid and nbgrader_meta(c).get("solution")
    }
    index_of = {gid: i for i, gid in enumerate(tmpl_ids) if gid}
    by_text = {}
    for i, c in enumerate(template.cells):
        if not tmpl_ids[i] and _source(c).strip():
            by_text.setdefault((c.get("cell_type"), _source(c).strip()), i)
    answers, extras, seen = (
        {},
        {},
        set(),
    )  # extras: template index -> cells added after that cell
    anchor = index_of.get("setup", -1)
    in_step = False  # the last submitted cell was one of the chapter's: a changed cell now is an edit of the next
    stripped = not cell_ids(submitted) and any(
        c.get("cell_type") == "code" for c in submitted.cells
    )
    signatures = {
        _first_line(_source(template.cells[index_of[gid]])): gid for gid in solution_ids
    }

    for cell in submitted.cells:
        if cell.get("cell_type") not in ("code", "markdown", "raw"):
            continue
        gid = grade_id(cell)
        if stripped and gid is None:
            # No nbgrader metadata at all: recognise answers by their first line (the signature).
            candidate = signatures.get(_first_line(_source(cell)))
            if (
                candidate
                and candidate not in answers
                and cell.get("cell_type") == "code"
            ):
                gid = candidate
        if gid in index_of:
            if gid in seen:
                notes.append(
                    f"cell {gid} appears more than once: the first copy was graded"
                )
                continue
            seen.add(gid)
            anchor, in_step = index_of[gid], True
            if gid in solution_ids:
                answers[gid] = _source(cell)
            elif _source(cell).strip() != _source(template.cells[anchor]).strip():
                notes.append(f"locked cell {gid} was edited: restored")
            continue
        text = _source(cell).strip()
        if not text:
            continue
        if gid is None and (cell.get("cell_type"), text) in by_text:
            anchor, in_step = (
                by_text[(cell.get("cell_type"), text)],
                True,
            )  # the chapter's own cell, unchanged
            continue
        following = (
            template.cells[anchor + 1] if anchor + 1 < len(template.cells) else None
        )
        if (
            in_step
            and following is not None
            and not tmpl_ids[anchor + 1]
            and following.get("cell_type") == cell.get("cell_type")
        ):
            anchor += 1  # the student's edit of the chapter's next cell: it runs right after the original
        in_step = False
        extra = (
            nbformat.v4.new_code_cell(_source(cell))
            if cell.get("cell_type") == "code"
            else nbformat.v4.new_markdown_cell(_source(cell))
        )
        if gid:
            notes.append(
                f"cell with unknown grade id {gid!r} kept as an ordinary cell (not graded)"
            )
        extras.setdefault(anchor, []).append(extra)

    if stripped:
        notes.append(
            f"nbgrader metadata was removed: {len(answers)} of {len(solution_ids)} answers "
            "recognised by their first line"
        )
    missing = [
        gid for gid in tmpl_ids if gid and gid not in seen and gid not in solution_ids
    ]
    if missing and not stripped:
        notes.append(
            f"{len(missing)} locked cell(s) missing from the submission were restored: {', '.join(missing[:5])}"
        )
    unanswered = sorted(solution_ids - set(answers))
    if unanswered:
        notes.append(f"no answer cell found for: {', '.join(unanswered)}")

    graded = copy.deepcopy(template)
    cells = list(extras.get(-1, []))
    for i, (gid, cell) in enumerate(zip(tmpl_ids, graded.cells)):
        if gid in solution_ids and gid in answers:
            cell.source = answers[gid]
        if nbgrader_meta(cell).get("grade"):
            cells.append(_marked(nbformat.v4.new_code_cell(guard.GUARD)))
        cells.append(cell)
        if gid == "setup":
            cells.append(_marked(nbformat.v4.new_code_cell(guard.SNAPSHOT)))
        cells.extend(extras.get(i, []))
    graded.cells = cells
    return graded, notes, len(answers)


def _marked(cell):
    cell.metadata[guard.MARK] = True
    return cell


def without_guards(nb):
    nb.cells = [c for c in nb.cells if not c.get("metadata", {}).get(guard.MARK)]
    return nb
