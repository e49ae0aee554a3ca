"""Build the toy world: data (questions + corpus + tokenizer) and the four toy bases, deterministically.

`build_world` does everything and writes `<data_dir>/world.json` (sizes, each base's cloze accuracy) and returns
the same summary with the seconds each step took.
The finer steps are public too (`paw toy build --only …` runs one): `build_corpus` first, then
`build_base("source")`, then the others (`sibling` and `grown` start from the saved source; `independent` needs
only the corpus).
Every output is written atomically; the same seed gives byte-identical files.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING

from paw.errors import PawError
from paw.io import atomic_dir, atomic_file, write_json
from paw.models import load_model, load_tokenizer, quiet_hf
from paw.toy import architectures as arch, world as toy_world
from paw.toy.cloze import choice_accuracy
from paw.toy.grow import grow_model, growth_record
from paw.toy.pretrain import pretrain, tokenize_lines
from paw.toy.tokenizer import train_tokenizer

if TYPE_CHECKING:
    from paw.toy.params import ToyParams

BASES = ("source", "sibling", "grown", "independent")
SPLITS = ("train", "validation", "test")
CORPUS_FILE = "corpus.txt"
TOKENIZER_DIR = "tokenizer"
GROWTH_FILE = "growth.json"


def model_name(base: str) -> str:
    return f"toy-{base}"


def base_seed(toy: ToyParams, base: str) -> int:
    """The seed of one base's initial weights and batch order: each base its own, all from `toy.seed`."""
    return 1000 * toy.seed + 1 + BASES.index(base)


def build_corpus(toy: ToyParams, data_dir: str | Path = "data/toy") -> dict:
    """Write the questions (<split>.jsonl), the pretraining corpus and the shared tokenizer; return their sizes."""
    data_dir = Path(data_dir)
    world = toy_world.generate_world(toy)
    lines = toy_world.corpus_lines(world, toy)
    tokenizer = train_tokenizer(lines)
    sizes = {}
    data_dir.mkdir(parents=True, exist_ok=True)
    for split in SPLITS:
        rows = toy_world.question_rows(world, split, toy)
        with atomic_file(data_dir / f"{split}.jsonl") as handle:
            handle.writelines(json.dumps(row) + "\n" for row in rows)
        sizes[f"{split}_questions"] = len(rows)
    with atomic_file(data_dir / CORPUS_FILE) as handle:
        handle.writelines(line + "\n" for line in lines)
    with atomic_dir(data_dir / TOKENIZER_DIR) as tmp:
        tokenizer.save_pretrained(tmp)
    n_tokens = sum(len(ids) + 1 for ids in tokenizer(lines, add_special_tokens=False)["input_ids"])
    return {
        "entities": len(world.entities),
        "facts": len(world.facts),
        "corpus_lines": len(lines),
        "corpus_tokens": n_tokens,
        "vocab_size": len(tokenizer),
        **sizes,
    }


def load_corpus(data_dir: Path):
    """(tokenizer, corpus lines) of a built corpus: what every base is pretrained on."""
    from transformers import AutoTokenizer

    quiet_hf()
    if not (data_dir / CORPUS_FILE).is_file() or not (data_dir / TOKENIZER_DIR).is_dir():
        raise PawError(
            f"{data_dir}: toy corpus not found — expected {CORPUS_FILE} and {TOKENIZER_DIR}/ (build the corpus first)"
        )
    tokenizer = AutoTokenizer.from_pretrained(data_dir / TOKENIZER_DIR)
    lines = (data_dir / CORPUS_FILE).read_text().splitlines()
    return tokenizer, lines


