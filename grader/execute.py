"""nbgrader preprocessors the grader adds to autograding and feedback, and its feedback page exporter."""

import re
import time

from nbclient.exceptions import DeadKernelError
from nbclient.util import run_sync
from nbconvert.exporters import HTMLExporter, TemplateExporter
from nbconvert.filters.highlight import Highlight2HTML
from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter
from nbformat.notebooknode import NotebookNode
from nbgrader.preprocessors import Execute, NbGraderPreprocessor

from . import guard


def _error(ename: str, evalue: str) -> NotebookNode:
    return NotebookNode(
        output_type="error",
        ename=ename,
        evalue=evalue,
        traceback=[f"{ename}: {evalue}"],
    )


class SafeExecute(Execute):
    """nbgrader's Execute, except that a dead kernel (os._exit, a segfault, the memory
    limit) costs only the cells that did not run: they get an error output, and the
    cells that ran before keep their results."""

    _died_at = None
    _timed_out = False

    async def _async_handle_timeout(self, timeout, cell=None):
        self._timed_out = True
        return await super()._async_handle_timeout(timeout, cell)

    async def async_execute_cell(
        self, cell, cell_index, execution_count=None, store_history=True
    ):
        if self._died_at is not None:
            if cell.cell_type == "code":
                cell.outputs = [
                    _error(
                        "NotRun",
                        f"not run: the kernel died in an earlier cell ({self._died_at})",
                    )
                ]
            return cell
        self._timed_out = False
        source = cell.get("source", "")
        if cell.cell_type == "code":
            cell.source = mark(cell, source)
        try:
            cell = await super().async_execute_cell(
                cell, cell_index, execution_count, store_history
            )
            if (
                self._timed_out
            ):  # say "too slow", not the KeyboardInterrupt that stopped it
                cell.outputs = [
                    o for o in cell.outputs if o.get("output_type") != "error"
                ]
                cell.outputs.append(
                    _error(
                        "CellTimeoutError",
                        f"this cell ran longer than {self.timeout} s "
                        "and was stopped (an endless loop?)",
                    )
                )
            return cell
        except DeadKernelError:
            gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
            self._died_at = f"cell {gid or cell_index}"
            cell.outputs.append(
                _error(
                    "KernelDied",
                    "the kernel died while running this cell "
                    "(it exited, crashed or ran out of memory)",
                )
            )
            return cell
        finally:
            cell.source = source

    # nbclient binds the synchronous wrapper to its own coroutine at class creation:
    # rebind it, or the override above would never run.
    execute_cell = run_sync(async_execute_cell)

    last_seconds = 0.0  # how long the last notebook took to run, kernel start and shutdown included
    start_failure = ""  # why the kernel failed before any cell ran (the machine's fault, not the submission's)

    def preprocess(self, nb, resources=None, km=None):
        self._died_at = None
        SafeExecute.start_failure = ""
        started = time.perf_counter()
        try:
            return super().preprocess(nb, resources, km)
        except Exception as exc:
            # The kernel died where the per-cell handler could not see it (while starting or
            # shutting down). A cell without outputs must never count as a passed test:
            # every code cell that has not run is marked as not run.
            reason = f"{type(exc).__name__}: {exc}"[:200]
            if not any(
                c.get("execution_count") or c.get("outputs")
                for c in nb.cells
                if c.cell_type == "code"
            ):
                SafeExecute.start_failure = reason
            for cell in nb.cells:
                if (
                    cell.cell_type == "code"
                    and not cell.get("outputs")
                    and cell.get("execution_count") is None
                ):
                    cell.outputs = [
                        _error("NotRun", f"not run: the kernel failed ({reason})")
                    ]
            return nb, resources
        finally:
            SafeExecute.last_seconds = time.perf_counter() - started


