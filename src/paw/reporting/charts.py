"""PNG charts of the report (matplotlib, Agg backend: no display needed, same bytes on every machine)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

from paw.io import atomic_file
from paw.reporting.inputs import EVAL_LABELS

HIGHLIGHT = "#d62728"  # the transferred adapter, the bar the report is about
PLAIN = "#7f7f7f"


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Any, path: str | Path) -> None:
    # No "Software" stamp: identical figures give identical bytes across matplotlib versions (DVC sees no change).
    with atomic_file(path, "wb") as handle:
        fig.savefig(handle, format="png", dpi=120, bbox_inches="tight", metadata={"Software": None})


def accuracy_chart(summary: Mapping[str, Any], path: str | Path) -> None:
    """Horizontal bars of accuracy with one-standard-error bars; the transferred bar in colour."""
    plt = _pyplot()
    names = list(summary["models"])
    accs = [summary["models"][n]["acc"] for n in names]
    errs = [summary["models"][n]["acc_stderr"] or 0.0 for n in names]
    colors = [HIGHLIGHT if n == "transferred" else PLAIN for n in names]
    fig, ax = plt.subplots(figsize=(7, 0.5 * len(names) + 1.2))
    try:
        positions = range(len(names))[::-1]  # first model on top
        ax.barh(list(positions), accs, xerr=errs, color=colors, capsize=4)
        ax.set_yticks(list(positions), [EVAL_LABELS.get(n, n) for n in names])
        ax.set_xlabel(f"accuracy (± 1 stderr), n = {summary['models'][names[0]]['n']}")
        ax.set_xlim(0, min(1.0, max(a + e for a, e in zip(accs, errs)) * 1.2 or 1.0))
        for y, acc, err in zip(positions, accs, errs):
            ax.text(acc + err, y, f"  {acc:.3f}", va="center", ha="left", fontsize=8)  # right of the error bar
        if "target_base" in summary["models"]:
            ax.axvline(summary["models"]["target_base"]["acc"], color=PLAIN, linestyle=":", linewidth=1)
        run = summary["run"]
        ax.set_title(f"{run.get('source_model', '?')} → {run.get('target_model', '?')} on {run.get('dataset', '?')}")
        _save(fig, path)
    finally:
        plt.close(fig)


def sweep_chart(rows: Sequence[Mapping[str, Any]], param: str, path: str | Path) -> None:
    """Transferred accuracy (with stderr) and coverage against the swept parameter, one experiment per point."""
    plt = _pyplot()
    points = sorted((r for r in rows if isinstance(r.get(param), (int, float))), key=lambda r: r[param])
    fig, ax = plt.subplots(figsize=(7, 4))
    try:
        xs = [r[param] for r in points]
        acc = [r.get("transferred_acc") for r in points]
        err = [r.get("transferred_acc_stderr") or 0.0 for r in points]
        have_acc = [(x, a, e) for x, a, e in zip(xs, acc, err) if a is not None]
        if have_acc:
            ax.errorbar(*zip(*have_acc), color=HIGHLIGHT, marker="o", capsize=3, label="transferred accuracy")
        base = [r.get("target_base_acc") for r in points if r.get("target_base_acc") is not None]
        if base:
            ax.axhline(base[0], color=PLAIN, linestyle="--", label="target base accuracy")
        ax.set_xlabel(param)
        ax.set_ylabel("accuracy")
        if xs and min(xs) > 0 and max(xs) / min(xs) > 50:
            ax.set_xscale("log")  # thresholds are swept over decades
        cover = [(x, r.get("coverage")) for x, r in zip(xs, points) if r.get("coverage") is not None]
        handles, labels = ax.get_legend_handles_labels()
        if cover:
            twin = ax.twinx()
            twin.plot(*zip(*cover), color="#1f77b4", marker="s", linestyle=":", label="coverage")
            twin.set_ylabel("coverage (share of modules transferred)")
            twin.set_ylim(0, 1.05)
            more_handles, more_labels = twin.get_legend_handles_labels()
            handles, labels = handles + more_handles, labels + more_labels
        if handles:
            ax.legend(handles, labels, loc="best", fontsize=8)
        ax.set_title(f"transferred adapter across experiments, by {param}")
        _save(fig, path)
    finally:
        plt.close(fig)
