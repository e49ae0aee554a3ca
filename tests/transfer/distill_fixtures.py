"""Small multiple-choice rows (ARC schema, words the tiny tokenizers know) and a fast distillation setup."""

from __future__ import annotations

import json
import random
from pathlib import Path

from tests.tiny_models import WORDS

NOUNS = ("river", "mountain", "forest", "city", "stone", "water", "fire", "wind", "tree", "bird", "fish", "horse")
COLOURS = ("red", "blue", "green", "yellow", "black", "white")


def arc_rows(n: int, seed: int = 0, labels: str = "ABCD") -> list[dict]:
    """n questions with four choices each; answerKey set by a seeded draw (the distillation must never read it)."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        noun = NOUNS[i % len(NOUNS)]
        choices = rng.sample(COLOURS, 4)
        rows.append({"id": f"q{i}", "question": f"what colour is the {noun} {rng.choice(WORDS)}?",
                     "choices": {"text": choices, "label": list(labels)}, "answerKey": rng.choice(labels)})
    return rows


def permuted_labels(rows: list[dict], seed: int = 1) -> list[dict]:
    """The same rows with every answerKey moved to another label."""
    out = []
    for row in rows:
        labels = row["choices"]["label"]
        out.append({**row, "answerKey": labels[(labels.index(row["answerKey"]) + 1 + seed) % len(labels)]})
    return out


def write_rows(path: Path, rows: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def items(rows: list[dict]):
    from paw.data import get_task

    task = get_task("arc-easy")
    return [task.to_item(row, i, "cloze") for i, row in enumerate(rows)]


def distill_setup(max_steps: int = 6, lr: float = 2.0e-2, **changes):
    from paw.training.run import TrainSetup
    from paw.training.params import LoraParams, TrainParams

    return TrainSetup(
        train=TrainParams(log_every_n_steps=5, checkpoint_every_n_steps=3, warmup_ratio=0.0, schedule="constant"),
        lora=LoraParams(r=4, alpha=8.0, dropout=0.0), lr=lr, batch_size=4, max_steps=max_steps,
    ).replace(**changes)
