"""Training throughput: `paw.training.train_lora` (Lightning) against a plain PyTorch + PEFT loop, same run.

Both train the same LoRA (r 16, 7 projections) on the same ~20M-parameter Llama-style model built here offline,
on the same batches (answer-only loss), precision and thread count; tokens/s counts non-padding input tokens.
Runs alternate (plain, paw, plain, paw …) so that load on a shared machine hits both alike. Two figures per
run: tokens per wall-clock second, and tokens per CPU second of this process (with one thread, CPU time is the
compute the loop needed, which other processes on a busy machine do not inflate). Read the ratio of the medians
(target ≥ 0.95); on a loaded machine the CPU-time ratio is the steadier one.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/train_throughput.py [--steps 20] [--rounds 3] [--precision 32]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
from pathlib import Path

WORDS = (
    "the a of to in on and or is are was red blue green old new cold warm river mountain forest city stone water "
    "fire wind light tree bird fish horse apple bread milk salt iron gold run walk swim grow fall open close what "
    "which where question answer because energy plant animal earth sun"
).split()


def build_model(out: Path, hidden: int, layers: int, vocab: int = 1000) -> Path:
    """A randomly initialised Llama-style model with its own byte-level BPE tokenizer, saved as safetensors."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import AutoModelForCausalLM, LlamaConfig, PreTrainedTokenizerFast

    rng = random.Random(0)
    corpus = [" ".join(rng.choice(WORDS) for _ in range(12)) for _ in range(2000)]
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab, special_tokens=["<pad>", "<bos>", "<eos>"], show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())  # fmt: skip
    tok.train_from_iterator(corpus, trainer=trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<bos>", eos_token="<eos>", pad_token="<pad>")
    fast.save_pretrained(out)
    config = LlamaConfig(
        vocab_size=len(fast), hidden_size=hidden, intermediate_size=hidden * 8 // 3, num_hidden_layers=layers,
        num_attention_heads=hidden // 64, num_key_value_heads=hidden // 64, max_position_embeddings=512,
        bos_token_id=fast.bos_token_id, eos_token_id=fast.eos_token_id, pad_token_id=fast.pad_token_id,
        tie_word_embeddings=False,
    )  # fmt: skip
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(config)
    model.save_pretrained(out, safe_serialization=True)
    return out


def make_pairs(n: int = 256) -> list[tuple[str, str]]:
    rng = random.Random(1)
    pairs = []
    for _ in range(n):
        question = " ".join(rng.choice(WORDS) for _ in range(rng.randint(30, 50)))
        pairs.append((f"Question: {question}?\nAnswer:", " " + " ".join(rng.choice(WORDS) for _ in range(3))))
    return pairs


def plain_loop(model_dir: Path, pairs, setup) -> tuple[float, float]:
    """The loop one would write by hand: full forward with logits everywhere, loss on answer tokens, AdamW."""
    import torch

    from paw.models import load_model, load_tokenizer
    from paw.training.examples import StepBatches, make_example
    from paw.training.lora import add_lora

    tok = load_tokenizer(model_dir)
    examples = [make_example(tok, c, a, setup.train.max_length) for c, a in pairs]
    torch.manual_seed(setup.seed)
    model, _ = add_lora(load_model(model_dir), setup.lora)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=setup.lr)
    batches = iter(StepBatches(examples, setup.batch_size, setup.seed, tok.pad_token_id))
    autocast = torch.autocast("cpu", dtype=torch.bfloat16, enabled=setup.precision == "bf16-mixed")
    tokens, started, cpu_started = 0, time.perf_counter(), time.process_time()
    for _ in range(setup.max_steps):
        batch = next(batches)
        with autocast:
            logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
        loss = torch.nn.functional.cross_entropy(logits.float().flatten(0, 1), batch["targets"].flatten())
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), setup.train.grad_clip)
        optimizer.step()
        optimizer.zero_grad()
        tokens += int(batch["attention_mask"].sum())
    return tokens / (time.perf_counter() - started), tokens / (time.process_time() - cpu_started)


def paw_run(model_dir: Path, pairs, setup, work: Path) -> tuple[float, float]:
    from lightning.pytorch.callbacks import Callback

    from paw.io import remove_path
    from paw.training import train_lora

    class Clock(Callback):
        """The same window as the plain loop's: first step to last, CPU time included."""

        def on_train_start(self, trainer, module):
            self.started, self.cpu_started = time.perf_counter(), time.process_time()

        def on_train_end(self, trainer, module):
            self.wall, self.cpu = time.perf_counter() - self.started, time.process_time() - self.cpu_started
            self.tokens = module.tokens_seen

    clock = Clock()
    remove_path(work)
    train_lora(model_dir, pairs, [], work / "adapter", work / "report", work / "ckpt", setup, extra_callbacks=[clock])
    return clock.tokens / clock.wall, clock.tokens / clock.cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--hidden", type=int, default=512)
    parser.add_argument("--layers", type=int, default=6)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--precision", default="32", choices=("32", "bf16-mixed"))
    parser.add_argument("--threads", type=int, default=int(os.environ.get("OMP_NUM_THREADS", "1")))
    args = parser.parse_args()

    import torch

    from paw.models import load_model, quiet_hf
    from paw.training import TrainSetup
    from paw.training.params import LoraParams, TrainParams

    quiet_hf()
    torch.set_num_threads(args.threads)
    setup = TrainSetup(
        train=TrainParams(log_every_n_steps=10**6, checkpoint_every_n_steps=10**6, max_length=128),
        lora=LoraParams(r=16, alpha=32.0, dropout=0.1), lr=1.0e-4, batch_size=args.batch_size,
        max_steps=args.steps, precision=args.precision,
    )  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        model_dir = build_model(Path(tmp) / "model", args.hidden, args.layers)
        n_params = sum(p.numel() for p in load_model(model_dir).parameters())
        pairs = make_pairs()
        plain, paw = [], []
        for _ in range(args.rounds):
            plain.append(plain_loop(model_dir, pairs, setup))
            paw.append(paw_run(model_dir, pairs, setup, Path(tmp) / "run"))
    print(f"model {n_params / 1e6:.1f}M params, batch {args.batch_size}, {args.steps} steps, precision "
          f"{args.precision}, {args.threads} thread(s), {args.rounds} alternating rounds")  # fmt: skip
    for index, clock in enumerate(("wall-clock", "CPU")):
        plain_rates, paw_rates = [r[index] for r in plain], [r[index] for r in paw]
        ratio = statistics.median(paw_rates) / statistics.median(plain_rates)
        print(f"tokens per {clock} second — plain PyTorch + PEFT: {', '.join(f'{x:,.0f}' for x in plain_rates)}; "
              f"paw (Lightning): {', '.join(f'{x:,.0f}' for x in paw_rates)}; "
              f"ratio of medians {ratio:.3f} (target >= 0.95)")  # fmt: skip


if __name__ == "__main__":
    main()
