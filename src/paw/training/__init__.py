"""LoRA training: a causal LM plus PEFT LoRA, trained with Lightning on a task's answers, saved as a PEFT adapter.

`paw.training.from_params.train_from_params` is what the pipeline stage calls; `paw.training.run.train_lora` (with
its `TrainSetup`) is the lower-level entry the CLI, distillation and tests use. This package module imports
nothing: reading params imports `paw.training.params`, which must not load torch or Lightning.
"""
