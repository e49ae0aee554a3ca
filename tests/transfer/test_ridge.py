"""Ridge fits: a tall fit accumulated block by block (through row indices, as the vocabulary maps use it) is the
closed-form solution; the dual form serves wide fits."""

from __future__ import annotations

import torch

from paw.transfer import ridge
from paw.transfer.ridge import relative_residual, ridge_map


def _closed_form(x, y, lam_scale):
    x, y = x.double(), y.double()
    lam = lam_scale * float((x * x).sum()) / min(x.shape)
    return torch.linalg.solve(x.T @ x + lam * torch.eye(x.shape[1], dtype=x.dtype), x.T @ y)


def test_tall_fits_through_row_indices_equal_the_closed_form_whatever_the_block(monkeypatch):
    generator = torch.Generator().manual_seed(0)
    x, y = torch.randn(300, 12, generator=generator), torch.randn(250, 7, generator=generator)
    rows_x, rows_y = torch.randperm(300, generator=generator)[:200], torch.randperm(250, generator=generator)[:200]
    want = _closed_form(x[rows_x], y[rows_y], 1e-2)
    for block in (7, 64, 8192):
        monkeypatch.setattr(ridge, "ROW_BLOCK", block)
        got = ridge_map(x, y, 1e-2, rows_x, rows_y)
        assert torch.allclose(got.double(), want, rtol=1e-5, atol=1e-6)
        residual = float((x[rows_x].double() @ got.double() - y[rows_y]).norm() / y[rows_y].double().norm())
        assert abs(relative_residual(x, y, got, rows_x, rows_y) - residual) < 1e-9


def test_wide_fits_use_the_dual_form_and_still_solve_the_ridge_problem():
    generator = torch.Generator().manual_seed(1)
    x, y = torch.randn(20, 50, generator=generator), torch.randn(20, 3, generator=generator)
    got = ridge_map(x, y, 1e-3).double()
    xd, yd = x.double(), y.double()
    lam = 1e-3 * float((xd * xd).sum()) / 20
    assert torch.allclose(got, xd.T @ torch.linalg.solve(xd @ xd.T + lam * torch.eye(20, dtype=xd.dtype), yd),
                          atol=1e-6)
