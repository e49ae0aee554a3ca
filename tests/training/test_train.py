"""LoRA training end to end on tiny models: loss falls, the adapter reloads exactly, resume equals uninterrupted,
every output reports the same training loss, the first loss is pinned, errors are clear, logs stay concise."""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from paw.errors import PawError
from tests.params_files import write_params
from tests.training.conftest import synthetic_items, synthetic_pairs


def _train(model_dir, out: Path, setup, **kwargs):
    from paw.training.run import train_lora

    return train_lora(
        model_dir, synthetic_pairs(), synthetic_items(), out / "adapter", out / "report", out / "ckpt", setup, **kwargs
    )


def _train_loss_rows(report_dir: Path) -> list[tuple[int, float]]:
    """(step, loss) per row of DVCLive's train/loss.tsv."""
    lines = (report_dir / "dvclive/plots/metrics/train/loss.tsv").read_text().splitlines()[1:]
    return [(int(step), float(loss)) for step, loss in (line.split("\t") for line in lines)]


def _val_loss_of_saved_adapter(model_dir, adapter_dir, max_length=512) -> float:
    """Validation loss recomputed from the adapter on disk, through PEFT's own loading path."""
    from peft import PeftModel

    from paw.models import load_model, load_tokenizer
    from paw.training.examples import choice_sequences, collate_choices
    from paw.training.lora import sequence_logprobs

    tok = load_tokenizer(model_dir)
    model = PeftModel.from_pretrained(load_model(model_dir), str(adapter_dir)).eval()
    batch = collate_choices(choice_sequences(tok, synthetic_items(), max_length), tok.pad_token_id)
    with torch.no_grad():
        sums, counts = sequence_logprobs(model, batch)
    gold = batch["gold"]
    return float(-sums[gold].sum() / counts[gold].sum())


@pytest.mark.parametrize("arch", ["llama", "qwen2", "gemma2"])
def test_training_lowers_loss_and_saved_adapter_reloads_identically(arch, tiny_models, tmp_path, fast_setup):
    metrics = _train(tiny_models[arch], tmp_path, fast_setup)
    history = json.loads((tmp_path / "report" / "metrics.json").read_text())
    assert history == json.loads(json.dumps(metrics))
    assert metrics["steps"] == 10 and metrics["tokens_per_second"] > 0 and metrics["peak_ram_mb"] > 0
    losses = [float(line.split("\t")[1]) for line in (tmp_path / "report/dvclive/plots/metrics/val/loss.tsv")
              .read_text().splitlines()[1:]]  # fmt: skip
    initial = _val_loss_of_untrained(tiny_models[arch])
    assert losses[-1] < initial - 0.1, (initial, losses)
    # The final validation ran on the final weights: the reloaded adapter must give the same loss.
    assert _val_loss_of_saved_adapter(tiny_models[arch], tmp_path / "adapter") == pytest.approx(losses[-1], abs=1e-5)
    config = json.loads((tmp_path / "adapter" / "adapter_config.json").read_text())
    assert config["base_model_name_or_path"] == arch and config["target_modules"] == sorted(config["target_modules"])
    assert not (tmp_path / "adapter" / "README.md").exists()


def _val_loss_of_untrained(model_dir) -> float:
    from paw.models import load_model, load_tokenizer
    from paw.training.examples import choice_sequences, collate_choices
    from paw.training.lora import sequence_logprobs

    tok = load_tokenizer(model_dir)
    batch = collate_choices(choice_sequences(tok, synthetic_items(), 512), tok.pad_token_id)
    with torch.no_grad():
        sums, counts = sequence_logprobs(load_model(model_dir), batch)
    return float(-sums[batch["gold"]].sum() / counts[batch["gold"]].sum())


def test_answer_only_head_equals_full_forward(tiny_gemma2):
    """Scores from the head on answer positions only equal those of the model's own full forward (incl. Gemma-2's
    logit soft-capping)."""
    from paw.models import load_model, load_tokenizer
    from paw.training.examples import choice_sequences, collate_choices
    from paw.training.lora import sequence_logprobs

    tok, model = load_tokenizer(tiny_gemma2), load_model(tiny_gemma2)
    batch = collate_choices(choice_sequences(tok, synthetic_items(2), 512), tok.pad_token_id)
    with torch.no_grad():
        sums, _ = sequence_logprobs(model, batch)
        logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits.float()
    logprobs = torch.log_softmax(logits, -1)
    mask = batch["targets"] != -100
    picked = logprobs.gather(-1, batch["targets"].clamp(min=0).unsqueeze(-1)).squeeze(-1) * mask
    assert torch.allclose(sums, picked.sum(1), atol=1e-4)


