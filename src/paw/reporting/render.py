"""Render a summary dict as the human-readable report (Markdown tables via tabulate) and as flat CSV tables."""

from __future__ import annotations

import csv
import io
from typing import Any, Mapping

from tabulate import tabulate

from paw.reporting.inputs import EVAL_LABELS
from paw.reporting.summary import COMPARISONS, comparison_sentence, recovery_sentence

CSV_COLUMNS = ("model", "label", "acc", "acc_stderr", "acc_norm", "acc_norm_stderr", "n",
               "baseline", "diff", "ci_low", "ci_high", "p_value")
# Which comparison gives each model's row its "difference from its own base" columns.
BASELINE_OF = {a: (name, b) for name, a, b in COMPARISONS if b.endswith("_base")}


def _pm(value: float | None, stderr: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.4f} ± {stderr:.4f}" if stderr is not None else f"{value:.4f}"


def _num(value: Any, fmt: str = ".4g") -> str:
    if value is None:
        return "—"
    return format(value, fmt) if isinstance(value, (int, float)) and not isinstance(value, bool) else str(value)


def model_table(summary: Mapping[str, Any]) -> str:
    rows = [
        (EVAL_LABELS.get(name, name), _pm(m["acc"], m["acc_stderr"]), _pm(m["acc_norm"], m["acc_norm_stderr"]), m["n"])
        for name, m in summary["models"].items()
    ]
    return tabulate(rows, headers=("model", "acc ± stderr", "acc_norm ± stderr", "n"), tablefmt="github")


def comparison_table(summary: Mapping[str, Any]) -> str:
    confidence = summary["run"]["confidence"]
    rows = []
    for name, a, b in COMPARISONS:
        c = summary["comparisons"].get(name)
        if c is None:
            continue
        interval = "—" if c["ci_low"] is None else f"{c['ci_low'] * 100:+.1f} … {c['ci_high'] * 100:+.1f}"
        rows.append((f"{EVAL_LABELS[a]} − {EVAL_LABELS[b]}", f"{c['diff'] * 100:+.1f}", interval,
                     f"{c['p_value']:.3g}", c["a_only"], c["b_only"], "yes" if c["significant"] else "no"))
    headers = ("comparison", "Δ points", f"{confidence:.0%} CI (points)", "McNemar p", "only A right",
               "only B right", f"significant at {1 - confidence:.0%}")
    # Numbers here are already formatted with their sign; stop tabulate from re-parsing "+20.0" as 20.
    return tabulate(rows, headers=headers, tablefmt="github", disable_numparse=True)


def _flatten(values: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat = {}
    for key, value in values.items():
        if isinstance(value, Mapping):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def key_value_table(values: Mapping[str, Any], headers: tuple[str, str] = ("", "")) -> str:
    rows = [(k, _num(v)) for k, v in _flatten(values).items()]
    return tabulate(rows, headers=headers, tablefmt="github", disable_numparse=True)


def training_table(train: Mapping[str, Mapping[str, Any]]) -> str:
    keys = list(dict.fromkeys(k for metrics in train.values() for k in metrics))
    rows = [(key, *(_num(train[role].get(key)) for role in train)) for key in keys]
    return tabulate(rows, headers=("", *(f"{role} LoRA" for role in train)), tablefmt="github")


def markdown(summary: Mapping[str, Any], chart_name: str = "accuracy.png") -> str:
    run = summary["run"]
    confidence = run["confidence"]
    lines = [
        "# PAW report",
        "",
        f"Transfer of a LoRA from **{run.get('source_model', '?')}** to **{run.get('target_model', '?')}** on "
        f"**{run.get('dataset', '?')}** ({run.get('prompt_style', '?')} prompts), environment `{run.get('env', '?')}`, "
        f"seed {run.get('seed', '?')}. Paired tests use `{run['metric']}` on the same items: "
        f"{run['bootstrap_samples']} bootstrap draws for {confidence:.0%} intervals, exact McNemar p-values.",
        "",
        "## Accuracy",
        "",
        model_table(summary),
        "",
        f"![accuracy with one standard error]({chart_name})",
        "",
        "## Did the transfer help?",
        "",
    ]
    for name, _, _ in COMPARISONS[:3]:
        if name in summary["comparisons"]:
            lines.append(f"- {comparison_sentence(name, summary['comparisons'][name], confidence)}")
    lines += ["- " + recovery_sentence(summary), "", comparison_table(summary), ""]
    if summary["transfer"]:
        lines += ["## Transfer diagnostics", "", key_value_table(summary["transfer"], ("", "value")), ""]
        similarity, chance = summary["transfer"].get("mean_similarity"), summary["transfer"].get("chance")
        if similarity is not None and chance is not None:
            lines += [f"Mean subspace similarity {similarity:.3g} against a chance level of {chance:.3g} "
                      "(both on 0..1).", ""]
        elif "mean_similarity" in summary["transfer"]:
            # cross_lora between different shapes pairs directions by rank, so no subspace similarity exists.
            lines += ["No subspace similarity: the method compares no subspaces of equal dimension.", ""]
        if summary["transfer"].get("suspicious_modules"):
            lines += [f"**{summary['transfer']['suspicious_modules']} kept modules have suspicious updates** (norm "
                      "ratio or update size outside the sane band): see reports/transfer/diagnostics.md.", ""]
    if summary["train"]:
        lines += ["## Training", "", training_table(summary["train"]), ""]
    return "\n".join(lines)


def model_csv(summary: Mapping[str, Any]) -> str:
    """One row per model; rows of fine-tuned or transferred models carry their difference from their base."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for name, m in summary["models"].items():
        comparison_name, baseline = BASELINE_OF.get(name, (None, ""))
        c = summary["comparisons"].get(comparison_name, {}) if comparison_name else {}
        writer.writerow([name, EVAL_LABELS.get(name, name), m["acc"], m["acc_stderr"], m["acc_norm"],
                         m["acc_norm_stderr"], m["n"], baseline if c else "", c.get("diff"), c.get("ci_low"),
                         c.get("ci_high"), c.get("p_value")])
    return buffer.getvalue()  # csv writes None as an empty cell


def accuracy_plot_csv(summary: Mapping[str, Any]) -> str:
    """The data of the DVC bar plot: model label, accuracy and its standard error."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(("model", "acc", "acc_stderr"))
    for name, m in summary["models"].items():
        writer.writerow((EVAL_LABELS.get(name, name), m["acc"], m["acc_stderr"]))
    return buffer.getvalue()