def build_base(base: str, toy: ToyParams, models_dir: str | Path = "models", data_dir: str | Path = "data/toy") -> dict:
    """Pretrain one toy base and save it as `<models_dir>/toy-<base>`; returns steps, loss and seconds."""
    import torch

    if base not in BASES:
        raise PawError(f"toy base {base!r} — expected one of {', '.join(BASES)}")
    torch.set_num_threads(1)  # tiny models: one thread is fastest, and several processes share the CPU
    models_dir, data_dir = Path(models_dir), Path(data_dir)
    tokenizer, lines = load_corpus(data_dir)
    ids = tokenize_lines(tokenizer, lines)
    seed = base_seed(toy, base)
    train = dict(
        lr=toy.lr, seq_len=toy.seq_len, batch_size=toy.batch_size, bos=tokenizer.bos_token_id,
        eos=tokenizer.eos_token_id, seed=seed, name=model_name(base),
    )
    extra_files: dict[str, dict] = {}
    if base == "source":
        model = arch.new_model(arch.source_config(toy, tokenizer), seed)
        result = pretrain(model, ids, steps=toy.source_steps, **train)
    elif base == "independent":
        model = arch.new_model(arch.independent_config(toy, tokenizer), seed)
        result = pretrain(model, ids, steps=toy.independent_steps, **train)
    else:
        source = load_model(_existing_base(models_dir, "source"), cache=False)
        train["lr"] = toy.drift_lr  # further training, not a restart: the full lr would wreck what the source knows
        if base == "sibling":  # the same model trained further on a new order of the corpus: an "upgrade"
            model = source
            result = pretrain(model, ids, steps=toy.sibling_steps, **train)
        else:
            config = arch.grown_config(toy, tokenizer)
            model = grow_model(source, config, seed)
            extra_files[GROWTH_FILE] = growth_record(source.config, config) | {"drift_steps": toy.grown_steps}
            result = pretrain(model, ids, steps=toy.grown_steps, **train) if toy.grown_steps else {"steps": 0}
    with atomic_dir(models_dir / model_name(base)) as tmp:
        arch.save_model(model, tokenizer, tmp)
        for name, content in extra_files.items():
            write_json(tmp / name, content)
    result["parameters"] = sum(p.numel() for p in model.parameters())
    return result


def _existing_base(models_dir: Path, base: str) -> Path:
    path = models_dir / model_name(base)
    if not (path / "model.safetensors").is_file():
        raise PawError(f"{path}: toy base not found — build toy-{base} first (paw toy build)")
    return path


def measure_base(base: str, models_dir: str | Path = "models", data_dir: str | Path = "data/toy") -> dict:
    """Cloze accuracy on the test facts in corpus phrasing, and accuracy on the test questions (chance 0.25)."""
    data_dir = Path(data_dir)
    model_dir = _existing_base(Path(models_dir), base)
    model, tokenizer = load_model(model_dir), load_tokenizer(model_dir)
    rows = [json.loads(line) for line in (data_dir / "test.jsonl").read_text().splitlines()]
    facts, questions = [], []
    for row in rows:
        _, entity, attribute = row["id"].split("-", 2)
        gold = row["choices"]["label"].index(row["answerKey"])
        context, _ = toy_world.cloze_probe(toy_world.Fact(entity, attribute, row["choices"]["text"][gold]))
        facts.append((context, row["choices"]["text"], gold))
        questions.append((f"Question: {row['question']}\nAnswer:", row["choices"]["text"], gold))
    return {
        "cloze_accuracy": round(choice_accuracy(model, tokenizer, facts), 4),
        "question_accuracy": round(choice_accuracy(model, tokenizer, questions), 4),
    }


def build_world(toy: ToyParams, models_dir: str | Path = "models", data_dir: str | Path = "data/toy") -> dict:
    """Everything: data, the four bases, and `<data_dir>/world.json` summarising them. Returns the summary."""
    start = time.perf_counter()
    summary: dict = {"seed": toy.seed, "chance": 0.25}
    t0 = time.perf_counter()
    summary["data"] = build_corpus(toy, data_dir)
    summary["data"]["seconds"] = round(time.perf_counter() - t0, 1)
    summary["bases"] = {}
    for base in BASES:
        t0 = time.perf_counter()
        info = build_base(base, toy, models_dir, data_dir)
        info.update(measure_base(base, models_dir, data_dir))
        info["seconds"] = round(time.perf_counter() - t0, 1)
        summary["bases"][model_name(base)] = info
        print(f"{model_name(base)}: {info}")
    summary["seconds"] = round(time.perf_counter() - start, 1)
    # world.json is part of the data (a DVC output others depend on): keep it byte-stable, without timings.
    write_json(Path(data_dir) / "world.json", _without_timings(summary))
    return summary


def _without_timings(value):
    if isinstance(value, dict):
        return {k: _without_timings(v) for k, v in value.items() if k != "seconds"}
    return value
