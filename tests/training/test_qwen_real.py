"""A few LoRA steps on the real Qwen2.5-Coder-0.5B-Instruct lower its loss on real ARC-Easy answers: slow."""

from __future__ import annotations

import pytest
import torch


@pytest.mark.slow
def test_a_few_steps_lower_the_loss_on_real_questions(qwen05_dir, benchmarks_dir, tmp_path):
    from peft import PeftModel

    from paw.data import get_task
    from paw.models import load_model, load_tokenizer
    from paw.training.run import TrainSetup, train_lora
    from paw.training.examples import choice_sequences, collate_choices
    from paw.training.lora import sequence_logprobs
    from paw.training.params import LoraParams, TrainParams

    task = get_task("arc-easy")
    rows = task.load_rows("train", benchmarks_dir / "arc_easy")[:4]
    items = [task.to_item(row, i, "cloze") for i, row in enumerate(rows)]
    pairs = [(item.contexts[item.gold], item.continuations[item.gold]) for item in items]
    tokenizer = load_tokenizer(qwen05_dir)
    batch = collate_choices(choice_sequences(tokenizer, items, 96), tokenizer.pad_token_id)
    gold = batch["gold"]

    def gold_loss(model) -> float:
        with torch.no_grad():
            sums, counts = sequence_logprobs(model.eval(), batch)
        return float(-sums[gold].sum() / counts[gold].sum())

    before = gold_loss(load_model(qwen05_dir))
    setup = TrainSetup(
        train=TrainParams(max_length=96, val_every_n_steps=100, log_every_n_steps=1, warmup_ratio=0.0),
        lora=LoraParams(r=4, alpha=8.0, dropout=0.0, target_modules=("q_proj", "v_proj")), lr=1.0e-3, batch_size=2,
        max_steps=4,
    )  # fmt: skip
    train_lora(qwen05_dir, pairs, items[:2], tmp_path / "adapter", tmp_path / "rep", tmp_path / "ckpt", setup)
    after = gold_loss(PeftModel.from_pretrained(load_model(qwen05_dir), str(tmp_path / "adapter")))
    assert after < before - 0.1, (before, after)
