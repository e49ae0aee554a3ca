"""Gemma 3 270M accuracy (cloze, lm-eval 0.4.13 scoring) on the first N rows of ARC-Easy, ARC-Challenge, PIQA and
WinoGrande from ../shared/benchmarks, printed as a table with standard errors.

    OMP_NUM_THREADS=1 python benchmarks/gemma3_accuracy.py [--rows 500] [--batch-size 8]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BENCHMARKS = REPO.parent / "shared" / "benchmarks"
TASKS = (("arc-easy", "arc_easy"), ("arc-challenge", "arc_challenge"), ("piqa", "piqa"), ("winogrande", "winogrande"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=500)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--model", default=str(REPO / "models" / "gemma-3-270m"))
    args = parser.parse_args()

    from tabulate import tabulate

    from paw.data import get_task
    from paw.evaluation.engine import EvalSet, score_eval_set, summarize
    from paw.models import load_model, load_tokenizer, quiet_hf

    quiet_hf()
    model, tokenizer = load_model(args.model), load_tokenizer(args.model)
    table = []
    with tempfile.TemporaryDirectory():
        for name, folder in TASKS:
            task = get_task(name)
            rows = task.load_rows(data_path=BENCHMARKS / folder)[: args.rows]
            eval_set = EvalSet(name, task.default_split, "cloze", [task.to_item(r, i) for i, r in enumerate(rows)])
            start = time.perf_counter()
            lls = score_eval_set(model, tokenizer, eval_set, batch_size=args.batch_size, progress=False)
            seconds = time.perf_counter() - start
            m, _ = summarize(eval_set, lls)
            norm = f"{m['acc_norm']:.4f} ± {m['acc_norm_stderr']:.4f}" if task.reports_acc_norm else "—"
            table.append([name, m["n"], f"{m['acc']:.4f} ± {m['acc_stderr']:.4f}", norm, f"{m['n'] / seconds:.1f}"])
            print(json.dumps({"task": name, **{k: m[k] for k in ("n", "acc", "acc_norm")}, "seconds": seconds}),
                  flush=True)
    print(tabulate(table, headers=["task", "n", "acc", "acc_norm", "items/s"], tablefmt="github"))


if __name__ == "__main__":
    main()