def role(cell) -> str:
    """What a cell is to the grading kernel (grader.protect): setup, snapshot, guard, test, or '' (anyone's)."""
    meta = cell.get("metadata", {})
    if meta.get(guard.MARK):
        return "snapshot" if cell.get("source") == guard.SNAPSHOT else "guard"
    nbgrader = meta.get("nbgrader", {})
    if nbgrader.get("grade_id") == "setup":
        return "setup"
    return "test" if nbgrader.get("grade") else ""


def mark(cell, source: str) -> str:
    """The code sent to the kernel: a grader cell's with its role on the first line; any other cell's
    such that it can never pass for a grader cell."""
    kind = role(cell)
    if kind:
        return f"{guard.MARKER}{kind}\n{source}"
    return "#\n" + source if source.startswith(guard.MARKER) else source


class RemoveGuards(NbGraderPreprocessor):
    """Drop the cells the grader added (see grader.guard) before scoring and feedback."""

    def preprocess(self, nb, resources):
        nb.cells = [c for c in nb.cells if not c.get("metadata", {}).get(guard.MARK)]
        return nb, resources


def demote_stderr(cell) -> None:
    """nbgrader fails a test cell that wrote anything to stderr. A warning printed by the
    student's own code (a RuntimeWarning of a float32 overflow, say) is not a failed test:
    only an error is. Keep the text, as ordinary output."""
    if (
        cell.get("metadata", {}).get("nbgrader", {}).get("grade")
        and cell.cell_type == "code"
    ):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream" and out.get("name") == "stderr":
                out["name"] = "stdout"
                out["text"] = "".join(
                    "[stderr] " + ln for ln in out["text"].splitlines(keepends=True)
                )


# (short enough to fit on one line of the Validate dialog, with "NotImplementedError: ")
UNANSWERED = "not answered yet: replace `raise NotImplementedError()` with your code"


def explain_unanswered(cell) -> None:
    """A blank answer fails its test with a bare NotImplementedError at the end of a
    traceback through the test's code: say in words what is missing instead."""
    if not cell.get("metadata", {}).get("nbgrader", {}).get("grade"):
        return
    for out in cell.get("outputs", []):
        if (
            out.get("output_type") == "error"
            and out.get("ename") == "NotImplementedError"
            and not str(out.get("evalue", "")).strip()
        ):
            out["evalue"] = UNANSWERED
            out["traceback"] = [f"NotImplementedError: {UNANSWERED}"]


def finish_test_cell(cell) -> None:
    """The course's last word on an executed test cell, the same in the student's Validate
    button (grader/validate.py) and in `make grade` (FinishTestCells): text on stderr does
    not fail it, and a blank answer is explained."""
    demote_stderr(cell)
    explain_unanswered(cell)


class FinishTestCells(NbGraderPreprocessor):
    """finish_test_cell on every cell, after execution and before scoring."""

    def preprocess_cell(self, cell, resources, index):
        finish_test_cell(cell)
        return cell, resources


MESSAGE_CHARS = 400  # a failed test's message in the feedback: the course's text plus a bounded repr of the answer


class ConciseErrors(NbGraderPreprocessor):
    """In the feedback a graded cell shows only why it failed: the test's message, cut to a bounded
    length, never the traceback (it would quote hidden test code) nor anything the cell printed or
    displayed (student code running inside the test could print what it saw of the test)."""

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "code" and cell.get("metadata", {}).get(
            "nbgrader", {}
        ).get("grade"):
            errors = [out for out in cell.outputs if out.get("output_type") == "error"]
            for out in errors:
                out["ename"] = str(out.get("ename", "Error"))[:80]
                out["evalue"] = _bounded(str(out.get("evalue", "")))
                out["traceback"] = [f"{out['ename']}: {out['evalue']}"]
            cell.outputs = errors
        return cell, resources


def _bounded(text: str, limit: int = MESSAGE_CHARS) -> str:
    return (
        text
        if len(text) <= limit
        else text[:limit] + f" … [{len(text) - limit} more characters not shown]"
    )


