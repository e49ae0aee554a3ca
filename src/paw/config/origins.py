"""Errors in the terms the user typed: a value that came from a command-line flag is named by the flag.

The library checks every value under the params key it fills (`params.yaml: envs.quick.max_steps = 0 — expected a
positive integer`, `transfer.method = copy needs identical module shapes`, `batch_size = 0 — expected …`). A CLI
command that put a flag's value into such a key records it in a `FlagOrigins`; errors raised while the command runs
are then rewritten to `--max-steps 0 — expected a positive integer`. One rewrite for every command and every check,
instead of each check learning where its value came from; keys filled from params.yaml keep their params wording.
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Iterator, Mapping

from paw.errors import PawError


@dataclass(frozen=True)
class FlagOrigins:
    """`flags` maps a params key (or the library argument name a check uses) to (flag, value given)."""

    flags: Mapping[str, tuple[str, Any]] = field(default_factory=dict)

    def rewrite(self, message: str) -> str:
        # Longest keys first, so that `eval.sample_ratio` is not half-matched by `sample_ratio`.
        for key in sorted(self.flags, key=len, reverse=True):
            flag, value = self.flags[key]
            # Only `KEY = <the value the flag gave>`: `computed with transfer.svd_rank = 8` (a recorded value) stays.
            shown = "|".join(re.escape(v) for v in sorted({str(value), repr(value)}, key=len, reverse=True))
            # `[source: ]KEY = VALUE` → `FLAG VALUE`: the source (params.yaml, defaults) did not give the value.
            pattern = rf"(?:[^\s:]+: )?(?<![\w.]){re.escape(key)} = ({shown})(?![\w.])"
            message = re.sub(pattern, lambda m, flag=flag: f"{flag} {m.group(1)}", message)
        return message

    @contextmanager
    def named_in_errors(self) -> Iterator[None]:
        """Inside: a PawError about a key a flag set names the flag instead."""
        try:
            yield
        except PawError as exc:
            rewritten = self.rewrite(str(exc))
            if rewritten == str(exc):
                raise
            raise PawError(rewritten) from exc


def given_flags(values: Mapping[str, Any], keys: Mapping[str, str | tuple[str, ...]]) -> FlagOrigins:
    """FlagOrigins for the flags actually given: `values` maps an argparse dest to its value (None = not given),
    `keys` maps the dest to the key (or keys) its value fills."""
    flags = {}
    for dest, value in values.items():
        if dest in keys and value is not None:
            for key in (keys[dest],) if isinstance(keys[dest], str) else keys[dest]:
                flags[key] = ("--" + dest.replace("_", "-"), value)
    return FlagOrigins(flags)
