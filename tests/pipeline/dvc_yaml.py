"""This project's dvc.yaml as written and as DVC resolves it (`foreach` expanded, `${env}` and `${item}` filled in
from params.yaml), for the tests that compare it with the library and the stage scripts."""

from __future__ import annotations

from functools import cache
from typing import Any

import yaml

from tests.conftest import REPO_ROOT


@cache
def written_stages() -> dict[str, Any]:
    """The `stages` mapping as in the file: a `foreach` stage still has its `foreach` and `do`."""
    return yaml.safe_load((REPO_ROOT / "dvc.yaml").read_text())["stages"]


@cache
def resolved_stages() -> dict[str, dict[str, Any]]:
    """{stage name as DVC prints it (`eval@control`): its definition after interpolation}, by DVC's own resolver."""
    from dvc.parsing import DataResolver
    from dvc.repo import Repo

    with Repo(str(REPO_ROOT)) as repo:
        data = yaml.safe_load((REPO_ROOT / "dvc.yaml").read_text())
        return DataResolver(repo, repo.root_dir, data).resolve()["stages"]


def paths(entries) -> set[str]:
    """The paths of a deps/outs/metrics list, whose entries are a path or {path: options}."""
    return {next(iter(e)) if isinstance(e, dict) else e for e in entries or []}
