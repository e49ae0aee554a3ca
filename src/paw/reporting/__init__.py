"""Reporting: one page saying whether the transfer helped, with paired statistics to believe it.

`paw.reporting.build.build_report(params, reports_dir)` is the `report` stage; `paw.reporting.sweep.build_sweep`
compares DVC experiments. This package module imports nothing: reading params imports `paw.reporting.params`,
which must not pull in numpy, matplotlib or tabulate.
"""
