"""Maps between the source's and the target's spaces, and the activation statistics they are fitted on.

- `shared_token_maps`: residual-stream maps fitted by least squares on the input embeddings of tokens both
  vocabularies contain (matched by token string, with the "Ġ"/"▁" word-start markers unified).
- `paired_activations`: both bases run on the same probe texts; positions are paired where both tokenizers end a
  token at the same character, so different vocabularies still give row-aligned activation matrices.
- `ridge_map`, `RidgeFit`, `cka_layer_map`: fitting and layer matching on those activations.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from paw.errors import PawError
from paw.transfer.layout import depth_layer_map, ordered_best_matching, parse_path

if TYPE_CHECKING:
    import torch

    from paw.transfer.context import TransferContext

WORD_START = ("Ġ", "▁")
# Layer matching needs a stable similarity score, not full-rank fits; every position it reads costs a pass of both
# bases through all their layers, so a run for layer matching alone (no module paths) reads at most this many.
MATCH_POSITIONS = 1024


def _normal_token(token: str) -> str:
    for marker in WORD_START:
        if token.startswith(marker):
            return " " + token[len(marker):]
    return token


def ridge_map(x: "torch.Tensor", y: "torch.Tensor", ridge: float) -> "torch.Tensor":
    """M minimising ‖X·M − Y‖² + λ‖M‖², λ = ridge · mean squared singular value of X (so `ridge` is unit-free)."""
    import torch

    x, y = x.double(), y.double()
    n, p = x.shape
    lam = ridge * float((x * x).sum()) / max(1, min(n, p))
    if n >= p:
        gram = x.T @ x + lam * torch.eye(p, dtype=x.dtype)
        return torch.linalg.solve(gram, x.T @ y).float()
    gram = x @ x.T + lam * torch.eye(n, dtype=x.dtype)
    return (x.T @ torch.linalg.solve(gram, y)).float()


class RidgeFit:
    """The ridge solution M (p×q) of X·M ≈ Y, kept implicit: M·v and Mᵀ·v are applied without forming M, which
    for MLP widths (14k × 19k) would cost gigabytes. Primal form when n ≥ p, dual (kernel) form otherwise."""

    def __init__(self, x: "torch.Tensor", y: "torch.Tensor", ridge: float) -> None:
        import torch

        # X and Y stay as given (float32, shared with the activations); products are formed in float64 as needed.
        # Holding float64 copies of every module's activations doubled a real carry's memory.
        self.x, self.y = x, y
        n, p = x.shape
        xd = x.double()
        lam = ridge * float((xd * xd).sum()) / max(1, min(n, p))
        self.primal = n >= p
        gram = xd.T @ xd if self.primal else xd @ xd.T
        del xd
        # The dual Gram matrix (n×n, but n·n·p to form) is kept for r_squared's predictions.
        self.kernel = None if self.primal else gram
        eye = torch.eye(gram.shape[0], dtype=gram.dtype)
        jitter = 1e-12 * float(gram.diagonal().mean()) + 1e-300
        while True:  # rank-deficient activations at (near) zero ridge: add the least jitter that factorises
            factor, info = torch.linalg.cholesky_ex(gram + (lam + jitter) * eye)
            if int(info) == 0:
                break
            jitter *= 100
        self.factor = factor

    def _solve(self, rhs: "torch.Tensor") -> "torch.Tensor":
        import torch

        return torch.cholesky_solve(rhs, self.factor)

    def m_times(self, v: "torch.Tensor") -> "torch.Tensor":
        """M·v for v in Y's space (q×r) -> X's space (p×r)."""
        v, x, y = v.double(), self.x.double(), self.y.double()
        if self.primal:
            return self._solve(x.T @ (y @ v)).float()
        return (x.T @ self._solve(y @ v)).float()

    def mt_times(self, v: "torch.Tensor") -> "torch.Tensor":
        """Mᵀ·v for v in X's space (p×r) -> Y's space (q×r)."""
        v, x, y = v.double(), self.x.double(), self.y.double()
        if self.primal:
            return (y.T @ (x @ self._solve(v))).float()
        return (y.T @ self._solve(x @ v)).float()

    def r_squared(self, max_columns: int = 256) -> float:
        """Share of Y's variance the fit explains on the probe (on up to `max_columns` evenly spaced columns of Y,
        which keeps this cheap for MLP widths)."""
        step = max(1, self.y.shape[1] // max_columns)
        y = self.y[:, ::step].double()
        if self.primal:
            x = self.x.double()
            prediction = x @ self._solve(x.T @ y)
        else:
            prediction = self.kernel @ self._solve(y)
        residual = ((prediction - y) ** 2).sum()
        total = ((y - y.mean(0)) ** 2).sum().clamp_min(1e-12)
        return float(1 - residual / total)


@dataclass
class ResidualMaps:
    forward: "torch.Tensor"  # d_t × d_s: source residual vector -> target residual vector
    backward: "torch.Tensor"  # d_s × d_t: target -> source
    shared_tokens: int
    residual: float  # ‖Es·Wx − Et‖/‖Et‖ on the shared tokens


def shared_token_maps(ctx: "TransferContext", ridge: float) -> ResidualMaps:
    vocab_s = {_normal_token(t): i for t, i in ctx.tokenizer("source").get_vocab().items()}
    vocab_t = {_normal_token(t): i for t, i in ctx.tokenizer("target").get_vocab().items()}
    common = sorted(set(vocab_s) & set(vocab_t))
    emb_s = ctx.source_model.get_input_embeddings().weight.detach().float()
    emb_t = ctx.target_model.get_input_embeddings().weight.detach().float()
    common = [t for t in common if vocab_s[t] < emb_s.shape[0] and vocab_t[t] < emb_t.shape[0]]
    if len(common) < 2:
        raise PawError(
            f"{ctx.source_dir.name} and {ctx.target_dir.name} share {len(common)} tokens — an embedding-fitted "
            "map needs shared tokens; use transfer.method: activation"
        )
    es = emb_s[[vocab_s[t] for t in common]]
    et = emb_t[[vocab_t[t] for t in common]]
    wx = ridge_map(es, et, ridge)  # d_s × d_t, row form: es @ wx ≈ et
    wy = ridge_map(et, es, ridge)
    residual = float((es @ wx - et).norm() / et.norm().clamp_min(1e-12))
    return ResidualMaps(forward=wx.T.contiguous(), backward=wy.T.contiguous(), shared_tokens=len(common),
                        residual=residual)


def _end_positions(tokenizer, text: str, max_length: int) -> tuple[list[int], dict[int, int]]:
    encoded = tokenizer(text, return_offsets_mapping=True, truncation=True, max_length=max_length)
    ends = {}
    for position, (start, end) in enumerate(encoded["offset_mapping"]):
        if end > start:  # special tokens (BOS) have empty spans
            ends[end] = position
    return encoded["input_ids"], ends


@dataclass
class Activations:
    hidden_source: list["torch.Tensor"]  # per layer boundary (0 = embeddings), n × d_s
    hidden_target: list["torch.Tensor"]
    inputs: dict[tuple[str, str], "torch.Tensor"]  # (side, module path) -> n × in
    outputs: dict[tuple[str, str], "torch.Tensor"]
    positions: int


def paired_activations(ctx: "TransferContext", max_texts: int, max_length: int, max_positions: int,
                       source_paths: list[str], target_paths: list[str], hidden: bool = True,
                       wanted: set[tuple[str, str, str]] | None = None) -> Activations:
    """Run both bases over the probe texts, keeping positions where both tokenizers end a token at one char.

    Collects each listed module's inputs and outputs — or, given `wanted` ({("inputs"|"outputs", side, path)}),
    only those: modules that read one input (q/k/v) need it stored once, and on real models the activations are
    most of a carry's memory. With `hidden`, also the residual stream at every layer boundary. Without `hidden` a
    pass stops after the deepest layer holding a listed module. With no module paths (layer matching alone) at most
    MATCH_POSITIONS positions are read."""
    import torch

    if not source_paths and not target_paths:
        max_positions = min(max_positions, MATCH_POSITIONS)
    texts = ctx.probe_texts()[:max_texts]
    states_by_side: dict[str, list] = {"source": [], "target": []}
    keys = [("source", p) for p in source_paths] + [("target", p) for p in target_paths]
    inputs: dict[tuple[str, str], list] = {key: [] for key in keys}
    outputs: dict[tuple[str, str], list] = {key: [] for key in keys}
    total = 0
    for text in texts:
        ids_s, ends_s = _end_positions(ctx.tokenizer("source"), text, max_length)
        ids_t, ends_t = _end_positions(ctx.tokenizer("target"), text, max_length)
        shared = sorted(set(ends_s) & set(ends_t))[: max_positions - total]
        if not shared:
            continue
        runs = (("source", ids_s, ends_s, source_paths), ("target", ids_t, ends_t, target_paths))
        for side, ids, ends, paths in runs:
            keep = torch.tensor([ends[c] for c in shared])
            model = ctx.source_model if side == "source" else ctx.target_model
            states = _run_model(model, ids, keep, paths, side, inputs, outputs, hidden, wanted)
            if not states_by_side[side]:
                states_by_side[side] = [[] for _ in states]
            for bucket, state in zip(states_by_side[side], states):
                bucket.append(state)
        total += len(shared)
        if total >= max_positions:
            break
    if total < 2:
        raise PawError("the probe text gave fewer than 2 positions both tokenizers split alike — give more text")
    cat = lambda chunks: torch.cat(chunks, 0)  # noqa: E731
    return Activations(
        hidden_source=[cat(c) for c in states_by_side["source"]],
        hidden_target=[cat(c) for c in states_by_side["target"]],
        inputs={p: cat(c) for p, c in inputs.items() if c},
        outputs={p: cat(c) for p, c in outputs.items() if c},
        positions=total,
    )


class _DeepEnough(Exception):
    """Raised after the deepest layer a run needs, ending the forward pass there."""


def _run_model(model, ids: list[int], keep, paths: list[str], side: str, inputs: dict, outputs: dict,
               hidden: bool, wanted: set | None = None) -> list:
    """One forward pass over `ids`, appending the kept positions of each path's input and output (those `wanted`)
    to the buckets; returns the residual stream at each layer boundary (empty without `hidden`)."""
    import torch

    hidden_last: list = []
    hooks = [last_layer_hook(model, keep, hidden_last)] if hidden else []
    for path in paths:
        reshape = per_head_norm(model, path)
        want_in = wanted is None or ("inputs", side, path) in wanted
        want_out = wanted is None or ("outputs", side, path) in wanted

        def hook(module, args, out, key=(side, path), reshape=reshape, want_in=want_in, want_out=want_out):
            if want_in:
                inputs[key].append(args[0][0, keep].detach().float())
            if want_out:
                outputs[key].append(reshape(out[0, keep].detach().float()))
        hooks.append(model.get_submodule(path).register_forward_hook(hook))
    if not hidden and paths:
        hooks.append(_block(model, max(parse_path(p)[0] for p in paths)).register_forward_hook(_stop))
    try:
        # The decoder alone: hidden states are all that is needed, and a 262k-word output head is not.
        decoder = model.get_decoder() if hasattr(model, "get_decoder") else model
        with torch.no_grad():
            result = decoder(input_ids=torch.tensor([ids]), output_hidden_states=hidden, use_cache=False)
    except _DeepEnough:
        return []
    finally:
        for handle in hooks:
            handle.remove()
    if not hidden:
        return []
    # Hugging Face's last hidden state is after the final norm; layer matching needs the raw residual.
    return [h[0, keep].detach().float() for h in result.hidden_states[:-1]] + hidden_last


def _stop(module, args, out):
    raise _DeepEnough


def per_head_norm(model, path: str):
    """The attention reads q and k only after a per-head RMS norm where the model has one (`q_norm`/`k_norm`, as in
    Gemma 3 and Qwen3), so their maps are fitted on per-head-normalised outputs. This also makes the fit well posed
    when q is wider than the residual stream (Gemma 3 270M: 1024 from 640): raw q outputs span only as many
    directions as the residual, and a fit on them drops the adapter's other directions; normalised per head, each
    head is scaled by its own factor per position and the outputs span the full width. The map stays one on raw q
    coordinates: per head the norm only rescales each position."""
    parsed = parse_path(path)
    norm = None
    if parsed is not None and parsed[1] in ("q_proj", "k_proj"):
        parent = model.get_submodule(path.rsplit(".", 1)[0])
        norm = getattr(parent, parsed[1][0] + "_norm", None)
    weight = getattr(norm, "weight", None)
    width = int(weight.numel()) if weight is not None else 0  # head_dim (or the whole width, for a joint norm)

    def identity(out):
        return out

    def normalised(out):
        if out.shape[-1] % width:
            return out
        heads = out.reshape(out.shape[0], -1, width)
        rms = heads.pow(2).mean(-1, keepdim=True).sqrt().clamp_min(1e-12)
        return (heads / rms).reshape(out.shape)

    return normalised if width else identity


def _block(model, layer: int):
    """The decoder block holding layer `layer`'s modules."""
    from paw.transfer.layout import model_layout

    layout = model_layout(model)
    site = next(s for (index, _), s in sorted(layout.sites.items()) if index == layer)
    return model.get_submodule(site.path.split(f".layers.{layer}.")[0] + f".layers.{layer}")


