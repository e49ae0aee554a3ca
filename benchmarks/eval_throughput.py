"""Items per second of `paw`'s evaluation against lm-eval 0.4.13 on the same model, rows, dtype and threads.

    OMP_NUM_THREADS=1 python benchmarks/eval_throughput.py            # ~34M Llama-style model, 300 ARC-Challenge rows
    OMP_NUM_THREADS=1 python benchmarks/eval_throughput.py --gemma    # Gemma 3 270M, 100 ARC-Easy rows
    OMP_NUM_THREADS=1 python benchmarks/eval_throughput.py --model models/qwen2.5-coder-0.5b-instruct \
        --dataset arc-easy --rows 100 --dtypes float32,bfloat16      # any model dir; bf16 beside fp32
    ... --rounds 3                                                   # alternate the sides; report the median ratio

Both sides are timed as whole calls (model load + scoring) in this one process, lm-eval first, once per dtype and
round; the figure that matters is the ratio, which survives a loaded machine better than either rate. A shared
machine's arithmetic rate can drift by 2x within minutes (measured on the 2-core one this was written on), so
rounds alternate the sides and the median ratio is quoted. CPU seconds of this process are printed too: with one
thread they are the work done, which other processes do not inflate. The largest per-choice loglikelihood
difference is printed as a check that both scored the same thing.

Decoder tokens: every position either side feeds the model's token embedding (padding included), counted by a
hook, against the layouts without padding — one row per choice, one trie per question, paw's packed rows — and the
unique-prefix minimum: the size of the token trie of all requests' model inputs, the fewest positions any scorer of
these requests could run (each distinct prefix once).

Work in multiply-adds, from those counts and the model's shapes: a decoder position costs the decoder's weights
(embeddings excluded; attention scores are small at these lengths and left out), an output-head position costs
vocabulary × width. lm-eval runs the head at every fed position; the least any identical scorer can do is the
unique-prefix minimum through the decoder and the head at each distinct scored prefix. Their quotient is the
ceiling of any speed-up at equal arithmetic rate — what packing and a scored-only head can buy at most (paw's last
layer runs its MLP at scored positions only, a few per cent below that minimum: see paw.evaluation.last_layer).
"""

from __future__ import annotations

import argparse
import gc
import json
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
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


class FedTokens:
    """Positions fed to any token embedding while active: a global hook, so it sees the model each library loads
    itself (the decoder runs once per embedded position; a scorer's output head is a Linear, not counted)."""

    def __enter__(self) -> "FedTokens":
        import torch

        self.count = 0

        def hook(module, args):
            if isinstance(module, torch.nn.Embedding):
                self.count += args[0].numel()

        self.handle = torch.nn.modules.module.register_module_forward_pre_hook(hook)
        return self

    def __exit__(self, *exc) -> None:
        self.handle.remove()


@contextmanager
def scorer_modes(modes: list[bool]):
    """Appends, per `Scorer.score` call, whether paw's scorer kept shared contexts: it falls back to one row per
    choice when its check of the packed layout against plain rows fails, and the figures then measure that."""
    from paw.evaluation.scorer import Scorer

    score = Scorer.score

    def recording(self, *args, **kwargs):
        try:
            return score(self, *args, **kwargs)
        finally:
            modes.append(self.share_context)

    Scorer.score = recording
    try:
        yield
    finally:
        Scorer.score = score


@dataclass
class Side:
    """One whole call of one library at one dtype."""

    wall: float
    cpu: float
    fed: int  # decoder positions, padding included
    lls: list[list[float]]
    acc: float
    acc_norm: float
    packed: bool | None = None  # paw only: shared contexts kept
    scoring: float | None = None  # paw only: wall seconds of scoring alone (its metrics.json), load excluded


def timed(call) -> tuple[object, float, float, int]:
    gc.collect()  # the previous run's model is garbage by now: free it before this one loads its own
    with FedTokens() as fed:
        start, cpu_start = time.perf_counter(), time.process_time()
        out = call()
        wall, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    return out, wall, cpu, fed.count


def run_lm_eval(model_dir: Path, task: str, rows: list[dict], work: Path, batch_size: int, dtype: str) -> Side:
    from paw.evaluation.lm_eval_reference import lm_eval_loglikelihoods

    (lls, metrics), wall, cpu, fed = timed(lambda: lm_eval_loglikelihoods(
        model_dir, task, rows, work / f"lm_eval-{dtype}", batch_size=batch_size, dtype=dtype))
    return Side(wall, cpu, fed, lls, metrics["acc,none"], metrics.get("acc_norm,none", float("nan")))


