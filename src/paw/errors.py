"""The one exception type a user sees: a message that names what is wrong and what was expected.

The CLI prints a `PawError` as a single line and exits non-zero; anything else is a bug and keeps its traceback.
"""


class PawError(Exception):
    """A user-facing error: bad params, a missing file, an input that does not fit."""
