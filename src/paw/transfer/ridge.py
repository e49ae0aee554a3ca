"""Ridge fits of X·M ≈ Y: `ridge_map` forms M; `RidgeFit` keeps it implicit, for MLP widths."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch


# Rows per float64 block when a tall fit is accumulated: the Gram matrices are summed block by block, so a fit on a
# whole vocabulary (151k × 1536 embeddings) never holds a float64 copy of its inputs.
ROW_BLOCK = 8192


def ridge_map(x: "torch.Tensor", y: "torch.Tensor", ridge: float, x_rows=None, y_rows=None) -> "torch.Tensor":
    """M minimising ‖X·M − Y‖² + λ‖M‖², λ = ridge · mean squared singular value of X (so `ridge` is unit-free).

    `x_rows`/`y_rows` (index tensors of equal length) fit on those rows of X and Y, gathered a block at a time."""
    import torch

    n = len(x_rows) if x_rows is not None else x.shape[0]
    p = x.shape[1]
    if n < p:  # wide: the dual form, on the (few) rows themselves
        xd = (x[x_rows] if x_rows is not None else x).double()
        yd = (y[y_rows] if y_rows is not None else y).double()
        lam = ridge * float((xd * xd).sum()) / max(1, n)
        gram = xd @ xd.T + lam * torch.eye(n, dtype=xd.dtype)
        return (xd.T @ torch.linalg.solve(gram, yd)).float()
    gram = torch.zeros(p, p, dtype=torch.float64)
    cross = torch.zeros(p, y.shape[1], dtype=torch.float64)
    for xb, yb in row_blocks(x, y, n, x_rows, y_rows):
        gram += xb.T @ xb
        cross += xb.T @ yb
    lam = ridge * float(gram.trace()) / max(1, p)  # trace(XᵀX) = ‖X‖²
    return torch.linalg.solve(gram + lam * torch.eye(p, dtype=gram.dtype), cross).float()


def row_blocks(x, y, n: int, x_rows=None, y_rows=None):
    """(X block, Y block) in float64, ROW_BLOCK rows at a time, through the row indices when given."""
    for start in range(0, n, ROW_BLOCK):
        stop = min(n, start + ROW_BLOCK)
        xb = x[x_rows[start:stop]] if x_rows is not None else x[start:stop]
        yb = y[y_rows[start:stop]] if y_rows is not None else y[start:stop]
        yield xb.double(), yb.double()


def relative_residual(x, y, m, x_rows=None, y_rows=None) -> float:
    """‖X·M − Y‖/‖Y‖ over the (indexed) rows, a block at a time."""
    n = len(x_rows) if x_rows is not None else x.shape[0]
    error = total = 0.0
    md = m.double()
    for xb, yb in row_blocks(x, y, n, x_rows, y_rows):
        error += float(((xb @ md - yb) ** 2).sum())
        total += float((yb**2).sum())
    return (error / max(total, 1e-24)) ** 0.5


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
