"""Training engine: a LoRA on one base, trained by Lightning on lm-eval's encoding of the task's gold answers (or
on another objective, as distillation's), resumable, with DVCLive logs and a PEFT adapter whose config is
byte-stable.

    from paw.training.api import TrainSetup, train_from_params, train_lora
    metrics = train_from_params(params, model_dir, adapter_out, report_dir, checkpoint_dir)   # the pipeline's
    metrics = train_lora(model_dir, pairs, val_items, adapter_out, report_dir, checkpoint_dir,
                         TrainSetup.from_params(params).replace(max_steps=10))

`TrainSetup` holds every setting that decides the trained weights; records.py the metrics file it writes.
"""

from paw.training.from_params import train_from_params, training_data
from paw.training.records import read_train_metrics, write_train_metrics
from paw.training.run import TrainSetup, train_lora

__all__ = ["TrainSetup", "read_train_metrics", "train_from_params", "train_lora", "training_data",
           "write_train_metrics"]
