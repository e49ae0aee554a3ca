"""`paw train`: train a LoRA on one base model with the same library call the pipeline's training stage uses.

    paw train --model DIR --dataset NAME [--data-path PATH] --out DIR [--max-steps N] [--batch-size N] [--lr X]
              [--prompt-style cloze|letter] [--precision P] [--devices N] [--strategy S] [--params PATH|none]

Everything not given on the command line comes from the params file (its `env` block for machine values): --params
PATH, else ./params.yaml when there is one, else the built-in defaults (also with `--params none`). Which one is in
force is printed on stderr first, since a params.yaml in the current directory changes the run.
Writes OUT/adapter/ (PEFT adapter), OUT/metrics.json, OUT/dvclive/, and keeps OUT/checkpoints/ so that rerunning
the same command resumes.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from paw.config.load import parse_params, read_yaml
from paw.config.origins import given_flags
from paw.errors import PawError
from paw.models import resolve_model_dir
from paw.training.from_params import train_from_params

DEFAULT_PARAMS = Path("params.yaml")  # read from the current directory when --params is not given
# Used only when there is no params.yaml: a machine block with the shared defaults.
DEFAULT_PROFILE = {
    "models_dir": ".", "source_model": "", "target_model": "", "train_batch_size": 8, "max_steps": 100,
    "eval_sample_ratio": 1.0, "eval_batch_size": 8,
}  # fmt: skip


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("train", help="train a LoRA adapter on a base model")
    parser.add_argument("--model", required=True, help="base model directory (or a name under models_dir)")
    parser.add_argument("--dataset", required=True, help="task name, e.g. arc-challenge, piqa, toy-facts")
    parser.add_argument("--data-path", help="local data: a directory of <split>.jsonl files or one file")
    parser.add_argument("--out", required=True, help="output directory (adapter/, metrics.json, dvclive/, checkpoints/)")
    parser.add_argument("--max-steps", type=int, help="optimizer steps")
    parser.add_argument("--batch-size", type=int, help="sequences per device per micro-batch")
    parser.add_argument("--lr", type=float, help="peak learning rate")
    parser.add_argument("--prompt-style", choices=("cloze", "letter"), help="prompt style (training and evaluation)")
    parser.add_argument("--precision", choices=("32", "bf16-mixed", "16-mixed", "bf16-true"))
    parser.add_argument("--devices", type=int, help="processes (GPUs, or CPU processes with --strategy ddp)")
    parser.add_argument("--strategy", choices=("auto", "ddp", "fsdp"))
    parser.add_argument("--params", metavar="PATH|none",
                        help="params file for everything else (default: ./params.yaml if there is one); "
                        "none: the built-in defaults whatever is there")
    parser.set_defaults(func=_train)


# argparse dest -> the key of the env block its value fills (errors about it then name the flag, see origins).
ENV_KEYS = {
    "dataset": "dataset", "data_path": "data_path", "max_steps": "max_steps", "batch_size": "train_batch_size",
    "lr": "lr", "precision": "precision", "devices": "devices", "strategy": "strategy",
}  # fmt: skip


def flag_keys(env: str) -> dict[str, str | tuple[str, ...]]:
    return {dest: f"envs.{env}.{key}" for dest, key in ENV_KEYS.items()} | {
        "prompt_style": ("train.prompt_style", "eval.prompt_style")}


def params_for_cli(args: argparse.Namespace):
    """params.yaml (or the defaults) with the command line's values put in the keys the library reads, and the
    FlagOrigins that names those values by their flags in errors."""
    path = params_path(args.params)
    raw = read_yaml(path) if path is not None else {"env": "cli", "envs": {"cli": dict(DEFAULT_PROFILE)}}
    env = raw.get("env") if isinstance(raw, dict) else None
    profile = raw.get("envs", {}).get(env) if isinstance(raw.get("envs"), dict) else None
    if isinstance(profile, dict):  # an unknown env is reported by parse_params below
        overrides = {key: getattr(args, dest) for dest, key in ENV_KEYS.items()}
        profile.update({k: v for k, v in overrides.items() if v is not None})
        profile["data_path"] = args.data_path  # a dataset named here is read from here (or the hub), not data/toy
    data = raw.setdefault("data", {})
    data.update(data_path=args.data_path, train_datasets=[])
    if args.prompt_style:
        raw.setdefault("train", {})["prompt_style"] = args.prompt_style
        raw.setdefault("eval", {})["prompt_style"] = args.prompt_style
    origins = given_flags(vars(args), flag_keys(env if isinstance(env, str) else "cli"))
    with origins.named_in_errors():
        return parse_params(raw, source=str(path) if path is not None else "defaults"), origins


def params_path(flag: str | None) -> Path | None:
    """The params file in force, or None for the built-in defaults."""
    if flag == "none":
        return None
    if flag is None:
        return DEFAULT_PARAMS if DEFAULT_PARAMS.is_file() else None
    if not Path(flag).is_file():
        raise PawError(f"--params {flag}: file not found — expected a params file, or none for the built-in defaults")
    return Path(flag)


def params_line(flag: str | None, env: str) -> str:
    path = params_path(flag)
    return "params: none (built-in defaults)" if path is None else f"params: {path} (env {env})"


def _train(args: argparse.Namespace) -> int:
    params, origins = params_for_cli(args)
    if os.environ.get("LOCAL_RANK", "0") == "0":
        print(params_line(args.params, params.env), file=sys.stderr, flush=True)
    model_dir = resolve_model_dir(args.model, params.profile.models_dir)
    out = Path(args.out)
    created = not out.exists()
    try:
        with origins.named_in_errors():
            metrics = train_from_params(params, model_dir, out / "adapter", out, out / "checkpoints")
    except BaseException:
        if created and out.is_dir() and not any(out.iterdir()):
            out.rmdir()  # a failed first run leaves no output directory behind
        raise
    if os.environ.get("LOCAL_RANK", "0") == "0":  # the other processes of a multi-device run stay quiet
        print(f"wrote {out / 'adapter'} ({metrics['steps']} steps, final loss {_final_loss(metrics)})")
    return 0


def _final_loss(metrics: dict) -> str:
    """The last logging window's mean, named as such: the same number the log's last line and DVCLive show."""
    loss, steps = metrics["final_train_loss"], metrics.get("final_train_loss_steps")
    if loss is None:
        return "-"
    return f"{loss:.4f}" + (f" (mean of steps {steps[0]}-{steps[1]})" if steps else "")
