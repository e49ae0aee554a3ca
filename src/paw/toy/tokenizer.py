"""The toy world's tokenizer: a byte-level BPE trained on the corpus, shared by every toy model.

Trained with the `tokenizers` library and saved as a Hugging Face fast tokenizer that adds BOS (like Llama), so the
toy models load and score exactly like real ones. The vocabulary is large enough for every corpus word to become
one token; the question templates are added to the training text so "Question:" / "Answer:" tokenise compactly
(the corpus itself never contains them).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from paw.toy.world import ATTRIBUTES

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerFast

SPECIAL_TOKENS = ("<pad>", "<bos>", "<eos>", "<unk>")
VOCAB_LIMIT = 4000  # an upper bound: training stops when the corpus offers no more merges


def train_tokenizer(lines: list[str]) -> "PreTrainedTokenizerFast":
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=VOCAB_LIMIT,
        special_tokens=list(SPECIAL_TOKENS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    templates = [f"Question: {a.question}\nAnswer:" for a in ATTRIBUTES]
    tokenizer.train_from_iterator(sorted(set(lines)) + templates * 10, trainer=trainer)
    bos = tokenizer.token_to_id("<bos>")
    tokenizer.post_processor = processors.TemplateProcessing(
        single="<bos> $A", pair="<bos> $A <bos> $B", special_tokens=[("<bos>", bos)]
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        bos_token="<bos>",
        eos_token="<eos>",
        pad_token="<pad>",
        unk_token="<unk>",  # named, or a Qwen2-style loader adds its own "<|endoftext|>" and the vocabularies differ
        add_bos_token=True,
    )
