"""`train_lora`: train a LoRA on (context, answer) pairs with Lightning and write the adapter and metrics.

Outputs (written only by the global-zero process, each atomically): a standard PEFT adapter directory
(target_modules sorted, base recorded by name) and `<report_dir>/metrics.json`; DVCLive writes
`<report_dir>/dvclive/` while training. Rerunning after an interruption resumes from `<checkpoint_dir>/last.ckpt`
when that checkpoint was made from the same inputs, and ends with the same adapter as an uninterrupted run.
"""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path
from typing import Any, Sequence

from paw.errors import PawError
from paw.io import atomic_dir, remove_path
from paw.models import base_identity, load_model, load_tokenizer, normalize_adapter_config, quiet_hf, resolve_model_dir
from paw.models.quiet import quiet_lightning
from paw.resources import peak_gpu_mb, peak_ram_mb, release_memory
from paw.training.records import TrainMetrics, write_train_metrics
from paw.training.setup import TrainSetup


def train_lora(
    model_dir: str | Path,
    train_pairs: Sequence[tuple[str, str]],
    val_items: Sequence[Any],
    adapter_out: str | Path,
    report_dir: str | Path,
    checkpoint_dir: str | Path,
    setup: TrainSetup,
    base_model_name: str | None = None,
    extra_callbacks: Sequence[Any] = (),
    extra_metrics: dict[str, Any] | None = None,
    objective: Any = None,
) -> dict[str, Any]:
    """Train and save; returns the metrics dict (also written to report_dir/metrics.json).

    train_pairs: (context, answer continuation) per example; val_items: objects with contexts, continuations and
    gold (paw.data's Item), scored like the evaluation. Every process of a multi-device run returns the metrics;
    only global zero writes files. `objective` (e.g. `paw.training.distill_objective.DistillObjective`) replaces
    the gold-answer loss: it builds its own examples, batches, loss and initial LoRA state; train_pairs is unused."""
    from paw.training.callbacks import check_swanlab

    check_swanlab(setup.tracking.swanlab.mode)
    model_dir = resolve_model_dir(model_dir)
    base_model_name = base_model_name or model_dir.name
    adapter_out, report_dir, checkpoint_dir = Path(adapter_out), Path(report_dir), Path(checkpoint_dir)
    quiet_hf()
    quiet_lightning()
    import torch

    from paw.training.examples import choice_sequences, make_example
    from paw.training.resume import run_fingerprint

    on_gpu = torch.cuda.is_available()
    base_dtype, trainable_dtype = _dtypes(setup.precision, on_gpu)
    tokenizer = load_tokenizer(model_dir, trust_remote_code=setup.trust_remote_code)
    if objective is None:
        examples = [make_example(tokenizer, c, a, setup.train.max_length) for c, a in train_pairs]
    else:
        examples = objective.examples(tokenizer, setup.train.max_length)
    val_sequences = choice_sequences(tokenizer, val_items, setup.train.max_length)
    fingerprint = run_fingerprint(setup, f"{base_model_name}:{base_identity(model_dir)}", examples, objective)
    model = load_model(model_dir, dtype=base_dtype, trust_remote_code=setup.trust_remote_code, cache=False)
    return _fit_and_save(
        model, tokenizer, examples, val_sequences, adapter_out, report_dir, checkpoint_dir, setup,
        base_model_name, fingerprint, trainable_dtype, on_gpu, list(extra_callbacks), dict(extra_metrics or {}),
        objective,
    )  # fmt: skip


def _fit_and_save(
    model, tokenizer, examples, val_sequences, adapter_out, report_dir, checkpoint_dir, setup,
    base_model_name, fingerprint, trainable_dtype, on_gpu, extra_callbacks, extra_metrics, objective=None,
) -> dict[str, Any]:  # fmt: skip
    from paw.training.resume import resumable_checkpoint

    peft_model, targets, module = _lora_module(model, setup, fingerprint, trainable_dtype, objective)
    started_fresh = not checkpoint_dir.exists()
    resume_from = resumable_checkpoint(checkpoint_dir, fingerprint)
    trainer = _trainer(setup, peft_model, on_gpu, checkpoint_dir, bool(val_sequences), bool(resume_from),
                       extra_callbacks)  # fmt: skip
    train_loader, val_loader = _loaders(trainer, tokenizer, examples, val_sequences, setup, objective)
    if trainer.is_global_zero and targets.missing:
        print(f"lora.target_modules: {', '.join(targets.missing)} not in this model — trained only "
              f"{', '.join(targets.present)}", flush=True)  # fmt: skip
    seconds = _fit(trainer, module, train_loader, val_loader, resume_from, checkpoint_dir, started_fresh)
    if trainer.global_step < setup.max_steps:
        raise PawError(
            f"training stopped at step {trainer.global_step} of {setup.max_steps} — rerun to resume from "
            f"{checkpoint_dir / 'last.ckpt'}"
        )
    state = trainer.strategy.lightning_module_state_dict()  # collective under FSDP: every rank must call it
    metrics = _metrics(module, trainer, targets, seconds) | extra_metrics
    if trainer.is_global_zero:
        lora_state = {k[len("model.") :]: v for k, v in state.items() if k.startswith("model.")}
        _write_outputs(peft_model, lora_state, adapter_out, report_dir, checkpoint_dir, base_model_name, metrics)
    del state, trainer, module, peft_model
    release_memory()
    return metrics