class _Interrupt(Exception):
    pass


@pytest.mark.parametrize("grad_accum", [1, 2])
def test_resume_after_interruption_gives_the_same_adapter(tiny_llama, tmp_path, fast_setup, grad_accum):
    from lightning.pytorch.callbacks import Callback

    class StopAtStep7(Callback):
        def on_train_batch_end(self, trainer, *args):
            if trainer.global_step == 7:
                raise _Interrupt

    # Logging every 4 steps, the checkpoint at step 5 holds an open loss window (steps 5-8).
    train = dataclasses.replace(fast_setup.train, log_every_n_steps=4)
    setup = fast_setup.replace(max_steps=12, grad_accum=grad_accum, batch_size=8 // grad_accum, train=train)
    straight = _train(tiny_llama, tmp_path / "straight", setup)
    with pytest.raises(_Interrupt):
        _train(tiny_llama, tmp_path / "resumed", setup, extra_callbacks=[StopAtStep7()])
    assert not (tmp_path / "resumed" / "adapter").exists()  # nothing half-written
    assert (tmp_path / "resumed" / "ckpt" / "last.ckpt").is_file()
    resumed = _train(tiny_llama, tmp_path / "resumed", setup)
    assert resumed["resumed_from_step"] == 5
    a = load_file(tmp_path / "straight" / "adapter" / "adapter_model.safetensors")
    b = load_file(tmp_path / "resumed" / "adapter" / "adapter_model.safetensors")
    assert a.keys() == b.keys() and all(torch.allclose(a[k], b[k], atol=1e-6) for k in a)
    assert resumed["best_val_loss"] == pytest.approx(straight["best_val_loss"], abs=1e-6)
    rows, straight_rows = (_train_loss_rows(tmp_path / run / "report") for run in ("resumed", "straight"))
    assert [step for step, _ in rows] == [step for step, _ in straight_rows] == [4, 8, 12]
    assert [loss for _, loss in rows] == pytest.approx([loss for _, loss in straight_rows], abs=1e-6)
    assert resumed["final_train_loss"] == pytest.approx(straight["final_train_loss"], abs=1e-6)
    # A checkpoint made from other inputs is not resumed.
    changed = _train(tiny_llama, tmp_path / "resumed", setup.replace(lr=1.0e-3))
    assert changed["resumed_from_step"] is None


# The first logged training loss of each tiny model (logging every step, so step 1 alone) on synthetic_pairs,
# seed 0, 8 sequences per batch, float32 on CPU. LoRA's B starts at zero, so it is the base model's mean
# negative log-likelihood per answer token on the first seeded batch: it moves when the loss definition, the
# encoding of (context, answer) or the answer-token mask changes. Recorded from this test's train/loss.tsv; the
# same values come from answer_loss(base model, StepBatches(examples, 8, seed=0, pad_id).batch(0)) by hand.
GOLDEN_FIRST_LOSS = {"llama": 6.678728, "qwen2": 6.118034, "gemma2": 6.928274}


@pytest.mark.parametrize("arch", ["llama", "qwen2", "gemma2"])
def test_first_logged_loss_is_the_recorded_one(arch, tiny_models, tmp_path, fast_setup):
    from paw.training.run import train_lora

    setup = fast_setup.replace(max_steps=2, train=dataclasses.replace(fast_setup.train, log_every_n_steps=1))
    report = tmp_path / "report"
    train_lora(tiny_models[arch], synthetic_pairs(), [], tmp_path / "adapter", report, tmp_path / "ckpt", setup)
    rows = _train_loss_rows(report)
    assert [step for step, _ in rows] == [1, 2]
    assert rows[0][1] == pytest.approx(GOLDEN_FIRST_LOSS[arch], abs=1e-4), rows


def _paw_train(*argv: str) -> int:
    """`paw train …` in this process, so that capsys sees its log lines and closing line."""
    import paw.cli.train as train

    parser = argparse.ArgumentParser(prog="paw")
    train.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["train", *argv])
    return args.func(args)