def secret_lines(source_nb) -> set:
    """The lines of a chapter's hidden tests that its student edition does not show (stripped, at least 12 characters)."""
    hidden = re.compile(
        r"^[ \t]*### BEGIN HIDDEN TESTS\n(.*?)^[ \t]*### END HIDDEN TESTS", re.S | re.M
    )
    lines, shown = set(), set()
    for cell in source_nb.cells:
        text = cell.get("source", "")
        blocks = hidden.findall(text)
        for block in blocks:
            lines |= {ln.strip() for ln in block.splitlines() if len(ln.strip()) >= 12}
        shown |= {ln.strip() for ln in hidden.sub("", text).splitlines()}
    return lines - shown


class ScrubHiddenTests(NbGraderPreprocessor):
    """The last defence: no line of hidden test code reaches a feedback page, whatever printed it.

    ``secrets`` (set by the worker from the chapter's source) are the hidden tests' lines; every
    output line that contains one is replaced, and ``removed`` counts them for the instructor."""

    secrets: set = set()
    removed = 0
    PLACEHOLDER = "[removed by the grader: a line of hidden test code]"

    def preprocess(self, nb, resources):
        ScrubHiddenTests.removed = 0
        if self.secrets:
            for cell in nb.cells:
                for out in cell.get("outputs", []) if cell.cell_type == "code" else []:
                    self._scrub_output(out)
        return nb, resources

    def _scrub(self, text):
        if isinstance(text, list):
            return [self._scrub(t) for t in text]
        if not isinstance(text, str):
            return text
        kept = []
        for line in text.splitlines(keepends=True):
            if any(secret in line for secret in self.secrets):
                ScrubHiddenTests.removed += 1
                line = self.PLACEHOLDER + ("\n" if line.endswith("\n") else "")
            kept.append(line)
        return "".join(kept)

    def _scrub_output(self, out):
        for key in ("text", "evalue", "traceback"):
            if key in out:
                out[key] = self._scrub(out[key])
        for mime, value in list(out.get("data", {}).items()):
            out["data"][mime] = self._scrub(value)


class FeedbackExporter(HTMLExporter):
    """nbgrader's feedback page, made cheaper for a worker that writes one per submission.

    Most cells of a submission are the chapter's own, identical for every student: their
    highlighted code is remembered from one submission to the next (a worker grades many).
    And the page is not parsed again with BeautifulSoup afterwards (nbconvert does that to add
    alternative text to images and tab stops to JupyterLab-style cells, which the classic
    feedback template does not have): one substitution adds the alternative text.
    Together this halves the cost of a feedback page.
    """

    _highlighted: dict = {}  # (lexer, source, language, metadata) -> HTML; shared by every page this process writes

    def from_notebook_node(self, nb, resources=None, **kw):
        language = nb.metadata.get("language_info", {})
        lexer = language.get("pygments_lexer", language.get("name", None))
        highlight = Highlight2HTML(pygments_lexer=lexer, parent=self)
        cache = self._highlighted

        def highlight_code(source, language=None, metadata=None):
            key = (lexer, source, language, repr(metadata))
            if key not in cache:
                if len(cache) > 20000:
                    cache.clear()
                cache[key] = highlight(source, language, metadata)
            return cache[key]

        resources = self._init_resources(resources)
        self.register_filter("highlight_code", highlight_code)
        self.register_filter(
            "filter_data_type",
            WidgetsDataTypeFilter(
                notebook_metadata=self._nb_metadata, parent=self, resources=resources
            ),
        )
        html, resources = TemplateExporter.from_notebook_node(self, nb, resources, **kw)
        return _IMAGE_WITHOUT_ALT.sub(
            '<img alt="No description has been provided for this image" ', html
        ), resources


_IMAGE_WITHOUT_ALT = re.compile(r"<img (?![^>]*\balt=)")
