"""Items per second of `paw`'s evaluation against lm-eval 0.4.13 on the same model, rows, dtype and threads.

    OMP_NUM_THREADS=1 python benchmarks/eval_throughput.py            # ~34M Llama-style model, 300 ARC-Challenge rows
    OMP_NUM_THREADS=1 python benchmarks/eval_throughput.py --gemma    # Gemma 3 270M, 100 ARC-Easy rows

Both sides are timed as whole calls (model load + scoring) in this one process, lm-eval first; the figure that
matters is the ratio, which survives a loaded machine better than either rate. The largest per-choice
loglikelihood difference is printed as a check that both scored the same thing.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BENCHMARKS = REPO.parent / "shared" / "benchmarks"


def build_small_llama(out_dir: Path, seed: int = 0) -> Path:
    """A ~34M-parameter Llama-style model with random weights and an 8k BPE trained on ARC training questions."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    from paw.data import get_task

    rows = get_task("arc-challenge").load_rows(split="train", data_path=BENCHMARKS / "arc_challenge")
    rows += get_task("arc-easy").load_rows(split="train", data_path=BENCHMARKS / "arc_easy")
    corpus = [r["question"] + " " + " ".join(r["choices"]["text"]) for r in rows]
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=8192, special_tokens=["<pad>", "<bos>", "<eos>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tokenizer.train_from_iterator(corpus, trainer=trainer)
    tokenizer.post_processor = processors.TemplateProcessing(
        single="<bos> $A", special_tokens=[("<bos>", tokenizer.token_to_id("<bos>"))])
    fast = PreTrainedTokenizerFast(tokenizer_object=tokenizer, bos_token="<bos>", eos_token="<eos>",
                                   pad_token="<pad>")
    fast.save_pretrained(out_dir)
    config = LlamaConfig(vocab_size=len(fast), hidden_size=512, intermediate_size=1408, num_hidden_layers=8,
                         num_attention_heads=8, num_key_value_heads=8, max_position_embeddings=2048,
                         bos_token_id=fast.bos_token_id, eos_token_id=fast.eos_token_id,
                         pad_token_id=fast.pad_token_id, tie_word_embeddings=False)
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config)
    model.save_pretrained(out_dir, safe_serialization=True)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"built {out_dir.name}: {n_params / 1e6:.1f}M parameters, vocab {len(fast)}")
    return out_dir


def compare(model_dir: Path, task: str, folder: str, n_rows: int, batch_size: int, work: Path) -> None:
    from paw.data import get_task
    from paw.evaluation import evaluate
    from paw.evaluation.lm_eval_reference import lm_eval_loglikelihoods
    from paw.io import read_json

    rows = get_task(task).load_rows(data_path=BENCHMARKS / folder)[:n_rows]
    start = time.perf_counter()
    reference, lm_metrics = lm_eval_loglikelihoods(model_dir, task, rows, work / "lm_eval", batch_size=batch_size)
    lm_seconds = time.perf_counter() - start

    data = work / "rows" / "test.jsonl"
    data.parent.mkdir(parents=True, exist_ok=True)
    data.write_text("".join(__import__("json").dumps(r) + "\n" for r in rows))
    start = time.perf_counter()
    metrics = evaluate(model_dir, None, task, work / "paw", data_path=data, batch_size=batch_size, progress=False)
    paw_seconds = time.perf_counter() - start
    ours = [line["ll"] for line in map(__import__("json").loads, (work / "paw" / "predictions.jsonl").open())]
    worst = max(abs(a - b) for x, y in zip(ours, reference) for a, b in zip(x, y))
    read_json(work / "paw" / "metrics.json")

    lm_rate, paw_rate = n_rows / lm_seconds, n_rows / paw_seconds
    print(f"{model_dir.name}, {task}, {n_rows} rows, batch {batch_size}, fp32, threads as OMP_NUM_THREADS")
    print(f"  lm-eval 0.4.13: {lm_seconds:7.1f} s  {lm_rate:7.2f} items/s  acc {lm_metrics['acc,none']:.4f}"
          f"  acc_norm {lm_metrics.get('acc_norm,none', float('nan')):.4f}")
    print(f"  paw evaluate:   {paw_seconds:7.1f} s  {paw_rate:7.2f} items/s  acc {metrics['acc']:.4f}"
          f"  acc_norm {metrics['acc_norm']:.4f}  (scoring alone {metrics['seconds']:.1f} s)")
    print(f"  ratio paw / lm-eval: {paw_rate / lm_rate:.2f}x   max |delta ll| {worst:.2e}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gemma", action="store_true", help="Gemma 3 270M on 100 ARC-Easy rows instead")
    parser.add_argument("--rows", type=int, help="rows to score (default 300, or 100 with --gemma)")
    parser.add_argument("--batch-size", type=int, default=8)
    args = parser.parse_args()

    import torch

    from paw.models import quiet_hf

    quiet_hf()
    print(f"torch threads: {torch.get_num_threads()}")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if args.gemma:
            compare(REPO / "models" / "gemma-3-270m", "arc-easy", "arc_easy", args.rows or 100, args.batch_size, work)
        else:
            model_dir = build_small_llama(work / "llama-34m")
            compare(model_dir, "arc-challenge", "arc_challenge", args.rows or 300, args.batch_size, work)


if __name__ == "__main__":
    main()