def test_every_output_reports_the_same_window_mean_loss(tiny_llama, tmp_path, toy_arc, capsys):
    params = write_params(tmp_path / "params.yaml", profile={"max_steps": 12}, lora={"r": 2},
                          train={"log_every_n_steps": 5, "val_every_n_steps": 50, "checkpoint_every_n_steps": 50})
    out = tmp_path / "out"
    assert _paw_train("--model", str(tiny_llama), "--dataset", "arc-challenge", "--data-path", str(toy_arc),
                      "--out", str(out), "--lr", "1e-3", "--params", str(params)) == 0  # fmt: skip
    printed = capsys.readouterr().out
    lines = re.findall(r"^step (\d+)/12  loss (\d+\.\d{4}) \(mean of steps (\d+)-(\d+)\)", printed, re.M)
    assert [(int(step), int(first), int(last)) for step, _, first, last in lines] == [(5, 1, 5), (10, 6, 10),
                                                                                      (12, 11, 12)], printed
    rows = _train_loss_rows(out)
    assert [step for step, _ in rows] == [5, 10, 12]  # one point per log line, at its step
    assert [loss for _, loss in rows] == pytest.approx([float(loss) for _, loss, _, _ in lines], abs=5e-5)
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["final_train_loss"] == rows[-1][1] and metrics["final_train_loss_steps"] == [11, 12]
    closing = re.search(r"final loss (\d+\.\d+) \(mean of steps 11-12\)", printed)
    assert closing and float(closing[1]) == pytest.approx(metrics["final_train_loss"], abs=5e-5), printed


def test_missing_target_modules_are_reported(tiny_llama, tmp_path, fast_setup):
    from paw.training.params import LoraParams

    setup = fast_setup.replace(lora=LoraParams(r=2, target_modules=("q_proj", "c_attn")), max_steps=2)
    metrics = _train(tiny_llama, tmp_path, setup)
    assert metrics["lora_modules"] == ["q_proj"] and metrics["missing_lora_modules"] == ["c_attn"]
    with pytest.raises(PawError, match="none is a Linear module"):
        _train(tiny_llama, tmp_path / "none", fast_setup.replace(lora=LoraParams(target_modules=("c_attn",))))


def test_nan_loss_names_the_step(tiny_llama, tmp_path, fast_setup):
    from safetensors.torch import save_file

    broken = tmp_path / "broken"
    broken.mkdir()
    for f in tiny_llama.iterdir():
        (broken / f.name).write_bytes(f.read_bytes())
    weights = load_file(broken / "model.safetensors")
    weights["lm_head.weight"][0, 0] = float("nan")
    save_file(weights, str(broken / "model.safetensors"), metadata={"format": "pt"})
    with pytest.raises(PawError, match="at step 1"):
        _train(broken, tmp_path / "out", fast_setup)
    assert not (tmp_path / "out" / "adapter").exists()


def test_swanlab_cloud_without_key_fails_before_training(tiny_llama, tmp_path, fast_setup, monkeypatch):
    from paw.training.params import SwanlabParams, TrackingParams

    monkeypatch.delenv("SWANLAB_API_KEY", raising=False)
    setup = fast_setup.replace(tracking=TrackingParams(swanlab=SwanlabParams(mode="cloud")))
    with pytest.raises(PawError, match="SWANLAB_API_KEY"):
        _train(tiny_llama, tmp_path, setup)


CLI = """
import argparse, sys
from paw.cli import run_guarded
import paw.cli.train as train
parser = argparse.ArgumentParser(prog="paw")
train.register(parser.add_subparsers(dest="command", required=True))
args = parser.parse_args(sys.argv[1:])
sys.exit(run_guarded(lambda: args.func(args)))
"""


def run_cli(tmp_path: Path, *argv: str, timeout: int = 300) -> subprocess.CompletedProcess:
    """`paw train …` in a child process with stdout/stderr going to pipes (not a TTY), as in a log file."""
    script = tmp_path / "paw_train.py"
    script.write_text(CLI)
    return subprocess.run(
        [sys.executable, str(script), "train", *argv], capture_output=True, text=True, timeout=timeout, cwd=tmp_path
    )


