"""`distill`: label-free distillation of source base + LoRA into a target LoRA — no label is read, any two
tokenizers work, the same base reproduces its teacher, a killed run resumes to the same adapter, bad input is
refused with one message and nothing written."""

from __future__ import annotations

import pytest
import torch

from paw.errors import PawError
from tests.transfer.conftest import make_adapter
from tests.transfer.distill_fixtures import arc_rows, distill_setup, items, permuted_labels, write_rows


@pytest.fixture(scope="module")
def teacher_adapter(tiny_llama, tmp_path_factory):
    """A random LoRA on tiny Llama large enough to move its choice distributions."""
    return make_adapter(tiny_llama, tmp_path_factory.mktemp("teacher") / "adapter", seed=21, strength=0.5)


def _params(data_dir, **overrides):
    from paw.config import load_params
    from tests.conftest import REPO_ROOT

    values = {"env": "quick", "envs.quick.data_path": str(data_dir), "envs.quick.dataset": "toy-facts",
              "transfer.method": "distill", "transfer.distill.max_steps": 4, "transfer.distill.batch_size": 4,
              "transfer.distill.lr": 2.0e-2, "lora.r": 4, "lora.alpha": 8.0, "lora.dropout": 0.0,
              "train.val_samples": 4, "envs.quick.eval_batch_size": 8}
    return load_params(REPO_ROOT / "params.yaml", {**values, **overrides})


def _carry(params, tiny_llama, teacher_adapter, target, out):
    from paw.transfer.api import carry_from_params

    return carry_from_params(params, tiny_llama, teacher_adapter, target, out / "carried")


def test_permuting_every_gold_label_gives_a_bit_identical_adapter(tiny_llama, tiny_qwen2, teacher_adapter, tmp_path):
    """Through the carry stage's own entry: train and validation files with every answerKey moved elsewhere."""
    rows, held = arc_rows(12, seed=0), arc_rows(4, seed=9)
    outputs = []
    for name, transform in (("labels", lambda r: r), ("permuted", permuted_labels)):
        data = tmp_path / name / "data"
        write_rows(data / "train.jsonl", transform(rows))
        write_rows(data / "validation.jsonl", transform(held))
        cost = _carry(_params(data), tiny_llama, teacher_adapter, tiny_qwen2, tmp_path / name)
        assert cost["method"] == "distill" and cost["modules_carried"] > 0 and cost["seconds"] > 0
        outputs.append({f.name: f.read_bytes() for f in (tmp_path / name / "carried").iterdir()})
    assert outputs[0] == outputs[1]


def test_the_student_is_trained_on_teacher_distributions_only(tiny_llama, tiny_gemma2, teacher_adapter, tmp_path,
                                                             monkeypatch):
    """Every choice of every question is trained toward the teacher's soft distribution; no gold index survives."""
    import paw.transfer.distillation as distillation
    from paw.transfer.distillation import UNLABELED, distill_transfer

    seen = {}
    original = distillation.train_lora

    def spy(model_dir, train_pairs, val_items, *args, objective=None, **kwargs):
        seen.update(pairs=list(train_pairs), val=list(val_items), objective=objective)
        return original(model_dir, train_pairs, val_items, *args, objective=objective, **kwargs)

    monkeypatch.setattr(distillation, "train_lora", spy)
    questions = items(arc_rows(8))
    carried = distill_transfer(tiny_llama, teacher_adapter, tiny_gemma2, questions, items(arc_rows(3, seed=4)),
                               distill_setup(max_steps=2), tmp_path / "ckpt")
    objective = seen["objective"]
    assert seen["pairs"] == [] and seen["val"] == []  # no gold continuation, no labelled validation
    assert all(q.gold == UNLABELED for q in objective.questions)
    assert [len(p) for p in objective.teacher] == [len(q.contexts) for q in questions]
    assert all(abs(sum(p) - 1) < 1e-9 and max(p) < 1 - 1e-6 for p in objective.teacher)  # soft, not one-hot
    assert carried.summary["method_kind"] == "uses target training, no labels"


@pytest.mark.parametrize("target", ["qwen2", "gemma2"])
def test_two_vocabularies_give_an_adapter_and_its_control(target, tiny_llama, tiny_models, teacher_adapter, tmp_path):
    from paw.models import attach_adapter, load_model
    from paw.transfer.carry import frobenius
    from paw.transfer.carried import read_carried, write_carried
    from paw.transfer.distillation import distill_transfer
    from paw.transfer.engine import finish_transfer
    from paw.transfer.output import control_weights

    carried = distill_transfer(tiny_llama, teacher_adapter, tiny_models[target], items(arc_rows(8)),
                               items(arc_rows(3, seed=4)), distill_setup(max_steps=3), tmp_path / "ckpt")
    write_carried(tmp_path / "carried", carried)
    diagnostics = finish_transfer(read_carried(tmp_path / "carried"), tmp_path / "out", 0.9, True)
    assert diagnostics["totals"]["modules_kept"] == len(carried.weights)  # the threshold does not apply
    assert diagnostics["method_diagnostics"]["steps"] == 3
    assert set(diagnostics["method_diagnostics"]["held_out_student"]) >= {"agreement", "mean_kl"}
    model = attach_adapter(load_model(tiny_models[target]), tmp_path / "out" / "adapter")
    with torch.no_grad():
        assert torch.isfinite(model(input_ids=torch.tensor([[3, 4, 5]])).logits).all()
    for path, (a, b) in control_weights(carried.weights, carried.summary["seed"]).items():
        assert frobenius(b, a) == pytest.approx(frobenius(carried.weights[path][1], carried.weights[path][0]),
                                                rel=1e-5)
    assert not (tmp_path / "ckpt").exists()  # a finished run leaves no checkpoint


