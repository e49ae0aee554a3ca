"""Build tiny Hugging Face models and tokenizers offline, for tests: Llama, Qwen2 (GQA, q/k/v bias), Gemma2.

The three differ in hidden size, layer count, head layout and vocabulary, so transfer across them is a real test.
Weights are random (seeded): enough for loading, scoring, training and transfer mechanics.
"""

from __future__ import annotations

import random
from pathlib import Path

WORDS = (
    "the a an of to in on at by for with from and or but not is are was were be been has have had do does did "
    "red blue green yellow black white small large old new cold warm bright dark river mountain forest city "
    "stone water fire wind light sound tree bird fish horse apple bread milk salt iron gold paper glass wood "
    "run walk swim fly grow fall rise turn open close push pull carry build break make take give find keep "
    "what which where when why how who question answer choice because therefore energy plant animal earth sun"
).split()


def corpus(seed: int, n_lines: int = 400) -> list[str]:
    rng = random.Random(seed)
    lines = []
    for _ in range(n_lines):
        words = [rng.choice(WORDS) for _ in range(rng.randint(4, 14))]
        words[0] = words[0].capitalize()
        lines.append(" ".join(words) + rng.choice([".", "?", "!", ","]))
    return lines


def train_tokenizer(out_dir: Path, vocab_size: int, seed: int, add_bos: bool) -> Path:
    """A byte-level BPE tokenizer; `add_bos` mirrors Llama/Gemma (BOS added) versus Qwen (nothing added)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    specials = ["<pad>", "<bos>", "<eos>"]
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(corpus(seed) * 3, trainer=trainer)
    if add_bos:
        tokenizer.post_processor = processors.TemplateProcessing(
            single="<bos> $A", pair="<bos> $A <bos> $B", special_tokens=[("<bos>", tokenizer.token_to_id("<bos>"))]
        )
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, bos_token="<bos>", eos_token="<eos>", pad_token="<pad>", add_bos_token=add_bos
    )
    fast.save_pretrained(out_dir)
    return out_dir


def build_model(arch: str, out_dir: Path, seed: int = 0, **overrides) -> Path:
    """Save a randomly initialised tiny model of `arch` ('llama', 'qwen2', 'gemma2') with its own tokenizer."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, Gemma2Config, LlamaConfig, Qwen2Config

    from paw.models import quiet_hf

    quiet_hf()
    spec = dict(TINY_SPECS[arch])
    spec.update(overrides)
    vocab, add_bos, tok_seed = spec.pop("vocab"), spec.pop("add_bos"), spec.pop("tokenizer_seed")
    out_dir = Path(out_dir)
    train_tokenizer(out_dir, vocab, tok_seed, add_bos)
    tokenizer = AutoTokenizer.from_pretrained(out_dir)
    common = dict(
        vocab_size=len(tokenizer),
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        max_position_embeddings=256,
        tie_word_embeddings=False,
    )
    config_cls = {"llama": LlamaConfig, "qwen2": Qwen2Config, "gemma2": Gemma2Config}[arch]
    config = config_cls(**common, **spec)
    if arch == "gemma2":
        config._attn_implementation = "eager"
    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_config(config)
    # Default init (std 0.02) gives near-uniform predictions; a larger scale makes scores differ between choices.
    with torch.no_grad():
        for param in model.parameters():
            if param.dim() == 2:
                param.normal_(0.0, 0.3 / param.shape[1] ** 0.5 * 4)
    model.save_pretrained(out_dir, safe_serialization=True)
    return out_dir


TINY_SPECS = {
    "llama": dict(
        vocab=320, add_bos=True, tokenizer_seed=1, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=4,
    ),
    "qwen2": dict(
        vocab=300, add_bos=False, tokenizer_seed=2, hidden_size=48, intermediate_size=96, num_hidden_layers=3,
        num_attention_heads=6, num_key_value_heads=2,
    ),
    "gemma2": dict(
        vocab=340, add_bos=True, tokenizer_seed=3, hidden_size=80, intermediate_size=160, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, head_dim=16, query_pre_attn_scalar=16, sliding_window=64,
    ),
}