@pytest.fixture
def toy_arc(tmp_path):
    """A small ARC-schema dataset (train + validation) the tiny models can learn from."""
    words = ("red", "blue", "green", "water", "fire", "tree", "bird", "fish")
    data = tmp_path / "toy_arc"
    data.mkdir()
    for split, n in (("train", 48), ("validation", 8)):
        with (data / f"{split}.jsonl").open("w") as f:
            for i in range(n):
                row = {"id": f"{split}{i}", "question": f"what is the {i % 8} thing?", "answerKey": "A",
                       "choices": {"text": [words[i % 8], words[(i + 3) % 8]], "label": ["A", "B"]}}  # fmt: skip
                f.write(json.dumps(row) + "\n")
    return data


@pytest.mark.slow
def test_cli_log_is_concise_without_a_terminal(tiny_llama, tmp_path, toy_arc):
    params = write_params(tmp_path / "params.yaml", profile={"max_steps": 100}, lora={"r": 2},
                          train={"log_every_n_steps": 10, "val_every_n_steps": 50, "checkpoint_every_n_steps": 50})
    result = run_cli(
        tmp_path, "--model", str(tiny_llama), "--dataset", "arc-challenge", "--data-path", str(toy_arc),
        "--out", str(tmp_path / "out"), "--lr", "1e-3", "--params", str(params),
    )  # fmt: skip
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "\r" not in output
    lines = output.strip().splitlines()
    assert len(lines) < 30, output
    assert sum(line.startswith("step ") and "tok/s" in line and "ETA" in line for line in lines) == 10, output
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert metrics["steps"] == 100 and metrics["train_sources"] == ["arc-challenge:train (48 rows)"]
    assert metrics["val_items"] == 8
    assert (tmp_path / "out" / "adapter" / "adapter_model.safetensors").is_file()
    assert (tmp_path / "out" / "dvclive" / "plots" / "metrics" / "train" / "loss.tsv").is_file()


def test_cli_rejects_a_missing_dataset_in_one_line(tiny_llama, tmp_path):
    result = run_cli(tmp_path, "--model", str(tiny_llama), "--dataset", "arc-challenge", "--data-path",
                     str(tmp_path / "nowhere"), "--out", str(tmp_path / "out"), "--params", "none")  # fmt: skip
    assert result.returncode == 2
    params_line, error = result.stderr.strip().splitlines()
    assert params_line == "params: none (built-in defaults)" and "nowhere" in error
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_ddp_on_two_cpu_processes_writes_one_adapter(tiny_llama, tmp_path, toy_arc):
    params = write_params(tmp_path / "params.yaml", profile={"max_steps": 6}, lora={"r": 2},
                          train={"checkpoint_every_n_steps": 3, "val_every_n_steps": 3})
    result = run_cli(
        tmp_path, "--model", str(tiny_llama), "--dataset", "arc-challenge", "--data-path", str(toy_arc),
        "--out", str(tmp_path / "out"), "--max-steps", "6", "--batch-size", "2", "--lr", "1e-3",
        "--devices", "2", "--strategy", "ddp", "--params", str(params),
    )  # fmt: skip
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    adapters = list((tmp_path / "out").rglob("adapter_model.safetensors"))
    assert adapters == [tmp_path / "out" / "adapter" / "adapter_model.safetensors"], output
    assert output.count("wrote ") == 1, output
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert metrics["steps"] == 6 and metrics["world_size"] == 2 and metrics["best_val_acc"] is not None
    assert not (tmp_path / "out" / "checkpoints").exists()  # a finished run leaves nothing to resume
    assert not list((tmp_path / "out").rglob(".tmp-*"))


def test_fsdp_and_16_mixed_need_a_gpu(tiny_llama, tmp_path, fast_setup):
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    with pytest.raises(PawError, match="strategy = 'fsdp'"):
        _train(tiny_llama, tmp_path / "fsdp", fast_setup.replace(strategy="fsdp", devices=2))
    with pytest.raises(PawError, match="16-mixed"):
        _train(tiny_llama, tmp_path / "fp16", fast_setup.replace(precision="16-mixed"))
