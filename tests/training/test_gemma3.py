"""The real Gemma 3 270M (262k-token vocabulary): answer-only scoring equals the model's own forward, and a short
LoRA run writes an adapter PEFT reloads to the same validation loss."""

from __future__ import annotations

import json

import pytest
import torch

from tests.training.conftest import synthetic_items, synthetic_pairs


@pytest.mark.slow
def test_gemma3_answer_only_scores_and_short_training(gemma3_dir, tmp_path):
    from peft import PeftModel

    from paw.models import load_model, load_tokenizer
    from paw.training.run import TrainSetup, train_lora
    from paw.training.examples import choice_sequences, collate_choices
    from paw.training.lora import sequence_logprobs
    from paw.training.params import LoraParams, TrainParams

    tok = load_tokenizer(gemma3_dir)
    batch = collate_choices(choice_sequences(tok, synthetic_items(2), 64), tok.pad_token_id)
    base = load_model(gemma3_dir)
    with torch.no_grad():
        sums, _ = sequence_logprobs(base, batch)
        logits = base(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits.float()
    mask = batch["targets"] != -100
    full = torch.log_softmax(logits, -1).gather(-1, batch["targets"].clamp(min=0).unsqueeze(-1)).squeeze(-1)
    assert torch.allclose(sums, (full * mask).sum(1), atol=1e-3)
    del base, logits

    setup = TrainSetup(
        train=TrainParams(max_length=64, val_every_n_steps=2, log_every_n_steps=1),
        lora=LoraParams(r=2, alpha=4.0, target_modules=("q_proj", "v_proj")), lr=1.0e-3, batch_size=2, max_steps=2,
    )  # fmt: skip
    metrics = train_lora(gemma3_dir, synthetic_pairs(8), synthetic_items(2), tmp_path / "adapter", tmp_path / "rep",
                         tmp_path / "ckpt", setup)  # fmt: skip
    assert metrics["steps"] == 2 and json.loads((tmp_path / "adapter" / "adapter_config.json").read_text())[
        "base_model_name_or_path"] == "gemma-3-270m"  # fmt: skip
    model = PeftModel.from_pretrained(load_model(gemma3_dir), str(tmp_path / "adapter")).eval()
    with torch.no_grad():
        sums, counts = sequence_logprobs(model, batch)
    gold = batch["gold"]
    assert float(-sums[gold].sum() / counts[gold].sum()) == pytest.approx(metrics["best_val_loss"], abs=1e-4)
