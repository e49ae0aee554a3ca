"""Label-free distillation of a source base + LoRA (the teacher) into a fresh LoRA on a target base (the student).

1. The teacher scores each unlabeled question with the evaluation's own scorer (`paw.evaluation.engine`, on
   paw.scoring's encoding and loglikelihood): per-choice loglikelihoods, softmax at temperature T — a
   distribution over the choices, whatever the two tokenizers.
2. The student (target base + a fresh or `init` LoRA) is trained by the training engine (`paw.training.run`) on
   T²·KL(teacher ‖ student) over the choices (`paw.training.distill_objective`).
3. Teacher and student are compared on held-out questions (agreement of their top choice, mean KL, mean total
   variation), next to the target base's agreement with the teacher before any training.
The trained adapter becomes a `Carried` with one record per trained module (similarity null: no source module is
carried, so `transfer.threshold` keeps every module), and the transfer stage writes it and its norm-matched
control like any method's. No gold label is read anywhere: questions enter with their gold index removed.
"""

from __future__ import annotations

import dataclasses
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from paw.errors import PawError
from paw.evaluation.engine import EvalSet, merge_adapter, prepare_model, score_eval_set
from paw.models import read_adapter, resolve_model_dir
from paw.resources import peak_gpu_mb, peak_ram_mb, release_memory
from paw.scoring import per_character
from paw.training.run import train_lora
from paw.transfer.carried import Carried
from paw.transfer.carry import frobenius
from paw.transfer.engine import check_recorded_base, read_adapter_tensors
from paw.transfer.layout import parse_path
from paw.transfer.records import ModuleRecord

if TYPE_CHECKING:
    from paw.data import Item
    from paw.training.run import TrainSetup

KIND = "uses target training, no labels"
SUMMARY = "a target LoRA distilled from the source base + LoRA's choice distributions on unlabeled questions"
UNLABELED = -1  # the gold index of a question whose label was removed
NOTE = "trained on the target by distillation: no source module is carried, so transfer.threshold does not apply"


def unlabeled(items: Sequence["Item"]) -> list["Item"]:
    """The questions without their gold index (contexts, continuations and choice texts only)."""
    return [dataclasses.replace(item, gold=UNLABELED) for item in items]


def choice_distributions(model, tokenizer, questions: Sequence["Item"], temperature: float,
                         batch_size: int, normalize: str = "none") -> list[list[float]]:
    """softmax(per-choice loglikelihood / T) per question, scored exactly as the evaluation scores; with
    `normalize="chars"` each loglikelihood is first divided by its choice's length in characters (acc_norm's rule)."""
    import torch

    if not questions:
        return []
    lls = score_eval_set(model, tokenizer, EvalSet("distill", "inputs", "-", list(questions)),
                         batch_size=batch_size, progress=False)
    if normalize == "chars":
        lls = [per_character(item_lls, q.choice_texts) for item_lls, q in zip(lls, questions, strict=True)]
    return [torch.softmax(torch.tensor(ll, dtype=torch.float64) / temperature, 0).tolist() for ll in lls]


def compare(teacher: Sequence[Sequence[float]], student: Sequence[Sequence[float]]) -> dict[str, Any]:
    """Agreement of the top choices, mean KL(teacher ‖ student) and mean total variation over questions."""
    import math

    if not teacher:
        return {"questions": 0, "agreement": None, "mean_kl": None, "mean_total_variation": None}
    agree, kl, tv = 0, 0.0, 0.0
    for p, q in zip(teacher, student, strict=True):
        agree += int(max(range(len(p)), key=p.__getitem__) == max(range(len(q)), key=q.__getitem__))
        kl += sum(a * (math.log(a) - math.log(max(b, 1e-300))) for a, b in zip(p, q) if a > 0)
        tv += 0.5 * sum(abs(a - b) for a, b in zip(p, q))
    n = len(teacher)
    return {"questions": n, "agreement": round(agree / n, 4), "mean_kl": float(f"{kl / n:.4g}"),
            "mean_total_variation": float(f"{tv / n:.4g}")}


def check_questions(questions: Sequence["Item"], where: str) -> None:
    if not questions:
        raise PawError(f"{where}: no questions — expected at least one multiple-choice row")
    for item in questions:
        if len(item.contexts) < 2:
            raise PawError(f"{where}: question {item.id} has {len(item.contexts)} choice — distillation needs a "
                           "distribution over at least two choices")


def teacher_pass(source_model_dir, source_adapter_dir, questions, held_out, temperature: float, dtype: str,
                 trust_remote_code: bool, batch_size: int, normalize: str = "none") -> tuple[list, list]:
    """The teacher's choice distributions on the training questions and on the held-out ones."""
    source_dir = resolve_model_dir(source_model_dir)
    check_recorded_base(read_adapter(source_adapter_dir), source_dir)
    model, tokenizer = prepare_model(source_dir, source_adapter_dir, dtype, trust_remote_code)
    train = choice_distributions(model, tokenizer, questions, temperature, batch_size, normalize)
    held = choice_distributions(model, tokenizer, held_out, temperature, batch_size, normalize)
    del model
    release_memory()
    return train, held


