"""Peak RSS and seconds of `paw transfer` on a real pair, per method, each in a process of its own, against the
baseline a transfer that holds both bases pays before computing anything: loading both, measured the same way.

    python -m benchmarks.real_transfer_memory                      # Qwen2.5-Coder 0.5B → 1.5B, float32
    python -m benchmarks.real_transfer_memory --dtype bfloat16
    python -m benchmarks.real_transfer_memory --source models/gemma-3-270m --target models/qwen2.5-coder-0.5b-instruct

The source adapter is a random rank-16 LoRA on every attention and MLP projection of every layer (what a trained
LoRA of the `lora:` section adapts); `activation` reads `--probe-size` ARC-Easy training questions (the pipeline's
own cloze prompts) from `--rows`, as a JSONL probe file. Run with OMP_NUM_THREADS=1 and nothing else heavy beside
it: peak RSS is the kernel's figure (`ru_maxrss` of the child).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tabulate import tabulate

METHODS = ("cross_lora", "aligned", "activation")
KINDS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


def random_adapter(model_dir: str, out_dir: Path, r: int = 16, alpha: float = 32.0, seed: int = 0) -> Path:
    """A seeded random LoRA whose update is 5% of each module's weight norm, on every projection of every layer."""
    import torch

    from paw.models import write_adapter
    from paw.transfer.bases import Base
    from paw.transfer.layout import model_layout

    base = Base(Path(model_dir))
    generator = torch.Generator().manual_seed(seed)
    weights = {}
    for site in sorted(model_layout(base.structure).sites.values(), key=lambda s: (s.layer, s.kind)):
        if site.kind not in KINDS:
            continue
        a = torch.randn(r, site.in_features, generator=generator)
        b = torch.randn(site.out_features, r, generator=generator)
        size = float(base.weight(site.path).norm()) / float((b @ a).norm()) * 0.05 * r / alpha
        weights[site.path] = (a * size**0.5, b * size**0.5)
    write_adapter(out_dir, weights, r, alpha, Path(model_dir).name)
    return out_dir


def probe_file(rows: Path, size: int, out: Path) -> Path:
    from paw.data import get_task

    task = get_task("arc-easy")
    questions = task.load_rows("train", rows)[:size]
    out.write_text("".join(json.dumps({"text": task.to_item(row, i).contexts[0]}) + "\n"
                           for i, row in enumerate(questions)))
    return out


def measured(command: list[str]) -> tuple[float, float]:
    """(seconds, peak RSS in GB) of a child process run to completion."""
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command[:4])} … failed:\n{done.stderr[-2000:]}")
    # RUSAGE_CHILDREN's maximum is the largest child so far, not this one's: each child prints its own last.
    return seconds, float(done.stdout.strip().splitlines()[-1]) / 2**20


PEAK = ("import resource, sys\nfrom paw.cli import main\nsys.argv = ['paw', *sys.argv[1:]]\ncode = 0\ntry:\n"
        "    main()\nexcept SystemExit as exc:\n    code = exc.code or 0\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\nsys.exit(code)")
# Loading maps the safetensors files: weights become resident only when read, so the baseline reads every one.
LOAD_BOTH = ("import sys, resource; from paw.models import load_model; "
             "models = [load_model(p, sys.argv[3]) for p in sys.argv[1:3]]; "
             "[float(p.float().sum()) for m in models for p in m.parameters()]; "
             "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", default="models/qwen2.5-coder-0.5b-instruct")
    parser.add_argument("--target", default="models/qwen2.5-coder-1.5b-instruct")
    parser.add_argument("--dtype", default="float32", choices=("float32", "bfloat16"))
    parser.add_argument("--rows", type=Path, default=Path("../shared/benchmarks/arc_easy"))
    parser.add_argument("--probe-size", type=int, default=64)
    parser.add_argument("--max-positions", type=int, default=2048)
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="paw-bench-") as work:
        work = Path(work)
        adapter = random_adapter(args.source, work / "adapter")
        probe = probe_file(args.rows, args.probe_size, work / "probe.jsonl")
        python = sys.executable
        baseline_s, baseline_gb = measured([python, "-c", LOAD_BOTH, args.source, args.target, args.dtype])
        rows = [["both bases loaded whole (baseline)", f"{baseline_s:.0f} s", f"{baseline_gb:.2f} GB", "1.00"]]
        for method in args.methods:
            command = [python, "-c", PEAK, "transfer", "--source-model", args.source,
                       "--source-adapter", str(adapter), "--target-model", args.target, "--out",
                       str(work / method), "--method", method, "--dtype", args.dtype]
            if method == "activation":
                command += ["--probe-file", str(probe), "--probe-size", str(args.probe_size),
                            "--max-positions", str(args.max_positions)]
            seconds, gb = measured(command)
            rows.append([f"`{method}` carry + selection", f"{seconds:.0f} s", f"{gb:.2f} GB",
                         f"{gb / baseline_gb:.2f}"])
            print(rows[-1], flush=True)
    print(f"{Path(args.source).name} → {Path(args.target).name}, {args.dtype}, rank-16 LoRA on every projection; "
          f"activation probe {args.probe_size} texts, ≤ {args.max_positions} positions")
    print(tabulate(rows, headers=["what", "seconds", "peak RSS", "× baseline"], tablefmt="github"))


if __name__ == "__main__":
    main()
