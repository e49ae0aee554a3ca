"""`shared_token_maps`: residual-stream maps between the source and the target fitted by least squares on the input
embeddings of tokens both vocabularies contain (matched by token string, with the "Ġ"/"▁" word-start markers
unified)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from paw.errors import PawError
from paw.transfer.ridge import relative_residual, ridge_map

if TYPE_CHECKING:
    import torch

    from paw.transfer.context import TransferContext

WORD_START = ("Ġ", "▁")


def _normal_token(token: str) -> str:
    for marker in WORD_START:
        if token.startswith(marker):
            return " " + token[len(marker):]
    return token


@dataclass
class ResidualMaps:
    forward: "torch.Tensor"  # d_t × d_s: source residual vector -> target residual vector
    backward: "torch.Tensor"  # d_s × d_t: target -> source
    shared_tokens: int
    residual: float  # ‖Es·Wx − Et‖/‖Et‖ on the shared tokens


def shared_token_maps(ctx: "TransferContext", ridge: float) -> ResidualMaps:
    import torch

    vocab_s = {_normal_token(t): i for t, i in ctx.tokenizer("source").get_vocab().items()}
    vocab_t = {_normal_token(t): i for t, i in ctx.tokenizer("target").get_vocab().items()}
    common = sorted(set(vocab_s) & set(vocab_t))
    emb_s, emb_t = ctx.base("source").input_embeddings(), ctx.base("target").input_embeddings()
    common = [t for t in common if vocab_s[t] < emb_s.shape[0] and vocab_t[t] < emb_t.shape[0]]
    if len(common) < 2:
        raise PawError(
            f"{ctx.source_dir.name} and {ctx.target_dir.name} share {len(common)} tokens — an embedding-fitted "
            "map needs shared tokens; use transfer.method: activation"
        )
    rows_s = torch.tensor([vocab_s[t] for t in common])
    rows_t = torch.tensor([vocab_t[t] for t in common])
    wx = ridge_map(emb_s, emb_t, ridge, rows_s, rows_t)  # d_s × d_t, row form: es @ wx ≈ et
    wy = ridge_map(emb_t, emb_s, ridge, rows_t, rows_s)
    residual = relative_residual(emb_s, emb_t, wx, rows_s, rows_t)
    return ResidualMaps(forward=wx.T.contiguous(), backward=wy.T.contiguous(), shared_tokens=len(common),
                        residual=residual)