def distill_transfer(source_model_dir, source_adapter_dir, target_model_dir, questions: Sequence["Item"],
                     held_out: Sequence["Item"], setup: "TrainSetup", checkpoint_dir, *, temperature: float = 1.0,
                     dtype: str = "float32", eval_batch_size: int = 8, init: Carried | None = None,
                     summary: dict | None = None, extra_callbacks: Sequence[Any] = (),
                     share_context: bool = True, normalize: str = "none") -> Carried:
    """Distil and return the student as a `Carried` (see the module docstring). `questions` train the student,
    `held_out` only measure it; both are stripped of their gold index here. Training resumes from
    checkpoint_dir after an interruption."""
    from paw.training.distill_objective import DistillObjective

    start = time.perf_counter()
    if not temperature > 0:
        raise PawError(f"transfer.distill.temperature = {temperature} — expected a positive number")
    questions, held_out = unlabeled(questions), unlabeled(held_out)
    check_questions(questions, "distillation inputs")
    target_dir = resolve_model_dir(target_model_dir)
    teacher, teacher_held = teacher_pass(source_model_dir, source_adapter_dir, questions, held_out, temperature,
                                         dtype, setup.trust_remote_code, eval_batch_size, normalize)
    teacher_seconds = time.perf_counter() - start
    objective = DistillObjective(questions, teacher, temperature, share_context=share_context,
                                 normalize=normalize)
    if init is not None:
        objective.initial, objective.initial_scale = dict(init.weights), init.alpha / init.r
    with tempfile.TemporaryDirectory(prefix="paw-distill-") as work:
        metrics = train_lora(target_dir, [], [], Path(work) / "adapter", Path(work) / "report", checkpoint_dir,
                             setup, base_model_name=target_dir.name, objective=objective,
                             extra_callbacks=extra_callbacks)
        weights, before, after, norms = student_pass(target_dir, Path(work) / "adapter", held_out, teacher_held,
                                                     temperature, dtype, setup.trust_remote_code, eval_batch_size,
                                                     normalize)
    scale = setup.lora.alpha / setup.lora.r
    records = [module_record(path, scale, a, b, norms[path]) for path, (a, b) in sorted(weights.items())]
    records.sort(key=lambda r: (r["target_layer"], r["kind"]))
    diagnostics = {
        "questions": len(questions), "steps": metrics["steps"], "batch_size": setup.batch_size, "lr": setup.lr,
        "temperature": temperature, "normalize": normalize, "final_train_loss": metrics["final_train_loss"],
        "init_modules": len(objective.initial), "packed_rows": objective.share_context,
        "held_out_base": before, "held_out_student": after,
    }
    full = {"method": "distill", "method_summary": SUMMARY, "options": {},
            "source_model": resolve_model_dir(source_model_dir).name, **(summary or {}), "method_kind": KIND,
            "rank": None, "layer_map": "none (trained on the target)",
            "target_model": target_dir.name, "lora_r": setup.lora.r, "lora_alpha": setup.lora.alpha,
            "seed": setup.seed, "held_out_agreement": after["agreement"], "method_diagnostics": diagnostics}
    cost = {"seconds": round(time.perf_counter() - start, 2), "teacher_seconds": round(teacher_seconds, 2),
            "train_seconds": metrics["seconds"], "peak_ram_mb": peak_ram_mb(), "peak_gpu_mb": peak_gpu_mb()}
    n_layers = max((r["target_layer"] for r in records), default=0) + 1
    return Carried(records=records, weights=weights, summary=full, r=setup.lora.r, alpha=setup.lora.alpha,
                   target_model=target_dir.name, target_layers=_layers(target_dir, n_layers), cost=cost)


def student_pass(target_dir: Path, adapter_dir: Path, held_out, teacher_held, temperature: float, dtype: str,
                 trust_remote_code: bool, batch_size: int, normalize: str = "none"):
    """(student factors, base vs teacher, student vs teacher on the held-out questions, target weight norms)."""
    weights = read_adapter_tensors(adapter_dir)
    model, tokenizer = prepare_model(target_dir, None, dtype, trust_remote_code)
    norms = {path: float(model.get_submodule(path).weight.detach().float().norm()) for path in weights}
    before = compare(teacher_held, choice_distributions(model, tokenizer, held_out, temperature, batch_size, normalize))
    model = merge_adapter(model, adapter_dir)
    after = compare(teacher_held, choice_distributions(model, tokenizer, held_out, temperature, batch_size, normalize))
    del model
    release_memory()
    return weights, before, after, norms


def module_record(path: str, scale: float, a, b, weight_norm: float) -> ModuleRecord:
    layer, kind = parse_path(path)
    size = scale * frobenius(b, a) / weight_norm if weight_norm > 0 else None
    return {"target_module": path, "kind": kind, "target_layer": layer, "source_module": None,
            "source_layer": None, "carried": True, "similarity": None, "chance": None, "reason": NOTE,
            "energy_kept": None, "norm_ratio": None, "update_size": None if size is None else float(f"{size:.4g}"),
            "source_update_size": None}


def _layers(target_dir: Path, fallback: int) -> int:
    import json

    config = json.loads((target_dir / "config.json").read_text())
    config = config.get("text_config", config)
    return int(config.get("num_hidden_layers", fallback))
