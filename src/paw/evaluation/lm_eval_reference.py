"""Run lm-eval 0.4.13 in-process on a local model dir and local JSONL rows: the reference PAW's scores must match
(used by the parity tests and benchmarks/eval_throughput.py; needs the `lm-eval` test extra).

A task YAML written next to the rows includes lm-eval's own task file and only swaps the data source
(`dataset_path: json`, `dataset_kwargs: {data_files: ...}`), so prompts and metrics are lm-eval's.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from paw.data import get_task
from paw.errors import PawError


def lm_eval_source(task: str) -> tuple[str, str]:
    """(the task file under lm_eval/tasks, the split key lm-eval evaluates) of PAW's task, from its class."""
    spec = get_task(task)
    if spec.lm_eval_task is None:
        raise PawError(f"dataset = {spec.name!r} has no lm-eval 0.4.13 task to compare with")
    return spec.lm_eval_task, f"{spec.default_split}_split"


def write_task_yaml(task: str, rows: list[dict], work_dir: Path) -> str:
    import lm_eval

    source, split_key = lm_eval_source(task)
    work_dir.mkdir(parents=True, exist_ok=True)
    data = work_dir / f"{task}.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    name = f"paw_ref_{task.replace('-', '_')}"
    include = Path(lm_eval.__file__).parent / "tasks" / source
    lines = [
        f"include: {include}",
        f"task: {name}",
        "tag: []",
        "dataset_path: json",
        "dataset_name: null",
        f"dataset_kwargs: {{data_files: {{eval: {json.dumps(str(data))}}}}}",
        "training_split: null",
        "validation_split: null",
        "test_split: null",
        f"{split_key}: eval",
    ]
    (work_dir / f"{name}.yaml").write_text("\n".join(lines) + "\n")
    return name


def lm_eval_loglikelihoods(model_dir: Path, task: str, rows: list[dict], work_dir: Path, batch_size: int = 8,
                           dtype: str = "float32", peft: Path | None = None) -> tuple[list[list[float]], dict]:
    """Per-item, per-choice loglikelihoods (in row order) and lm-eval's metrics dict for the task."""
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from lm_eval import simple_evaluate
    from lm_eval.tasks import TaskManager

    name = write_task_yaml(task, rows, work_dir)
    model_args = f"pretrained={model_dir},dtype={dtype}"
    if peft is not None:
        model_args += f",peft={peft}"
    results = simple_evaluate(
        model="hf", model_args=model_args, tasks=[name], device="cpu", batch_size=batch_size,
        task_manager=TaskManager(include_path=str(work_dir), include_defaults=False), log_samples=True,
        num_fewshot=0, random_seed=0, numpy_random_seed=0, torch_random_seed=0, fewshot_random_seed=0,
    )
    samples = sorted(results["samples"][name], key=lambda s: s["doc_id"])
    lls = [[float(resp[0]) for resp in s["filtered_resps"]] for s in samples]
    return lls, results["results"][name]
