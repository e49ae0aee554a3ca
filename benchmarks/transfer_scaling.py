"""Cost of LoRA transfer at real scale: Meta-Llama-3-8B → Qwen2.5-7B module shapes, random weights.

    OMP_NUM_THREADS=1 python benchmarks/transfer_scaling.py [--layers 2] [--rank 64] [--methods cross_lora aligned activation]
    OMP_NUM_THREADS=2 python benchmarks/transfer_scaling.py --dtype bfloat16 --layers 2 --memory-layers 4  # + memory at full depth

Both bases are built with their real hidden, intermediate and attention shapes (Llama-3-8B: 4096 / 14336, 32 heads,
8 KV heads, 32 layers; Qwen2.5-7B: 3584 / 18944, 28 heads, 4 KV heads, 28 layers) but only `--layers` decoder
layers and a small vocabulary (tiny offline tokenizers: the embedding tables are not what the transfer costs).
Each phase runs in its own process, so its peak RAM is its own: decompose source, decompose target, then per
method a first transfer (which saves its threshold-independent carry, as the pipeline's `carry` stage does) and a
threshold-only rerun from that carry (the pipeline's `transfer` stage: no base model loaded). Seconds are measured on this
CPU and extrapolated linearly to all layers (stated as such); the rerun/first ratio compares the rerun with the
whole first run (both decompositions + transfer), which is what a threshold change saves.
Targets: the whole pair (decompositions + one transfer) under 15 minutes on CPU; a rerun ≤ 10% of the first.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SHAPES = {
    "llama3-8b": dict(arch="llama", hidden_size=4096, intermediate_size=14336, num_attention_heads=32,
                      num_key_value_heads=8, head_dim=128, full_layers=32, vocab=420, seed=1),
    "qwen2.5-7b": dict(arch="qwen2", hidden_size=3584, intermediate_size=18944, num_attention_heads=28,
                       num_key_value_heads=4, head_dim=128, full_layers=28, vocab=380, seed=2),
}
WORDS = ("the a of to in on is are was by for with from and or not what which where when why how question answer "
         "river mountain forest city stone water fire wind light sound tree bird fish horse apple bread salt iron "
         "gold glass wood run walk swim fly grow fall rise turn open close push pull carry build break make").split()


def probe_lines(seed: int, n: int) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 24))).capitalize() + "?" for _ in range(n)]


def build_base(name: str, out_dir: Path, layers: int, dtype: str = "float32") -> Path:
    """A base of `name`'s shapes with `layers` decoder layers, saved in `dtype` (the hub's Llama-3-8B and
    Qwen2.5-7B checkpoints are bfloat16: loading float32 files in bfloat16 would count both copies)."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import AutoModelForCausalLM, LlamaConfig, PreTrainedTokenizerFast, Qwen2Config

    spec = dict(SHAPES[name])
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=spec["vocab"], special_tokens=["<pad>", "<eos>"], show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tokenizer.train_from_iterator(probe_lines(spec["seed"], 2000), trainer=trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tokenizer, eos_token="<eos>", pad_token="<pad>")
    fast.save_pretrained(out_dir)
    config_cls = LlamaConfig if spec["arch"] == "llama" else Qwen2Config
    config = config_cls(
        vocab_size=len(fast), hidden_size=spec["hidden_size"], intermediate_size=spec["intermediate_size"],
        num_attention_heads=spec["num_attention_heads"], num_key_value_heads=spec["num_key_value_heads"],
        head_dim=spec["head_dim"], num_hidden_layers=layers, max_position_embeddings=512, tie_word_embeddings=False,
        eos_token_id=fast.eos_token_id, pad_token_id=fast.pad_token_id,
    )
    torch.manual_seed(spec["seed"])
    model = AutoModelForCausalLM.from_config(config)
    with torch.no_grad():
        for param in model.parameters():
            if param.dim() == 2:
                param.normal_(0.0, 1.0 / param.shape[1] ** 0.5)
    model.to(getattr(torch, dtype)).save_pretrained(out_dir, safe_serialization=True)
    return out_dir