def _lora_module(model, setup: TrainSetup, fingerprint: str, trainable_dtype, objective):
    """(peft_model, targets, LoraModule): fresh LoRA layers on `model`, wrapped for Lightning."""
    import torch

    from paw.training.lora import add_lora
    from paw.training.module import LoraModule

    train = setup.train
    torch.manual_seed(setup.seed)  # LoRA A matrices start random: the same seed gives the same start
    peft_model, targets = add_lora(model, setup.lora, trainable_dtype)
    if objective is not None:
        objective.initialize(peft_model, setup.lora.alpha / setup.lora.r)
    module = LoraModule(
        peft_model, setup.lr, train.weight_decay, round(train.warmup_ratio * setup.max_steps), setup.max_steps,
        train.schedule, setup.seed, fingerprint, log_every=train.log_every_n_steps,
        **({"objective": objective.loss()} if objective is not None else {}),
    )  # fmt: skip
    return peft_model, targets, module


def _trainer(setup: TrainSetup, peft_model, on_gpu: bool, checkpoint_dir: Path, has_val: bool, resume: bool,
             extra_callbacks: list):  # fmt: skip
    import lightning.pytorch as pl

    from paw.training.callbacks import make_loggers

    train, tty = setup.train, sys.stdout.isatty()
    return pl.Trainer(
        accelerator="gpu" if on_gpu else "cpu",
        devices=setup.devices,
        strategy=_strategy(setup, peft_model, on_gpu),
        precision={"32": "32-true"}.get(setup.precision, setup.precision),
        max_steps=setup.max_steps,
        accumulate_grad_batches=setup.grad_accum,
        gradient_clip_val=train.grad_clip or None,
        val_check_interval=train.val_every_n_steps * setup.grad_accum if has_val else None,
        check_val_every_n_epoch=None,
        limit_val_batches=None if has_val else 0,
        num_sanity_val_steps=0,
        # Logs are staged beside the checkpoints (they resume together) and copied to report_dir only on success.
        logger=make_loggers(checkpoint_dir, setup.tracking.swanlab.mode, setup.tracking.swanlab.project, resume),
        callbacks=_callbacks(setup, checkpoint_dir, has_val, tty, extra_callbacks),
        enable_checkpointing=False,  # StepCheckpoint writes last.ckpt itself, atomically
        enable_progress_bar=tty,
        enable_model_summary=False,
        log_every_n_steps=train.log_every_n_steps,
        use_distributed_sampler=False,  # batches are sharded by rank in StepBatches; every rank scores all val items
        default_root_dir=str(checkpoint_dir),
    )


