"""Does the toy world land in the same place on another CPU? Pretraining is deterministic on one machine but not
bit-identical across CPUs (other kernels round differently), and a short run can end on either side of the point
where a base has learnt its facts. This pretrains one toy base several times, each from its usual seeded weights
times (1 + eps·noise) with a different noise seed — a stand-in for another CPU's rounding — and prints the cloze
accuracy (does it know the facts?) and question accuracy of each, per step count.

    OMP_NUM_THREADS=1 .venv/bin/python -m benchmarks.toy_stability [--base source] [--steps 600 2000]
        [--perturbations 3] [--eps 1e-6]

Needs the toy corpus (`make repro`, or `paw toy build --only corpus`); writes models only to a temporary dir.
Noise seed 0 leaves the weights alone: that run is the base the `toy` stage builds, the baseline of the others.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from tabulate import tabulate

from paw.config import load_params
from paw.toy import architectures as arch, build
from paw.toy.pretrain import pretrain, tokenize_lines

PRETRAINED_FROM_SCRATCH = {"source": arch.source_config, "independent": arch.independent_config}


def perturbed_base(toy, base: str, steps: int, noise_seed: int, eps: float, data_dir: Path, out: Path) -> dict:
    import torch

    tokenizer, lines = build.load_corpus(data_dir)
    seed = build.base_seed(toy, base)
    model = arch.new_model(PRETRAINED_FROM_SCRATCH[base](toy, tokenizer), seed)
    if noise_seed:
        generator = torch.Generator().manual_seed(noise_seed)
        with torch.no_grad():
            for weight in model.parameters():
                weight.mul_(1 + eps * torch.randn(weight.shape, generator=generator))
    result = pretrain(model, tokenize_lines(tokenizer, lines), steps=steps, lr=toy.lr, seq_len=toy.seq_len,
                      batch_size=toy.batch_size, bos=tokenizer.bos_token_id, eos=tokenizer.eos_token_id, seed=seed,
                      log_every=0, name=build.model_name(base))
    arch.save_model(model, tokenizer, out / build.model_name(base))
    return result | build.measure_base(base, out, data_dir)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", choices=sorted(PRETRAINED_FROM_SCRATCH), default="source")
    parser.add_argument("--steps", type=int, nargs="+", default=[600, 2000])
    parser.add_argument("--perturbations", type=int, default=3, help="runs per step count, the first unperturbed")
    parser.add_argument("--eps", type=float, default=1e-6, help="relative size of the weight noise")
    parser.add_argument("--data-dir", type=Path, default=Path("data/toy"))
    args = parser.parse_args()

    import torch

    torch.set_num_threads(1)  # as the toy stage builds: one thread
    toy = load_params().toy
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for steps in args.steps:
            for noise_seed in range(args.perturbations):
                out = Path(tmp) / f"{steps}-{noise_seed}"
                measured = perturbed_base(toy, args.base, steps, noise_seed, args.eps, args.data_dir, out)
                rows.append([steps, noise_seed or "none (the stage's)", measured["final_loss"],
                             measured["cloze_accuracy"], measured["question_accuracy"], measured["seconds"]])
                print(rows[-1], flush=True)
    print(f"\ntoy-{args.base}: pretraining steps against weight noise of relative size {args.eps:g} (chance 0.25)")
    print(tabulate(rows, headers=["steps", "noise seed", "final loss", "cloze accuracy", "question accuracy",
                                  "seconds"], tablefmt="github"))


if __name__ == "__main__":
    main()
