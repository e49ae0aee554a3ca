"""Ridge fits of X·M ≈ Y: `ridge_map` forms M; `RidgeFit` keeps it implicit, for MLP widths."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch


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
