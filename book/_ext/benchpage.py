"""Sphinx extension: the ``bench-results`` directive renders bench/results.json (`make bench`).

    ```{bench-results}
    ```

in a MyST page becomes: when and on what machine the numbers were measured (and how loaded
it was), a table and a bar chart of the NumPy/PyTorch ratios, the notebooks' run times
against their budgets, grading throughput, book build times and the language model, each
where the file has it. Nothing is executed: the page only reads the committed file, and
Sphinx rebuilds it when the file changes (a noted dependency). The chart is an inline SVG
drawn with Matplotlib at build time.
"""

import io
import json
import math
import pathlib

from docutils import nodes
from sphinx.util.docutils import SphinxDirective

RESULTS = pathlib.Path("bench") / "results.json"  # relative to the book's source root


def _table(header, rows, widths=None):
    table = nodes.table(classes=["bench-table"])
    group = nodes.tgroup(cols=len(header))
    table += group
    for w in widths or [1] * len(header):
        group += nodes.colspec(colwidth=w)

    def row_of(cells, entry_class=nodes.entry):
        row = nodes.row()
        for cell in cells:
            entry = entry_class()
            entry += nodes.paragraph(text=str(cell))
            row += entry
        return row

    head = nodes.thead()
    head += row_of(header)
    group += head
    body = nodes.tbody()
    for cells in rows:
        body += row_of(cells)
    group += body
    return table


def _ms(seconds):
    return f"{seconds * 1e3:.2f}" if seconds < 1 else f"{seconds * 1e3:.0f}"


def _chart(ratios, target):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [r["name"] for r in ratios][::-1]
    values = [r["ratio"] for r in ratios][::-1]
    with plt.rc_context({"svg.fonttype": "none", "font.size": 10}):
        fig, ax = plt.subplots(figsize=(7.5, 0.35 * len(names) + 1.2))
        colors = ["#2a7ab0" if v <= target else "#c0392b" for v in values]
        ax.barh(range(len(names)), values, color=colors)
        ax.set_xscale("log")
        ax.axvline(1.0, color="black", lw=0.8)
        ax.axvline(target, color="#c0392b", lw=0.8, ls="--")
        ax.set_yticks(range(len(names)), names)
        low = min(min(values) / 1.5, 0.5)
        high = max(max(values) * 2.0, target * 2.0)
        ax.set_xlim(low, high)
        ticks = [
            t for t in (0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50) if low <= t <= high
        ]
        ax.set_xticks(ticks, [f"{t:g}x" for t in ticks])
        ax.minorticks_off()
        for i, v in enumerate(values):
            ax.text(v * 1.05, i, f"{v:.2f}x", va="center", fontsize=9)
        ax.text(
            target,
            len(names) - 0.4,
            f" target {target:g}x",
            color="#c0392b",
            fontsize=9,
        )
        ax.set_xlabel("NumPy time / PyTorch time (float64, log scale)")
        fig.patch.set_facecolor("white")
        fig.tight_layout()
        out = io.StringIO()
        fig.savefig(
            out, format="svg", metadata={"Date": None}
        )  # the same SVG every build
        plt.close(fig)
    svg = out.getvalue()
    svg = svg[svg.index("<svg") :]  # drop the XML prolog and doctype: inline in HTML
    return nodes.raw("", f'<div class="bench-chart">{svg}</div>', format="html")


# The sections of bench/run.py in the order it runs them (it records the load after each one).
SECTIONS = ("ratios", "notebooks", "grading", "book", "lm")


def busy_with_other_work(r):
    """Whether the 1-minute load average shows more than the benchmark's own work: above half
    the cores before it started, or, after a section, above what that section and the one
    before it run at once (the average lags by about a minute) plus half a core. The
    benchmark runs one process of `bench_threads` threads; its grading section up to 2."""
    cores, threads = r["machine"]["cores"], r["machine"]["bench_threads"]
    if max(r["load_before"][0], r["load_after"][0] - threads) > 0.5 * cores:
        return True
    own = [2 if name == "grading" else threads for name in SECTIONS]
    during = r.get("load_between_sections", [])
    return any(
        load > max(own[i], own[max(i - 1, 0)]) + 0.5
        for i, load in enumerate(during[: len(own)])
    )


