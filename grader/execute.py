"""nbgrader preprocessors the grader adds to autograding and feedback, and its feedback page exporter."""
import re
import time

from nbclient.exceptions import DeadKernelError
from nbconvert.exporters import HTMLExporter, TemplateExporter
from nbconvert.filters.highlight import Highlight2HTML
from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter
from nbclient.util import run_sync
from nbformat.notebooknode import NotebookNode
from nbgrader.preprocessors import Execute, NbGraderPreprocessor

from . import guard


def _error(ename: str, evalue: str) -> NotebookNode:
    return NotebookNode(output_type="error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"])


class SafeExecute(Execute):
    """nbgrader's Execute, except that a dead kernel (os._exit, a segfault, the memory
    limit) costs only the cells that did not run: they get an error output, and the
    cells that ran before keep their results."""

    _died_at = None
    _timed_out = False

    async def _async_handle_timeout(self, timeout, cell=None):
        self._timed_out = True
        return await super()._async_handle_timeout(timeout, cell)

    async def async_execute_cell(self, cell, cell_index, execution_count=None, store_history=True):
        if self._died_at is not None:
            if cell.cell_type == "code":
                cell.outputs = [_error("NotRun", f"not run: the kernel died in an earlier cell ({self._died_at})")]
            return cell
        self._timed_out = False
        try:
            cell = await super().async_execute_cell(cell, cell_index, execution_count, store_history)
            if self._timed_out:  # say "too slow", not the KeyboardInterrupt that stopped it
                cell.outputs = [o for o in cell.outputs if o.get("output_type") != "error"]
                cell.outputs.append(_error("CellTimeoutError", f"this cell ran longer than {self.timeout} s "
                                                               "and was stopped (an endless loop?)"))
            return cell
        except DeadKernelError:
            gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
            self._died_at = f"cell {gid or cell_index}"
            cell.outputs.append(_error("KernelDied", "the kernel died while running this cell "
                                                     "(it exited, crashed or ran out of memory)"))
            return cell

    # nbclient binds the synchronous wrapper to its own coroutine at class creation:
    # rebind it, or the override above would never run.
    execute_cell = run_sync(async_execute_cell)

    last_seconds = 0.0  # how long the last notebook took to run, kernel start and shutdown included

    def preprocess(self, nb, resources=None, km=None):
        self._died_at = None
        started = time.perf_counter()
        try:
            return super().preprocess(nb, resources, km)
        except Exception as exc:
            # The kernel died where the per-cell handler could not see it (while starting or
            # shutting down). A cell without outputs must never count as a passed test:
            # every code cell that has not run is marked as not run.
            reason = f"{type(exc).__name__}: {exc}"[:200]
            for cell in nb.cells:
                if cell.cell_type == "code" and not cell.get("outputs") and cell.get("execution_count") is None:
                    cell.outputs = [_error("NotRun", f"not run: the kernel failed ({reason})")]
            return nb, resources
        finally:
            SafeExecute.last_seconds = time.perf_counter() - started


class RemoveGuards(NbGraderPreprocessor):
    """Drop the cells the grader added (see grader.guard) before scoring and feedback."""

    def preprocess(self, nb, resources):
        nb.cells = [c for c in nb.cells if not c.get("metadata", {}).get(guard.MARK)]
        return nb, resources


class DemoteStderr(NbGraderPreprocessor):
    """nbgrader fails a test cell that wrote anything to stderr. A warning printed by the
    student's own code is not a failed test: keep the text, as ordinary output."""

    def preprocess_cell(self, cell, resources, index):
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade") and cell.cell_type == "code":
            for out in cell.outputs:
                if out.get("output_type") == "stream" and out.get("name") == "stderr":
                    out["name"] = "stdout"
                    out["text"] = "".join("[stderr] " + ln for ln in out["text"].splitlines(keepends=True))
        return cell, resources


class ConciseErrors(NbGraderPreprocessor):
    """Feedback shows a failed test's message, never the traceback (it would quote hidden test code)."""

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "code" and cell.get("metadata", {}).get("nbgrader", {}).get("grade"):
            for out in cell.outputs:
                if out.get("output_type") == "error":
                    out["traceback"] = [f"{out.get('ename', 'Error')}: {out.get('evalue', '')}"]
        return cell, resources


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
        self.register_filter("filter_data_type", WidgetsDataTypeFilter(notebook_metadata=self._nb_metadata,
                                                                       parent=self, resources=resources))
        html, resources = TemplateExporter.from_notebook_node(self, nb, resources, **kw)
        return _IMAGE_WITHOUT_ALT.sub('<img alt="No description has been provided for this image" ', html), resources


_IMAGE_WITHOUT_ALT = re.compile(r"<img (?![^>]*\balt=)")