def build_adapter(model_dir: Path, out_dir: Path, r: int = 16) -> Path:
    import torch

    from paw.models import load_model, write_adapter
    from paw.transfer.layout import model_layout

    model = load_model(model_dir)
    generator = torch.Generator().manual_seed(0)
    weights = {
        site.path: (torch.randn(r, site.in_features, generator=generator) * 0.01,
                    torch.randn(site.out_features, r, generator=generator) * 0.01)
        for site in model_layout(model).sites.values()
    }
    write_adapter(out_dir, weights, r, 2 * r, model_dir.name)
    return out_dir


def phase(args: argparse.Namespace) -> dict:
    """One measured step, run in a fresh process; prints its JSON record."""
    from paw.resources import peak_ram_mb
    from paw.transfer.api import decompose, run_transfer, transfer_from_carried

    root = Path(args.root)
    start = time.perf_counter()
    if args.phase == "build":
        from paw.models import quiet_hf

        quiet_hf()
        for name in SHAPES:
            build_base(name, root / name, args.layers, args.dtype)
        build_adapter(root / "llama3-8b", root / "adapter")
    elif args.phase == "decompose":
        decompose(root / args.model, root / f"svd-{args.model}", svd_rank=args.rank, dtype=args.dtype)
    elif args.phase.endswith(":rerun"):
        method = args.phase.split(":")[0]
        result = transfer_from_carried(root / f"carried-{method}", root / f"out-{method}-{args.threshold}",
                                       threshold=args.threshold)
        report_kept(result)
    else:
        method = args.phase
        options = {}
        if method == "activation":
            options = {"activation": {"probe_file": str(root / "probe.txt"), "probe_size": args.probe_size,
                                      "max_positions": args.max_positions}}
        result = run_transfer(
            root / "llama3-8b", root / "adapter", root / "qwen2.5-7b", root / f"out-{method}-{args.threshold}",
            method=method, svd_rank=args.rank, threshold=args.threshold, options=options, dtype=args.dtype,
            source_svd_dir=root / "svd-llama3-8b", target_svd_dir=root / "svd-qwen2.5-7b",
            carried_dir=root / f"carried-{method}",
        )
        report_kept(result)
    return {"seconds": time.perf_counter() - start, "peak_ram_mb": peak_ram_mb()}


def report_kept(result: dict) -> None:
    totals = result["totals"]
    print(json.dumps({"kept": totals["modules_kept"], "considered": totals["modules_considered"],
                      "mean_similarity": totals["mean_similarity"], "mean_chance": totals["mean_chance"]}),
          file=sys.stderr)


PROBE_ARGS: list[str] = []  # the activation probe settings, handed to every phase


