"""Reporting: one page saying whether the transfer helped, with paired statistics to believe it.

`build_report(params, reports_dir)` is the `report` stage (paw.reporting.build); `build_sweep(repo_dir, param)`
compares DVC experiments (paw.reporting.sweep). They load on first use: `paw.config` imports this package for its
params module and must not pull in numpy, matplotlib or tabulate.
"""

from __future__ import annotations

from paw.lazy import lazy_exports

_EXPORTS = {
    "build_report": "paw.reporting.build",
    "write_report": "paw.reporting.build",
    "build_sweep": "paw.reporting.sweep",
    "parse_exp_show": "paw.reporting.sweep",
}
__all__ = sorted(_EXPORTS)


__getattr__ = lazy_exports(__name__, _EXPORTS)