def test_resume_after_a_kill_gives_the_same_adapter(tiny_llama, tiny_qwen2, teacher_adapter, tmp_path):
    from lightning.pytorch.callbacks import Callback

    from paw.transfer.distillation import distill_transfer

    class Killed(Exception):
        pass

    class Kill(Callback):
        def on_train_batch_end(self, trainer, *args):
            if trainer.global_step == 5:
                raise Killed

    questions, held = items(arc_rows(10)), items(arc_rows(2, seed=3))
    run = lambda ckpt, callbacks=(): distill_transfer(  # noqa: E731
        tiny_llama, teacher_adapter, tiny_qwen2, questions, held, distill_setup(max_steps=7), ckpt,
        extra_callbacks=callbacks)
    straight = run(tmp_path / "straight")
    with pytest.raises(Killed):
        run(tmp_path / "killed", [Kill()])
    assert (tmp_path / "killed" / "last.ckpt").is_file()
    resumed = run(tmp_path / "killed")
    assert straight.weights.keys() == resumed.weights.keys()
    for path, (a, b) in straight.weights.items():
        assert torch.equal(a, resumed.weights[path][0]) and torch.equal(b, resumed.weights[path][1])


@pytest.mark.slow
def test_a_student_on_the_teachers_own_base_reproduces_its_distributions(tiny_llama, teacher_adapter, tmp_path):
    """Bound, on the 32 distilled questions: mean total variation between the teacher's and the student's choice
    distributions ≤ 0.05 (from ≥ 0.3 for the bare base), mean KL ≤ 0.02, top choice agreeing on ≥ 90%. The
    student's LoRA has the teacher's rank, so it can represent the teacher exactly."""
    from paw.transfer.distillation import distill_transfer

    questions = items(arc_rows(32, seed=2))
    carried = distill_transfer(tiny_llama, teacher_adapter, tiny_llama, questions, questions,
                               distill_setup(max_steps=150, lr=1.0e-2, batch_size=8), tmp_path / "ckpt")
    base, student = (carried.summary["method_diagnostics"][k] for k in ("held_out_base", "held_out_student"))
    assert base["mean_total_variation"] >= 0.3, base
    assert student["mean_total_variation"] <= 0.05 and student["mean_kl"] <= 0.02, student
    assert student["agreement"] >= 0.9, student


def test_bad_options_are_refused_with_one_message(tmp_path):
    from paw.transfer.registry import get_method

    for options, message in (({"temperature": 0}, r"transfer\.distill\.temperature = 0 — expected a positive"),
                             ({"temperature": -1.0}, r"transfer\.distill\.temperature = -1\.0 — expected"),
                             ({"init": "nope"}, r"distill\.init = 'nope' — expected none or a training-free"),
                             ({"init": "distill"}, r"transfer\.distill\.init = 'distill' — expected none"),
                             ({"normalize": "bytes"}, r"transfer\.distill\.normalize = 'bytes' — expected none or chars")):
        with pytest.raises(PawError, match=message):
            get_method("distill", options)


def test_probe_files_without_usable_rows_are_refused(tmp_path):
    from paw.data import get_task
    from paw.transfer.methods.distill import probe_rows

    task = get_task("toy-facts")
    (tmp_path / "empty.jsonl").write_text("")
    write_rows(tmp_path / "bad.jsonl", [{"question": "what?", "choices": {"text": ["a"], "label": ["A"]}}])
    for name, message in (("missing.jsonl", "file not found"), ("empty.jsonl", "no rows"),
                          ("bad.jsonl", "field 'choices'")):
        with pytest.raises(PawError, match=rf"transfer\.distill\.probe_file = .*{name}: .*{message}"):
            probe_rows(task, str(tmp_path / name))


def test_questions_without_two_choices_and_plain_transfer_are_refused(tiny_llama, tiny_qwen2, teacher_adapter,
                                                                       tmp_path):
    from paw.data import Item
    from paw.transfer.api import run_transfer
    from paw.transfer.distillation import distill_transfer

    one_choice = [Item("q", ["Question: what?\nAnswer:"], [" red"], 0, ["red"])]
    with pytest.raises(PawError, match="question q has 1 choice — distillation needs"):
        distill_transfer(tiny_llama, teacher_adapter, tiny_qwen2, one_choice, [], distill_setup(), tmp_path / "c")
    with pytest.raises(PawError, match="temperature = 0 — expected a positive number"):
        distill_transfer(tiny_llama, teacher_adapter, tiny_qwen2, items(arc_rows(2)), [], distill_setup(),
                         tmp_path / "c", temperature=0)
    with pytest.raises(PawError, match="paw transfer` reads no task"):
        run_transfer(tiny_llama, teacher_adapter, tiny_qwen2, tmp_path / "out", method="distill", svd_rank=16)
    assert not any(tmp_path.iterdir())  # nothing written