class BenchResults(SphinxDirective):
    has_content = False

    def run(self):
        path = pathlib.Path(self.env.srcdir) / RESULTS
        self.env.note_dependency(str(path))
        r = json.loads(path.read_text(encoding="utf-8"))
        m = r["machine"]
        load = (
            f"load average (1 min) {r['load_before'][0]:.1f} before and "
            f"{r['load_after'][0]:.1f} after the run, on {m['cores']} cores"
        )
        during = r.get("load_between_sections", [])
        if during:
            load += f" (at most {max(during):.1f} between its sections)"
        loaded = busy_with_other_work(r)
        blas = ", ".join(
            f"{b['internal_api']} {b['version']}"
            for b in m.get("blas", [])
            if b.get("version")
        )
        out = [
            nodes.paragraph(
                text=(
                    f"Measured on {r['date'][:16].replace('T', ' ')} UTC with "
                    f"make bench{' QUICK=1' if r['quick'] else ''} "
                    f"({'quick mode: small sizes, one chapter' if r['quick'] else 'full mode'}) "
                    f"on {m['cores']} cores ({m['cpu_model']}), PyTorch {m['torch']}, "
                    f"NumPy {m['numpy']} ({blas}), {m['bench_threads']} thread(s) for both; "
                    f"{load}: "
                    + (
                        "the machine was busy with other work, so absolute times are "
                        "inflated and the ratios noisy."
                        if loaded
                        else "apart from the benchmark's own work, the machine was quiet."
                    )
                )
            )
        ]
        if "ratios" in r:
            target = r.get("ratio_target", 5.0)
            out.append(nodes.rubric(text="From scratch against the library"))
            out.append(_chart(r["ratios"], target))
            out.append(
                _table(
                    [
                        "benchmark",
                        "chapter's code",
                        "sizes",
                        "NumPy ms",
                        "PyTorch ms",
                        "ratio",
                        "PyTorch float32 ms",
                        "why",
                    ],
                    [
                        [
                            x["name"],
                            x["code"],
                            x["sizes"],
                            _ms(x["numpy_s"]),
                            _ms(x["torch_s"]),
                            f"{x['ratio']:.2f}x",
                            _ms(x["torch_float32_s"])
                            if x.get("torch_float32_s")
                            else "",
                            ("" if x["within_target"] else f"over {target:g}x: ")
                            + x["note"],
                        ]
                        for x in r["ratios"]
                    ],
                    [14, 12, 18, 6, 6, 5, 6, 22],
                )
            )
        if "notebooks" in r:
            total = r["notebooks_total"]
            out.append(nodes.rubric(text="Course run time"))
            rows = [
                [
                    x["chapter"],
                    f"{x['wall_s']:.0f}",
                    f"{x['cpu_s']:.0f}",
                    f"{x['budget_s']:.0f}",
                    "; ".join(
                        f"{c['cpu_s']:.1f} s: {c['first_line']}"
                        for c in x["slowest_cells"][:2]
                    )
                    or "did not finish: " + "; ".join(x.get("errors", []))[:120],
                ]
                for x in r["notebooks"]
            ]
            rows.append(
                [
                    f"all ({total['chapters']})",
                    f"{total['wall_s']:.0f}",
                    f"{total['cpu_s']:.0f}",
                    f"{total['budget_s']:.0f}",
                    "",
                ]
            )
            out.append(
                _table(
                    [
                        "solution notebook",
                        "wall s",
                        "CPU s",
                        "budget s",
                        "slowest cells (CPU s)",
                    ],
                    rows,
                    [10, 4, 4, 4, 30],
                )
            )
        if "grading" in r:
            g = r["grading"]
            out.append(nodes.rubric(text="Grading"))
            out.append(
                nodes.paragraph(
                    text=f"{g['submissions']} submissions of {g['chapter']}; every run gave "
                    "the same scores as plain nbgrader (checked)."
                )
            )
            rows = [
                [
                    "plain nbgrader autograde, one after the other",
                    f"{g['plain_autograde_s']:.0f}",
                    f"{g['plain_autograde_per_minute']:.1f}",
                    "",
                    "",
                ],
                [
                    "plain autograde + generate_feedback",
                    f"{g['plain_autograde_feedback_s']:.0f}",
                    f"{g['plain_autograde_feedback_per_minute']:.1f}",
                    "",
                    "",
                ],
            ]
            for w in g["grader"]:
                rows.append(
                    [
                        f"the course's grader, {w['workers']} worker(s), feedback included",
                        f"{w['seconds']:.0f}",
                        f"{w['per_minute']:.1f}",
                        f"{w['speedup_vs_autograde_feedback']:.2f}x",
                        f"{w['overhead_beyond_execution_s']:.1f}",
                    ]
                )
            out.append(
                _table(
                    [
                        "how",
                        "seconds",
                        "per minute",
                        "vs autograde + feedback",
                        "s per submission beyond running the notebook",
                    ],
                    rows,
                    [20, 5, 5, 6, 8],
                )
            )
        if "book" in r:
            b = r["book"]
            out.append(nodes.rubric(text="The book"))
            out.append(
                nodes.paragraph(
                    text=f"Cold build {b['cold_s']:.0f} s, cached rebuild with nothing "
                    f"changed {b['cached_no_change_s']:.0f} s, rebuild after one chapter "
                    f"changed ({b['changed']}) {b['one_chapter_changed_s']:.0f} s."
                )
            )
        if "lm" in r:
            lm = r["lm"]
            out.append(nodes.rubric(text="The language model"))
            comp = sorted(lm["compressors_bits_per_char"].items(), key=lambda kv: kv[1])
            out.append(
                _table(
                    ["model", "test bits/char"],
                    [
                        [
                            f"{lm['model']}, {lm['steps']} steps in {lm['train_seconds'] / 60:.1f} min",
                            f"{lm['test_bits_per_char']:.3f}",
                        ]
                    ]
                    + [[name, f"{bits:.3f}"] for name, bits in comp],
                    [30, 6],
                )
            )
        if not math.isfinite(sum(x["ratio"] for x in r.get("ratios", []))):
            raise self.error(f"{RESULTS}: a ratio is not a finite number")
        return out


def setup(app):
    app.add_directive("bench-results", BenchResults)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