def run_paw(model_dir: Path, task: str, data: Path, work: Path, batch_size: int, dtype: str) -> Side:
    from paw.evaluation.engine import evaluate

    out, modes = work / f"paw-{dtype}", []
    with scorer_modes(modes):
        metrics, wall, cpu, fed = timed(lambda: evaluate(model_dir, None, task, out, data_path=data,
                                                         batch_size=batch_size, dtype=dtype, progress=False))
    lls = [line["ll"] for line in map(json.loads, (out / "predictions.jsonl").open())]
    return Side(wall, cpu, fed, lls, metrics["acc"], metrics["acc_norm"], all(modes),
                metrics["seconds"])


def trie_size(sequences) -> int:
    """Distinct non-empty prefixes of the sequences: the nodes of their token trie, root excluded."""
    root: dict = {}
    nodes = 0
    for sequence in sequences:
        node = root
        for token in sequence:
            if token not in node:
                node[token] = {}
                nodes += 1
            node = node[token]
    return nodes


def scored_prefixes(requests) -> int:
    """Distinct prefixes whose next token is scored: the fewest output-head positions of an identical scorer."""
    return len({tuple(r.input_ids[:i + 1]) for r in requests
                for i in range(len(r.input_ids) - r.n_scored, len(r.input_ids))})


@dataclass
class Layout:
    per_choice: int  # tokens, one row per choice
    tries: int  # tokens, one trie per question
    packed: int  # tokens, paw's packed rows (several questions a row, each row one trie)
    minimum: int  # tokens, the unique-prefix minimum
    head_minimum: int  # distinct scored prefixes