def last_layer_hook(model, keep, sink: list):
    """Capture the residual stream leaving the last decoder layer (before the final norm) into `sink`."""
    from paw.transfer.layout import model_layout

    def hook(module, args, out):
        tensor = out[0] if isinstance(out, tuple) else out
        sink.append(tensor[0, keep].detach().float())

    return _block(model, model_layout(model).n_layers - 1).register_forward_hook(hook)


def _centered_kernel(x: "torch.Tensor") -> tuple["torch.Tensor", float]:
    x = x - x.mean(0)
    kernel = x @ x.T
    return kernel, float(kernel.norm())


def cka_layer_map(acts: Activations) -> tuple[dict[int, int], float]:
    """Order-preserving layer matching maximising CKA of each layer's input and output hidden states.

    Linear CKA in kernel form, ⟨Kx, Ky⟩/(‖Kx‖‖Ky‖) with K = X·Xᵀ of centred X (equal to ‖XᵀY‖²/(‖XᵀX‖‖YᵀY‖)):
    one n×n kernel per layer boundary, then an inner product per pair — instead of a d×d product per pair, which at
    18 × 36 layers of Gemma 3 took a minute. Rows are capped at MATCH_POSITIONS to bound the kernels' size."""
    hs = [h[:MATCH_POSITIONS] for h in acts.hidden_source]
    ht = [h[:MATCH_POSITIONS] for h in acts.hidden_target]
    ks, kt = [_centered_kernel(h) for h in hs], [_centered_kernel(h) for h in ht]

    def cka(a, b) -> float:
        return float((a[0] * b[0]).sum()) / (a[1] * b[1]) if a[1] > 0 and b[1] > 0 else 0.0

    n_s, n_t = len(hs) - 1, len(ht) - 1
    scores = [[cka(kt[j], ks[i]) + cka(kt[j + 1], ks[i + 1]) for i in range(n_s)] for j in range(n_t)]
    mapping = ordered_best_matching(scores)
    mean = sum(scores[j][i] for j, i in mapping.items()) / (2 * max(1, len(mapping)))
    return mapping, mean


def layer_map_for(ctx: "TransferContext", kind: str, acts: Activations | None = None) -> tuple[dict[int, int], dict]:
    n_s, n_t = ctx.source_layout.n_layers, ctx.target_layout.n_layers
    if kind == "depth":
        return depth_layer_map(n_s, n_t), {"layer_map": "depth"}
    if acts is None:
        raise PawError("layer_map: cka needs activations on probe text")
    mapping, mean = cka_layer_map(acts)
    return mapping, {"layer_map": "cka", "mean_cka": round(mean, 4)}
