"""`distill`: label-free distillation (Trans-LoRA / CAST-style), the strongest baseline a weight transfer must beat.

The teacher (source base + source LoRA) scores the task's training questions with their answers removed (or the
rows of `probe_file`): per choice its loglikelihood, softmax at `temperature` — a distribution over the choices,
so any two vocabularies work. The student (target base + a fresh LoRA of the `lora:` section, or with `init:` the
adapter another method carries) is trained by the training engine on KL(teacher ‖ student) for `max_steps` steps
of `batch_size` questions (see `paw.transfer.distillation`). Unlike every other method it **trains on the
target** (no labels): the report marks it so and gives its cost.

`transfer.threshold` does not apply: no source module is carried, so there is no subspace similarity to compare,
and every trained module is kept (as `cross_lora` between different shapes). Runs from params (the carry stage,
`dvc exp run -S transfer.method=distill`); `paw transfer` reads no task and refuses it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from paw.data import get_task, sample_rows
from paw.errors import PawError
from paw.fields import in_open_closed, param, positive
from paw.training.from_params import _rows_for_training, setup_from_params
from paw.training.params import check_prompt_styles
from paw.transfer.distillation import KIND, SUMMARY, distill_transfer
from paw.transfer.engine import carry_transfer, task_probe_texts
from paw.transfer.registry import TransferMethod, known_methods, register
from paw.transfer.spec import TransferSpec

INIT_NONE = "none"
NORMALIZE = ("none", "chars")


def _known_init(value: str) -> bool:
    return value == INIT_NONE or (value in known_methods() and value != Distill.name)


@dataclass(frozen=True)
class DistillOptions:
    probe_file: str | None = param(None, expect="a .jsonl/.json/.parquet file of the task's rows or null")
    temperature: float = param(1.0, check=positive, expect="a positive number")  # softmax temperature of both sides
    max_steps: int = param(200, check=positive, expect="a positive integer")  # optimizer steps of the student
    batch_size: int = param(8, check=positive, expect="a positive integer")  # questions per step (all their choices)
    # The teacher scores every question before the student's first step; on a real source that pass costs as much
    # as an evaluation of as many questions, so a CPU run caps it to what the student's steps can use.
    max_questions: int | None = param(None, check=positive, expect="a positive integer or null (all)")
    lr: float | None = param(None, check=in_open_closed(0, 1), expect="a number in (0, 1] or null (the env's lr)")
    # The student reads each question as one packed row (the question once, its choices masked from each other):
    # the same loglikelihoods as a row per choice, ~3x fewer tokens on ARC. false = a row per choice.
    share_context: bool = param(True)
    # What both distributions rank: `none` = summed loglikelihoods (what acc ranks); `chars` = each divided by its
    # choice's length in characters (what acc_norm ranks; per-character gaps are small, so use a low temperature).
    normalize: str = param("none", check=lambda v: v in NORMALIZE, expect="none or chars")
    init: str = param(INIT_NONE, check=_known_init,
                      expect="none or a training-free transfer method (a transfer.method value other than distill)")


@register
class Distill(TransferMethod):
    name = "distill"
    Options = DistillOptions
    summary = SUMMARY
    trains_target = True
    kind = KIND

    def check_pair(self, ctx) -> None:
        raise PawError(
            "transfer.method = distill trains a LoRA on the target from the task's questions — run it from "
            "params.yaml (`dvc exp run -S transfer.method=distill`); `paw transfer` reads no task"
        )

    def train_target(self, params, source_model_dir, source_adapter_dir, target_model_dir, carried_dir,
                     source_svd_dir=None, target_svd_dir=None):
        """The carry stage's work for distill: returns the student as a `Carried`. Training checkpoints go to
        <carried_dir's parent>/checkpoints/distill (models/checkpoints/distill in the pipeline), beside the
        training stages' own."""
        o = self.options
        questions, held_out = distill_inputs(params, o)
        setup = setup_from_params(params).replace(max_steps=o.max_steps, batch_size=o.batch_size,
                                                  lr=o.lr if o.lr is not None else params.lr)
        init = self.init_carry(params, source_model_dir, source_adapter_dir, target_model_dir, source_svd_dir,
                               target_svd_dir)
        summary = {"options": dataclasses.asdict(o)}
        return distill_transfer(
            source_model_dir, source_adapter_dir, target_model_dir, questions, held_out, setup,
            Path(carried_dir).parent / "checkpoints" / self.name, temperature=o.temperature,
            dtype=params.models.dtype, eval_batch_size=params.profile.eval_batch_size, init=init, summary=summary,
            share_context=o.share_context, normalize=o.normalize,
        )

    def init_carry(self, params, source_model_dir, source_adapter_dir, target_model_dir, source_svd_dir,
                   target_svd_dir):
        """The adapter `init` carries (all its modules, before any threshold), or None for a fresh student."""
        if self.options.init == INIT_NONE:
            return None

        spec = dataclasses.replace(TransferSpec.from_params(params), method=self.options.init)
        return carry_transfer(source_model_dir, source_adapter_dir, target_model_dir, spec,
                              source_svd_dir=source_svd_dir, target_svd_dir=target_svd_dir,
                              probe_loader=lambda: task_probe_texts(params.dataset, params.data_path))


def distill_inputs(params, options: DistillOptions) -> tuple[list, list]:
    """(training questions, held-out questions) as Items; the distillation strips their gold index.

    Training questions: the rows the target LoRA trains on (the task's train split, `data.max_train_samples`
    applied), or the rows of `probe_file`. Held out: the rows its training validates on."""
    check_prompt_styles(params)
    task, style, seed = get_task(params.dataset), params.train.prompt_style, params.seed
    if options.probe_file is not None:
        rows = probe_rows(task, options.probe_file)
        val_rows = _rows_for_training(task, params.data_path, seed, params.train.val_samples)[1]
    else:
        rows, val_rows, _ = _rows_for_training(task, params.data_path, seed, params.train.val_samples)
        if params.data.max_train_samples is not None:
            rows = sample_rows(rows, 1.0, params.data.max_train_samples, seed)
    if options.max_questions is not None:  # a seeded sample, in input order
        rows = sample_rows(rows, 1.0, options.max_questions, seed)
    val_rows = sample_rows(val_rows, 1.0, params.train.val_samples, seed) if val_rows else []
    return ([task.to_item(row, i, style) for i, row in enumerate(rows)],
            [task.to_item(row, i, style) for i, row in enumerate(val_rows)])


def probe_rows(task, probe_file: str) -> list[dict]:
    where = f"params.yaml: transfer.distill.probe_file = {probe_file}"
    if not Path(probe_file).is_file():
        raise PawError(f"{where}: file not found — expected a .jsonl, .json or .parquet file of {task.name} rows")
    try:
        return task.load_rows("train", probe_file)
    except PawError as exc:
        raise PawError(f"{where}: {exc} (rows in the task's schema; their labels are never read)") from None
