"""The distillation student reads each question as one packed row: the same loss and gradients as one row per
choice on every architecture, fewer tokens, and a student that ignores custom masks is caught and trains unpacked."""

from __future__ import annotations

import pytest
import torch

from tests.transfer.distill_fixtures import arc_rows, items


def _student(model_dir):
    from peft import LoraConfig, get_peft_model

    from paw.models import load_model, load_tokenizer

    torch.manual_seed(0)
    model = load_model(model_dir, "float32")
    config = LoraConfig(r=4, lora_alpha=8, lora_dropout=0.0, target_modules=["q_proj", "v_proj"], init_lora_weights=False)
    return get_peft_model(model, config), load_tokenizer(model_dir)


def _objective(tokenizer, n: int = 6):
    from paw.training.distill_objective import DistillObjective

    questions = items(arc_rows(n, seed=3))
    teacher = [[0.1, 0.2, 0.3, 0.4]] * n
    objective = DistillObjective(questions, teacher, temperature=2.0)
    return objective, objective.examples(tokenizer, 256)


def _loss_and_grads(model, objective, examples, packed: bool):
    from paw.training.distill_objective import collate_distill

    model.zero_grad()
    loss = objective.loss()(model, collate_distill(examples, 0, packed=packed))
    loss.backward()
    return loss.detach(), {n: p.grad.clone() for n, p in model.named_parameters() if p.requires_grad}


@pytest.mark.parametrize("name", ["tiny_llama", "tiny_qwen2", "tiny_gemma2"])
def test_packed_rows_give_the_loss_and_gradients_of_one_row_per_choice(name, request):
    model, tokenizer = _student(request.getfixturevalue(name))
    objective, examples = _objective(tokenizer)
    packed_loss, packed_grads = _loss_and_grads(model, objective, examples, packed=True)
    plain_loss, plain_grads = _loss_and_grads(model, objective, examples, packed=False)
    assert packed_loss > 0
    torch.testing.assert_close(packed_loss, plain_loss, rtol=1e-5, atol=1e-6)
    assert packed_grads.keys() == plain_grads.keys() and packed_grads
    for key, grad in packed_grads.items():
        assert grad.abs().max() > 0, key  # every LoRA factor is reached (init_lora_weights=False)
        torch.testing.assert_close(grad, plain_grads[key], rtol=1e-4, atol=1e-6)


def test_packing_reads_each_shared_question_once(tiny_llama):
    from paw.training.distill_objective import collate_distill

    _, tokenizer = _student(tiny_llama)
    _, examples = _objective(tokenizer)
    packed, plain = collate_distill(examples, 0, packed=True), collate_distill(examples, 0)
    real_packed = int(packed["attention_mask"].sum())
    real_plain = int(plain["attention_mask"].sum())
    shared = sum(len(s.ids) - 1 for ex in examples for s in ex.sequences) - real_packed
    assert real_plain == sum(len(s.ids) - 1 for ex in examples for s in ex.sequences)
    # Each question's context is read once instead of four times.
    assert shared > 0 and real_packed < 0.6 * real_plain
    assert torch.equal(packed["question"], plain["question"]) and torch.equal(packed["teacher"], plain["teacher"])


def test_a_student_that_ignores_the_masks_trains_on_one_row_per_choice(tiny_llama, monkeypatch, capsys):
    import paw.packing

    model, tokenizer = _student(tiny_llama)
    objective, _ = _objective(tokenizer)
    objective.check_layout(model)
    assert objective.share_context  # the real architecture honours the layout
    # As an architecture that drops custom 4D masks would: plain causal attention over the packed row.
    monkeypatch.setattr(paw.packing, "attention_masks", lambda config, dtype, positions, parents, valid: valid)
    objective.check_layout(model)
    assert not objective.share_context
    assert "one row per choice" in capsys.readouterr().out
    assert "parents" not in objective.collate(objective.prepared[:2], 0)


def test_chars_divides_each_choices_loglikelihood_by_its_length_before_the_kl(tiny_llama):
    from paw.scoring import sequence_logprobs
    from paw.training.distill_objective import DistillObjective, collate_distill

    model, tokenizer = _student(tiny_llama)
    questions = items(arc_rows(4, seed=3))
    teacher = [[0.1, 0.2, 0.3, 0.4]] * 4
    objective = DistillObjective(questions, teacher, temperature=0.5, normalize="chars")
    examples = objective.examples(tokenizer, 256)
    with torch.no_grad():
        loss = objective.loss()(model, collate_distill(examples, 0, packed=True))
        sums, _ = sequence_logprobs(model, collate_distill(examples, 0))
    lengths = torch.tensor([float(len(t)) for q in questions for t in q.choice_texts])
    student = torch.log_softmax((sums / lengths).view(4, 4) / 0.5, dim=1)
    p = torch.tensor(teacher)
    expected = (p * (p.log() - student)).sum(1).mean() * 0.5**2
    torch.testing.assert_close(loss, expected, rtol=1e-5, atol=1e-6)
    plain = DistillObjective(questions, teacher, temperature=0.5)
    assert plain.fingerprint() != objective.fingerprint()
