"""Training throughput: `paw.training.train_lora` (Lightning) against a plain PyTorch + PEFT loop, same run.

Both train the same LoRA (r 16, 7 projections) on the same model, batches (answer-only loss), precision and thread
count; tokens/s counts non-padding input tokens. By default the model is a ~20M-parameter Llama-style one built here
offline with made-up question/answer pairs; `--model DIR` takes a real model dir instead, trained on the task's real
training rows (gold answers, cloze prompts, as `paw train` builds them). The plain loop is what one writes with
transformers + PEFT: LoraConfig with the same r/alpha/dropout/targets, the HF model's full logits, cross-entropy on
the answer tokens, AdamW; it reads the same batches as paw (paw's example encoding and seeded batch order), so both
see identical tokens.

Each run is its own fresh process (spawned), so its peak RSS (ru_maxrss: model load, activations, optimizer state,
the libraries each side imports) is that side's alone. Runs alternate (plain, paw, plain, paw …) so that load on a
shared machine hits both alike. The timed window starts after `--warmup` steps and ends with the last. Two rates
per run: tokens per wall-clock second, and tokens per CPU second of that process (with one thread, CPU time is the
compute the loop needed, which other processes on a busy machine do not inflate). Read the ratio of the medians
(target ≥ 0.95); on a loaded machine the CPU-time ratio is the steadier one.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/train_throughput.py [--steps 20] [--rounds 3] [--precision 32]
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/train_throughput.py --model models/qwen2.5-coder-0.5b-instruct \
        --batch-size 4 --warmup 2 --steps 8 --rounds 2      # ARC-Easy training rows by default (--dataset)
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import resource
import statistics
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BENCHMARKS = REPO.parent / "shared" / "benchmarks"

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


def task_pairs(task_name: str, data_path: Path) -> list[tuple[str, str]]:
    """(context, gold continuation) per training row, cloze style: what `paw train` trains on."""
    from paw.data import get_task

    task = get_task(task_name)
    items = [task.to_item(row, i, "cloze") for i, row in enumerate(task.load_rows("train", data_path))]
    return [(item.contexts[item.gold], item.continuations[item.gold]) for item in items]


def plain_loop(model_dir: Path, pairs, setup, warmup: int) -> dict:
    """The loop one would write by hand with transformers + PEFT: full forward with logits everywhere, loss on the
    answer tokens, AdamW."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from paw.training.examples import StepBatches, make_example

    tok = AutoTokenizer.from_pretrained(model_dir)
    if tok.pad_token_id is None:
        tok.pad_token = tok.eos_token  # the usual fix, and paw's: padding is masked out either way
    examples = [make_example(tok, c, a, setup.train.max_length) for c, a in pairs]
    torch.manual_seed(setup.seed)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    lora = setup.lora
    config = LoraConfig(r=lora.r, lora_alpha=lora.alpha, lora_dropout=lora.dropout,
                        target_modules=list(lora.target_modules), bias=lora.bias, task_type="CAUSAL_LM")
    model = get_peft_model(model, config)
    model.train()  # from_pretrained returns eval mode, which would switch LoRA dropout off
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=setup.lr)
    batches = iter(StepBatches(examples, setup.batch_size, setup.seed, tok.pad_token_id))
    autocast = torch.autocast("cpu", dtype=torch.bfloat16, enabled=setup.precision == "bf16-mixed")
    tokens = 0
    for step in range(setup.max_steps):
        if step == warmup:  # the timed window starts; warm-up tokens are not counted
            tokens, started, cpu_started = 0, time.perf_counter(), time.process_time()
        batch = next(batches)
        with autocast:
            logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
        loss = torch.nn.functional.cross_entropy(logits.float().flatten(0, 1), batch["targets"].flatten())
        loss.backward()
        torch.nn.utils.clip_grad_norm_(trainable, setup.train.grad_clip)
        optimizer.step()
        optimizer.zero_grad()
        tokens += int(batch["attention_mask"].sum())
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    frozen = sum(p.numel() for p in model.parameters() if not p.requires_grad)
    return {"tokens": tokens, "wall": wall, "cpu": cpu, "params": frozen, "lora": sum(p.numel() for p in trainable)}


def paw_run(model_dir: Path, pairs, setup, warmup: int, work: Path) -> dict:
    from lightning.pytorch.callbacks import Callback

    from paw.training.run import train_lora

    class Clock(Callback):
        """The plain loop's window: from the first step after the warm-up to the end of the last, CPU included."""

        def on_train_batch_start(self, trainer, module, batch, batch_idx):
            if batch_idx == warmup:
                self.started, self.cpu_started = time.perf_counter(), time.process_time()
                self.tokens_before = module.tokens_seen

        def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx):
            # After the optimizer step; the last call's values are the window's.
            if batch_idx < warmup:
                return
            self.wall, self.cpu = time.perf_counter() - self.started, time.process_time() - self.cpu_started
            self.tokens = module.tokens_seen - self.tokens_before

    clock = Clock()
    train_lora(model_dir, pairs, [], work / "adapter", work / "report", work / "ckpt", setup, extra_callbacks=[clock])
    return {"tokens": clock.tokens, "wall": clock.wall, "cpu": clock.cpu}