def run_phase(root: Path, name: str, rank: int, model: str = "", threshold: float = 1e-4, layers: int = 2) -> dict:
    cmd = [sys.executable, __file__, "--phase", name, "--root", str(root), "--rank", str(rank),
           "--threshold", str(threshold), "--layers", str(layers), *PROBE_ARGS]
    if model:
        cmd += ["--model", model]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        return {"error": (done.stderr.strip().splitlines() or ["failed"])[-1]}
    record = json.loads(done.stdout.strip().splitlines()[-1])
    extra = [line for line in done.stderr.splitlines() if line.startswith("{")]
    if extra:
        record.update(json.loads(extra[-1]))
    return record


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", type=int, default=2, help="decoder layers actually built per base")
    parser.add_argument("--rank", type=int, default=64, help="transfer.svd_rank (k of the truncated SVDs)")
    parser.add_argument("--methods", nargs="+", default=["cross_lora", "aligned", "activation"])
    parser.add_argument("--rerun-threshold", type=float, default=0.01, help="threshold of the threshold-only rerun")
    parser.add_argument("--probe-size", type=int, default=32, help="activation: probe texts (params default 64)")
    parser.add_argument("--max-positions", type=int, default=512,
                        help="activation: paired positions kept (params default 2048)")
    parser.add_argument("--dtype", default="float32", help="models.dtype the bases are loaded in (float32, bfloat16)")
    parser.add_argument("--memory-layers", type=int,
                        help="also measure with this many layers and extrapolate each phase's peak RAM to full depth")
    parser.add_argument("--json", help="also write the results here")
    parser.add_argument("--phase", help=argparse.SUPPRESS)
    parser.add_argument("--root", help=argparse.SUPPRESS)
    parser.add_argument("--model", help=argparse.SUPPRESS)
    parser.add_argument("--threshold", type=float, default=1e-4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        print(json.dumps(phase(args)))
        return

    rows = measure(args, args.layers)
    report(rows, args)
    if args.memory_layers:
        memory_report(rows, measure(args, args.memory_layers), args)


def measure(args: argparse.Namespace, layers: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="paw-scaling-") as tmp:
        root = Path(tmp)
        (root / "probe.txt").write_text("\n".join(probe_lines(7, 200)) + "\n")
        # Built in a child process too: Linux carries a parent's resident size into its children's peak RSS, so
        # a parent holding the bases would inflate every phase's measured peak.
        PROBE_ARGS[:] = ["--probe-size", str(args.probe_size), "--max-positions", str(args.max_positions),
                         "--dtype", args.dtype]
        built = run_phase(root, "build", args.rank, layers=layers)
        if "error" in built:
            raise SystemExit(f"building the bases failed: {built['error']}")
        rows = {}
        for name, spec in SHAPES.items():
            rows[f"decompose {name}"] = {**run_phase(root, "decompose", args.rank, model=name),
                                         "scale": spec["full_layers"] / layers, "full_layers": spec["full_layers"]}
        for method in args.methods:
            rows[f"{method} first"] = {**run_phase(root, method, args.rank), "scale": 32 / layers, "full_layers": 32}
            rows[f"{method} rerun (threshold {args.rerun_threshold:g})"] = {
                **run_phase(root, f"{method}:rerun", args.rank, threshold=args.rerun_threshold),
                "scale": 32 / layers, "full_layers": 32}
    return rows


def memory_report(low: dict, high: dict, args: argparse.Namespace) -> None:
    """Peak RAM at full depth, from the line through the two measured depths: what grows with depth (weights
    loaded, decompositions, carried factors) grows by the per-layer slope; what does not (embeddings, Python,
    torch) is the intercept. Transfer phases are taken to 32 layers for both bases (Qwen2.5-7B has 28): an
    upper estimate."""
    a, b = args.layers, args.memory_layers
    print(f"\npeak RAM at full depth, linear in the layers built ({a} and {b}); bases in {args.dtype}")
    print(f"{'phase':44} {f'{a} layers':>12} {f'{b} layers':>12} {'per layer':>10} {'full (GB)':>10}")
    for key, first in low.items():
        second = high.get(key, {})
        if "peak_ram_mb" not in first or "peak_ram_mb" not in second:
            continue
        slope = (second["peak_ram_mb"] - first["peak_ram_mb"]) / (b - a)
        full = first["peak_ram_mb"] + slope * (first["full_layers"] - a)
        print(f"{key:44} {first['peak_ram_mb']:12.0f} {second['peak_ram_mb']:12.0f} {slope:10.0f} "
              f"{full / 1024:10.1f}")


def report(rows: dict, args: argparse.Namespace) -> None:
    print(f"Llama-3-8B → Qwen2.5-7B shapes, {args.layers} of 32 / 28 layers built, rank {args.rank}, "
          "random weights; 'full' = measured × (full layers / built layers); activation probe "
          f"{args.probe_size} texts, ≤ {args.max_positions} positions; bases in {args.dtype}")
    print(f"{'phase':44} {'seconds':>9} {'full (extrap.)':>15} {'peak RAM MiB':>13}  note")
    decompose_full = sum(r.get("seconds", 0) * r["scale"] for k, r in rows.items() if k.startswith("decompose"))
    for key, r in rows.items():
        if "error" in r:
            print(f"{key:44} {'—':>9} {'—':>15} {'—':>13}  {r['error']}")
            continue
        note = ""
        if "kept" in r:
            note = f"kept {r['kept']}/{r['considered']}, similarity {r['mean_similarity']} (chance {r['mean_chance']})"
        print(f"{key:44} {r['seconds']:9.1f} {r['seconds'] * r['scale']:15.1f} {r['peak_ram_mb']:13.0f}  {note}")
    for method in args.methods:
        first = rows.get(f"{method} first", {})
        rerun = rows.get(f"{method} rerun (threshold {args.rerun_threshold:g})", {})
        if "seconds" in first and "seconds" in rerun:
            whole = decompose_full + first["seconds"] * first["scale"]
            ratio = rerun["seconds"] * rerun["scale"] / whole
            print(f"{method}: whole pair {whole / 60:.1f} min extrapolated (target < 15), threshold-only rerun "
                  f"{ratio:.1%} of it (target ≤ 10%)")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