def _callbacks(setup: TrainSetup, checkpoint_dir: Path, has_val: bool, tty: bool, extra: list) -> list:
    """Resumable checkpoints, the caller's callbacks, then log lines (a progress bar in a terminal)."""
    from paw.training.callbacks import LogLines, StepCheckpoint

    train = setup.train

    def validates(step: int) -> bool:
        return has_val and (step % train.val_every_n_steps == 0 or step >= setup.max_steps)

    callbacks = [StepCheckpoint(checkpoint_dir, train.checkpoint_every_n_steps, validates), *extra]
    if not tty:
        return [*callbacks, LogLines(setup.max_steps)]
    from lightning.pytorch.callbacks import TQDMProgressBar

    return [*callbacks, TQDMProgressBar(refresh_rate=max(1, train.log_every_n_steps // 5))]


def _loaders(trainer, tokenizer, examples, val_sequences, setup: TrainSetup, objective):
    """(training loader, validation loader or None). Training batches follow the trainer's step and rank, so a
    resumed or multi-process run draws the batches an uninterrupted single run would."""
    from torch.utils.data import DataLoader

    from paw.training.examples import StepBatches, collate_choices

    pad_id = tokenizer.pad_token_id
    stream = StepBatches(
        examples, setup.batch_size, setup.seed, pad_id,
        position=lambda: (trainer.global_step * setup.grad_accum, trainer.global_rank, trainer.world_size),
        collate_fn=objective.collate if objective is not None else None,
    )  # fmt: skip
    val_loader = DataLoader(
        val_sequences, batch_size=setup.batch_size, shuffle=False, collate_fn=lambda s: collate_choices(s, pad_id)
    )
    return DataLoader(stream, batch_size=None), val_loader if val_sequences else None


def _fit(trainer, module, train_loader, val_loader, resume_from: str | None, checkpoint_dir: Path,
         started_fresh: bool) -> float:  # fmt: skip
    """Run the training loop; returns its wall time in seconds."""
    started = time.perf_counter()
    try:
        trainer.fit(module, train_loader, val_loader, ckpt_path=resume_from, weights_only=True)
    except BaseException:
        if started_fresh and not (checkpoint_dir / "last.ckpt").exists():
            remove_path(checkpoint_dir)  # nothing to resume from: leave no trace of this run
        raise
    return time.perf_counter() - started


def _write_outputs(peft_model, lora_state, adapter_out: Path, report_dir: Path, checkpoint_dir: Path,
                   base_model_name: str, metrics: dict[str, Any]) -> None:  # fmt: skip
    """The adapter, DVCLive's files and metrics.json, each atomically; then the checkpoints go."""
    with atomic_dir(adapter_out) as tmp:
        peft_model.save_pretrained(str(tmp), state_dict=lora_state)
        (tmp / "README.md").unlink(missing_ok=True)  # PEFT's model card records this machine's paths
        normalize_adapter_config(tmp, base_model_name)
    with atomic_dir(report_dir / "dvclive") as tmp:
        shutil.copytree(checkpoint_dir / "dvclive", tmp, dirs_exist_ok=True)
    write_train_metrics(report_dir, metrics)
    # Finished: nothing to resume. A later rerun (new base under the same name, `dvc repro -f`) trains afresh.
    remove_path(checkpoint_dir)


def _metrics(module, trainer, targets, seconds: float) -> TrainMetrics:
    history, loss = module.val_history, module.train_loss
    tokens = module.tokens_seen * trainer.world_size  # every rank trains on its own batch of the same size
    train_seconds = module.train_seconds - module.val_seconds
    return {
        "steps": int(trainer.global_step),
        "world_size": int(trainer.world_size),
        "final_train_loss": loss.value if loss else None,  # the last log line's loss, not one step's
        "final_train_loss_steps": [loss.first_step, loss.last_step] if loss else None,  # what it is the mean of
        "best_val_loss": min((h["loss"] for h in history), default=None),
        "best_val_acc": max((h["acc"] for h in history), default=None),
        "seconds": round(seconds, 3),
        "tokens_per_second": round(tokens / train_seconds, 1) if train_seconds > 0 and tokens else None,
        "peak_ram_mb": peak_ram_mb(),
        "peak_gpu_mb": peak_gpu_mb(),
        "resumed_from_step": module.resumed_from_step,
        "lora_modules": list(targets.present),
        "missing_lora_modules": list(targets.missing),
    }


def _dtypes(precision: str, on_gpu: bool):
    """(base weights dtype name, LoRA weights torch dtype or None = same as base)."""
    import torch

    if precision == "16-mixed" and not on_gpu:
        raise PawError("precision = '16-mixed' — expected a GPU; on CPU use 32 or bf16-mixed")
    if precision == "bf16-true":
        return "bfloat16", None
    if on_gpu and precision == "bf16-mixed":
        return "bfloat16", torch.float32  # frozen base in bf16 halves memory; LoRA stays fp32 for the optimizer
    if on_gpu and precision == "16-mixed":
        return "float16", torch.float32
    return "float32", torch.float32


def _strategy(setup: TrainSetup, peft_model, on_gpu: bool):
    if setup.strategy == "fsdp":
        if not on_gpu:
            raise PawError("strategy = 'fsdp' — expected GPUs (Lightning's FSDP is GPU-only); on CPU use ddp or auto")
        from lightning.pytorch.strategies import FSDPStrategy
        from peft.utils.other import fsdp_auto_wrap_policy

        # LoRA leaves wrapped apart from the frozen base: one unit mixing bf16 and fp32 tensors cannot be flattened.
        return FSDPStrategy(auto_wrap_policy=fsdp_auto_wrap_policy(peft_model), use_orig_params=True)
    if setup.strategy == "ddp" or (setup.strategy == "auto" and setup.devices > 1):
        from lightning.pytorch.strategies import DDPStrategy

        return DDPStrategy(find_unused_parameters=False)
    return "auto"