def one_side(side: str, model_dir: Path, pairs, setup, warmup: int, threads: int, work: Path) -> dict:
    """One run in this (fresh) process, with its peak RSS in MiB (Linux reports ru_maxrss in KiB)."""
    import torch

    from paw.models import quiet_hf

    quiet_hf()
    torch.set_num_threads(threads)
    result = plain_loop(model_dir, pairs, setup, warmup) if side == "plain" else paw_run(
        model_dir, pairs, setup, warmup, work)
    return result | {"peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def in_child(*args) -> dict:
    """`one_side` in a spawned process of its own: nothing of a previous run (or of this one) stays resident."""
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(one_side, *args).result()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="a real model dir instead of the built one (real training rows)")
    parser.add_argument("--dataset", default="arc-easy", help="task whose train split --model trains on")
    parser.add_argument("--data-path", type=Path,
                        help=f"rows of --dataset (default {BENCHMARKS}/<dataset with _ for ->)")
    parser.add_argument("--steps", type=int, default=20, help="timed steps")
    parser.add_argument("--warmup", type=int, default=0, help="steps run before the timed ones")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--hidden", type=int, default=512)
    parser.add_argument("--layers", type=int, default=6)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--precision", default="32", choices=("32", "bf16-mixed"))
    parser.add_argument("--threads", type=int, default=int(os.environ.get("OMP_NUM_THREADS", "1")))
    args = parser.parse_args()

    from paw.training.params import LoraParams, TrainParams
    from paw.training.run import TrainSetup

    # Built model: short made-up sequences, cut at 128 tokens; a real model: paw's own max_length (nothing cut).
    max_length = 128 if args.model is None else TrainParams().max_length
    setup = TrainSetup(
        train=TrainParams(log_every_n_steps=10**6, checkpoint_every_n_steps=10**6, max_length=max_length),
        lora=LoraParams(r=16, alpha=32.0, dropout=0.1), lr=1.0e-4, batch_size=args.batch_size,
        max_steps=args.warmup + args.steps, precision=args.precision,
    )  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        if args.model is None:
            model_dir = build_model(Path(tmp) / f"llama-h{args.hidden}-l{args.layers}", args.hidden, args.layers)
            pairs, data = make_pairs(), "made-up"
        else:
            data_path = args.data_path or BENCHMARKS / args.dataset.replace("-", "_")
            model_dir, pairs = args.model.resolve(), task_pairs(args.dataset, data_path)
            data = f"{args.dataset} train-row"
        plain, paw = [], []
        for round_ in range(args.rounds):
            common = (model_dir, pairs, setup, args.warmup, args.threads)
            plain.append(in_child("plain", *common, Path(tmp) / f"plain{round_}"))
            paw.append(in_child("paw", *common, Path(tmp) / f"paw{round_}"))
    print(f"model {model_dir.name} ({plain[0]['params'] / 1e6:.1f}M params, LoRA {plain[0]['lora'] / 1e6:.2f}M), "
          f"{len(pairs)} {data} pairs, batch {args.batch_size}, {args.steps} timed steps after {args.warmup} "
          f"warm-up, precision {args.precision}, {args.threads} thread(s), {args.rounds} alternating rounds, "
          f"each run its own process")  # fmt: skip
    for clock, key in (("wall-clock", "wall"), ("CPU", "cpu")):
        plain_rates, paw_rates = [r["tokens"] / r[key] for r in plain], [r["tokens"] / r[key] for r in paw]
        ratio = statistics.median(paw_rates) / statistics.median(plain_rates)
        print(f"tokens per {clock} second — plain PyTorch + PEFT: {', '.join(f'{x:,.0f}' for x in plain_rates)}; "
              f"paw (Lightning): {', '.join(f'{x:,.0f}' for x in paw_rates)}; "
              f"ratio of medians {ratio:.3f} (target >= 0.95)")  # fmt: skip
    plain_rss, paw_rss = [r["peak_rss_mb"] for r in plain], [r["peak_rss_mb"] for r in paw]
    print(f"peak RSS per process, MiB — plain PyTorch + PEFT: {', '.join(f'{x:,.0f}' for x in plain_rss)}; "
          f"paw (Lightning): {', '.join(f'{x:,.0f}' for x in paw_rss)}; "
          f"ratio of medians paw / plain {statistics.median(paw_rss) / statistics.median(plain_rss):.3f}")


if __name__ == "__main__":
    main()