def test_init_starts_the_student_from_another_methods_carried_adapter(tiny_llama, tiny_qwen2, teacher_adapter,
                                                                       tmp_path):
    """Transfer-then-calibrate: with `init: aligned` the student starts from aligned's carried factors."""
    from paw.transfer.carried import read_carried
    from paw.transfer.engine import carry_transfer
    from paw.transfer.spec import TransferSpec

    data = tmp_path / "data"
    write_rows(data / "train.jsonl", arc_rows(8))
    write_rows(data / "validation.jsonl", arc_rows(2, seed=9))
    runs = {}
    for init in ("none", "aligned"):
        params = _params(data, **{"transfer.distill.init": init, "transfer.svd_rank": 16, "transfer.distill.lr": 1e-9,
                                  "transfer.distill.max_steps": 1})
        _carry(params, tiny_llama, teacher_adapter, tiny_qwen2, tmp_path / init)
        runs[init] = read_carried(tmp_path / init / "carried")
    aligned = carry_transfer(tiny_llama, teacher_adapter, tiny_qwen2, TransferSpec(method="aligned", svd_rank=16))
    assert runs["aligned"].summary["method_diagnostics"]["init_modules"] == len(aligned.weights) > 0
    assert runs["none"].summary["method_diagnostics"]["init_modules"] == 0
    path = next(iter(aligned.weights))
    # One step at a negligible learning rate: the student's update is still aligned's (fresh LoRA: B = 0).
    assert torch.allclose(runs["aligned"].weights[path][1] @ runs["aligned"].weights[path][0],
                          aligned.weights[path][1] @ aligned.weights[path][0], atol=1e-5)
    assert float(runs["none"].weights[path][1].abs().max()) < 1e-6


def test_max_questions_takes_a_seeded_sample_of_the_training_questions(tmp_path):
    from paw.transfer.methods.distill import DistillOptions, distill_inputs

    data = tmp_path / "data"
    write_rows(data / "train.jsonl", arc_rows(12))
    write_rows(data / "validation.jsonl", arc_rows(2, seed=9))
    every, _ = distill_inputs(_params(data), DistillOptions())
    capped, _ = distill_inputs(_params(data), DistillOptions(max_questions=5))
    again, _ = distill_inputs(_params(data), DistillOptions(max_questions=5))
    assert len(every) == 12 and len(capped) == 5
    assert [q.contexts for q in capped] == [q.contexts for q in again]  # seeded: the same sample each time
    assert {q.contexts[0] for q in capped} < {q.contexts[0] for q in every}


def test_chars_normalises_the_teachers_scores_as_acc_norm_does(tiny_llama, teacher_adapter):
    """normalize: chars — each choice's loglikelihood per character of its text, then the softmax at T."""
    from paw.evaluation.engine import EvalSet, prepare_model, score_eval_set
    from paw.transfer.distillation import choice_distributions

    model, tokenizer = prepare_model(tiny_llama, teacher_adapter, "float32", False)
    questions = items(arc_rows(4, seed=5))
    lls = score_eval_set(model, tokenizer, EvalSet("t", "s", "-", questions), batch_size=8, progress=False)
    plain = choice_distributions(model, tokenizer, questions, 0.5, 8)
    normed = choice_distributions(model, tokenizer, questions, 0.5, 8, normalize="chars")
    for q, ll, p, n in zip(questions, lls, plain, normed):
        per_char = torch.tensor([v / len(t) for v, t in zip(ll, q.choice_texts)], dtype=torch.float64)
        assert n == pytest.approx(torch.softmax(per_char / 0.5, 0).tolist(), abs=1e-12)
        assert p == pytest.approx(torch.softmax(torch.tensor(ll, dtype=torch.float64) / 0.5, 0).tolist(), abs=1e-12)
        assert n != pytest.approx(p, abs=1e-3)  # the choices' lengths differ, so the two rankings do


def test_the_normalize_option_reaches_the_teacher_and_the_student(tiny_llama, tiny_qwen2, teacher_adapter, tmp_path):
    from paw.transfer.carried import read_carried

    data = tmp_path / "data"
    write_rows(data / "train.jsonl", arc_rows(8))
    write_rows(data / "validation.jsonl", arc_rows(2, seed=9))
    params = _params(data, **{"transfer.distill.normalize": "chars", "transfer.distill.max_steps": 1})
    _carry(params, tiny_llama, teacher_adapter, tiny_qwen2, tmp_path)
    diagnostics = read_carried(tmp_path / "carried").summary["method_diagnostics"]
    assert diagnostics["normalize"] == "chars" and diagnostics["steps"] == 1
