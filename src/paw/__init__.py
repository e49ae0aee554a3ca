"""PAW: train a LoRA on a source base LLM, transfer it to a target base, and measure whether it helps."""

__version__ = "0.1.0"