def layout_tokens(model_dir: Path, task: str, data: Path) -> Layout:
    """Token counts without padding, from paw's own requests and packing (paw.packing, with the scorer's row
    length and a CPU's rows per batch)."""
    from transformers import AutoConfig

    from paw.evaluation.engine import CPU_BATCH_TOKENS, load_eval_set
    from paw.evaluation.scorer import ROW_TOKENS, numbered
    from paw.packing import item_tree, pack_questions
    from paw.evaluation.requests import build_requests, resolve_max_length
    from paw.models import load_tokenizer

    tokenizer = load_tokenizer(model_dir)
    max_length = resolve_max_length(AutoConfig.from_pretrained(model_dir), tokenizer)
    grouped = build_requests(tokenizer, load_eval_set(task, data_path=data).items, max_length)
    requests = [r for group in grouped for r in group]
    inputs = [r.input_ids for r in requests]
    tries = sum(len(item_tree(g, 0)) for g in grouped)
    packed = sum(map(len, pack_questions(numbered(grouped), ROW_TOKENS,
                                         rows_multiple=CPU_BATCH_TOKENS // ROW_TOKENS)))
    return Layout(sum(map(len, inputs)), tries, packed, trie_size(inputs), scored_prefixes(requests))


def model_shapes(model_dir: Path) -> tuple[int, int]:
    """(decoder weights per position, output-head weights per position): multiply-adds, from the config alone
    (the model is built on the meta device, so nothing is allocated)."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    config = AutoConfig.from_pretrained(model_dir)
    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(config)
    embeddings = {id(p) for p in model.get_input_embeddings().parameters()}
    head = model.get_output_embeddings().weight
    embeddings.add(id(head))
    decoder = sum(p.numel() for p in model.parameters() if id(p) not in embeddings)
    return decoder, head.numel()


def max_delta(a: list[list[float]], b: list[list[float]]) -> float:
    return max(abs(x - y) for p, q in zip(a, b, strict=True) for x, y in zip(p, q, strict=True))


def compare(model_dir: Path, task: str, data_dir: Path, n_rows: int, batch_size: int, work: Path,
            dtypes: list[str], rounds: int = 1) -> None:
    import statistics

    import torch

    from paw.data import get_task

    rows = get_task(task).load_rows(data_path=data_dir)[:n_rows]
    data = work / "rows" / "test.jsonl"
    data.parent.mkdir(parents=True, exist_ok=True)
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    results: dict[str, list[tuple[Side, Side]]] = {dtype: [] for dtype in dtypes}
    for round_ in range(rounds):  # alternating: a machine whose speed drifts slows both sides of a round alike
        out = work / f"round{round_}"
        out.mkdir()
        for dtype in dtypes:
            results[dtype].append((run_lm_eval(model_dir, task, rows, out, batch_size, dtype),
                                   run_paw(model_dir, task, data, out, batch_size, dtype)))

    print(f"{model_dir.name}, {task}, {n_rows} rows, batch {batch_size}, {torch.get_num_threads()} thread(s), "
          f"CPU {torch.backends.cpu.get_cpu_capability()}, native bf16 "
          f"{'yes' if torch.ops.mkldnn._is_mkldnn_bf16_supported() else 'no'}")
    mode_note = {None: "", True: ", shared contexts", False: ", FELL BACK to one row per choice"}
    for dtype, pairs in results.items():
        print(f"{dtype}  (wall s, CPU s, items/s by wall, decoder tokens fed incl. padding)")
        for round_, (lm, paw) in enumerate(pairs, start=1):
            for name, side in ((f"lm-eval 0.4.13 #{round_}", lm), (f"paw evaluate #{round_}", paw)):
                alone = ("" if side.scoring is None
                         else f"  (scoring alone {side.scoring:.1f} s{mode_note[side.packed]})")
                print(f"  {name:18} {side.wall:7.1f} s {side.cpu:7.1f} s  {n_rows / side.wall:6.2f} items/s  "
                      f"acc {side.acc:.4f}  acc_norm {side.acc_norm:.4f}  fed {side.fed:,}{alone}")
            same = (lm.acc, lm.acc_norm) == (paw.acc, paw.acc_norm)
            print(f"  ratio paw / lm-eval #{round_}: {lm.wall / paw.wall:.2f}x wall, {lm.cpu / paw.cpu:.2f}x CPU   "
                  f"max |delta ll| {max_delta(paw.lls, lm.lls):.2e}   "
                  f"acc/acc_norm identical: {'yes' if same else 'NO'}")
        if len(pairs) > 1:
            walls = [lm.wall / paw.wall for lm, paw in pairs]
            print(f"  median ratio over {len(pairs)} alternating rounds: {statistics.median(walls):.2f}x wall "
                  f"(range {min(walls):.2f}-{max(walls):.2f}x)")
    if "float32" in results:
        for dtype, pairs in results.items():
            if dtype != "float32":
                (lm, paw), (lm32, paw32) = pairs[0], results["float32"][0]
                print(f"{dtype} vs float32: max |delta ll| lm-eval {max_delta(lm.lls, lm32.lls):.2e}, "
                      f"paw {max_delta(paw.lls, paw32.lls):.2e}")
    layout = layout_tokens(model_dir, task, data)
    print(f"decoder tokens without padding: one row per choice {layout.per_choice:,}, one trie per question "
          f"{layout.tries:,}, paw's packed rows {layout.packed:,}, unique-prefix minimum {layout.minimum:,} "
          f"(packed / minimum "
          f"{layout.packed / layout.minimum:.3f}, per choice / minimum {layout.per_choice / layout.minimum:.3f})")
    decoder, head = model_shapes(model_dir)
    lm_fed = next(iter(results.values()))[0][0].fed
    lm_work = lm_fed * (decoder + head)
    least = layout.minimum * decoder + layout.head_minimum * head
    print(f"work in multiply-adds (decoder {decoder / 1e6:.0f}M and head {head / 1e6:.0f}M per position): "
          f"lm-eval {lm_work / 1e12:.2f}T ({lm_fed:,} positions through both), least for identical scores "
          f"{least / 1e12:.2f}T ({layout.minimum:,} decoder + {layout.head_minimum:,} head positions): "
          f"ceiling of any speed-up at lm-eval's arithmetic rate {lm_work / least:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gemma", action="store_true", help="Gemma 3 270M on 100 ARC-Easy rows instead")
    parser.add_argument("--model", type=Path, help="any model dir (HF safetensors) instead of the built model")
    parser.add_argument("--dataset", default="arc-easy", help="task of --model (default arc-easy)")
    parser.add_argument("--data-path", type=Path,
                        help=f"rows of --dataset (default {BENCHMARKS}/<dataset with _ for ->)")
    parser.add_argument("--rows", type=int, help="rows to score (default 300, or 100 with --gemma or --model)")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=1,
                        help="alternating lm-eval / paw rounds (the median ratio resists a machine whose speed drifts)")
    parser.add_argument("--dtypes", default="float32", help="comma-separated, each run on both sides, e.g. "
                        "float32,bfloat16 (bf16 is compared with fp32 when both are given)")
    args = parser.parse_args()
    dtypes = [d.strip() for d in args.dtypes.split(",") if d.strip()]

    import torch

    from paw.models import quiet_hf

    quiet_hf()
    print(f"torch threads: {torch.get_num_threads()}")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if args.model is not None:
            data_dir = args.data_path or BENCHMARKS / args.dataset.replace("-", "_")
            compare(args.model.resolve(), args.dataset, data_dir, args.rows or 100, args.batch_size, work, dtypes,
                    args.rounds)
        elif args.gemma:
            compare(REPO / "models" / "gemma-3-270m", "arc-easy", BENCHMARKS / "arc_easy", args.rows or 100,
                    args.batch_size, work, dtypes, args.rounds)
        else:
            model_dir = build_small_llama(work / "llama-34m")
            compare(model_dir, "arc-challenge", BENCHMARKS / "arc_challenge", args.rows or 300, args.batch_size,
                    work, dtypes, args.rounds)


if __name__ == "__main__":
    main()
