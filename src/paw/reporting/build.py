"""Build the report: read the pipeline's outputs, compute the statistics, write every report file.

Outputs, each written atomically under the output directory (reports/ by default):
summary.json (DVC metrics), summary.csv, summary.md, accuracy.png (referenced by the Markdown) and
plots/accuracy.csv (the data of a DVC bar plot). Everything is computed before the first file is written, so a
bad input leaves the previous report untouched.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from paw.io import atomic_file, write_json
from paw.reporting import render
from paw.reporting.charts import accuracy_chart
from paw.reporting.inputs import EVAL_NAMES, read_inputs
from paw.reporting.summary import ReportSettings, summarize

OUTPUT_FILES = ("summary.json", "summary.csv", "summary.md", "accuracy.png", "plots/accuracy.csv")


def report_settings(params: Any) -> ReportSettings:
    return ReportSettings(
        metric=params.report_metric,
        bootstrap_samples=params.report.bootstrap_samples,
        confidence=params.report.confidence,
        seed=params.seed,
    )


def run_facts(params: Any) -> dict[str, Any]:
    """What was run, as the report states it next to the numbers."""
    profile = params.profile
    return {
        "env": params.env,
        "source_model": profile.source_model,
        "target_model": profile.target_model,
        "dataset": params.dataset,
        "prompt_style": params.prompt_style,
        "transfer_method": params.transfer.method,
        "seed": params.seed,
    }


def evaluation_names(params: Any) -> tuple[str, ...]:
    # The random control exists only when the transfer stage was asked to write it.
    return tuple(n for n in EVAL_NAMES if n != "control" or params.transfer.control)


def write_report(
    reports_dir: str | Path,
    out_dir: str | Path,
    settings: ReportSettings,
    run: Mapping[str, Any],
    names: tuple[str, ...] = EVAL_NAMES,
    transfer_diagnostics: str | Path | None = None,
) -> dict[str, Any]:
    """Read inputs under `reports_dir`, write the report files under `out_dir`, return the summary dict.

    `transfer_diagnostics` defaults to reports_dir/transfer/diagnostics.json.
    """
    inputs = read_inputs(reports_dir, names, transfer_diagnostics)
    summary = summarize(inputs, settings, run)
    texts = {
        "summary.md": render.markdown(summary, chart_name="accuracy.png"),
        "summary.csv": render.model_csv(summary),
        "plots/accuracy.csv": render.accuracy_plot_csv(summary),
    }
    out_dir = Path(out_dir)
    accuracy_chart(summary, out_dir / "accuracy.png")
    for name, text in texts.items():
        with atomic_file(out_dir / name) as handle:
            handle.write(text if text.endswith("\n") else text + "\n")
    write_json(out_dir / "summary.json", summary)
    return summary


def build_report(
    params: Any, reports_dir: str | Path = "reports", transfer_diagnostics: str | Path | None = None
) -> dict[str, Any]:
    """The `report` stage: inputs and outputs both under `reports_dir`, settings and run facts from `params`."""
    return write_report(reports_dir, reports_dir, report_settings(params), run_facts(params),
                        evaluation_names(params), transfer_diagnostics)
