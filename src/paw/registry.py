"""Named plug-ins of one kind — benchmark tasks, transfer methods — found by name, with a close-name hint.

A `Registry` holds the subclasses of one base class under their `name` class attribute. A class joins it with the
registry's decorator in its own module; the registry imports every module of its package on the first lookup, so
adding a plug-in is that one file (plus its test):

    TASKS = Registry("dataset", Task, key="dataset", package="paw.data.tasks")

    @TASKS.register
    class Piqa(Task):
        name = "piqa"

    TASKS.get("piqa")  # the class; an unknown name raises one PawError naming the kind, the key and a close name

Registering a second class under a taken name, or a class that is not a subclass of the base, is a programming
error (ValueError, TypeError), raised when its module is imported.
"""

from __future__ import annotations

import difflib
import importlib
import pkgutil
from typing import Callable, Generic, TypeVar

from paw.errors import PawError

C = TypeVar("C")


class Registry(Generic[C]):
    """Subclasses of `base` by name. `kind` and `key` word the lookup error ("not a known dataset: dataset = …");
    `normalize` maps a name to its canonical spelling (lookups and registrations both); `package` is imported whole
    on the first lookup, so its modules' decorators have run."""

    def __init__(self, kind: str, base: type[C], *, key: str, package: str | None = None,
                 normalize: Callable[[str], str] = str) -> None:
        self.kind, self.base, self.key, self.package = kind, base, key, package
        self._normalize = normalize
        self._classes: dict[str, type[C]] = {}
        self._loaded = package is None

    def register(self, cls: type[C]) -> type[C]:
        """Class decorator: add `cls` under `cls.name`."""
        if not (isinstance(cls, type) and issubclass(cls, self.base)):
            raise TypeError(f"{cls!r} is not a subclass of {self.base.__name__}: it cannot be a {self.kind}")
        name = getattr(cls, "name", None)
        if not isinstance(name, str) or not name.strip():
            raise TypeError(f"{cls.__qualname__} has no `name` class attribute: a {self.kind} needs one")
        key = self._normalize(name)
        taken = self._classes.get(key)
        if taken is not None and taken is not cls:
            raise ValueError(
                f"{self.kind} {key!r} is registered twice: by {_where(taken)} and by {_where(cls)} — rename one"
            )
        self._classes[key] = cls
        return cls

    def unregister(self, name: str) -> None:
        """Remove `name` (tests that register a toy plug-in clean up with this)."""
        self._classes.pop(self._normalize(name), None)

    def names(self) -> list[str]:
        self._load()
        return sorted(self._classes)

    def __contains__(self, name: object) -> bool:
        self._load()
        return isinstance(name, str) and self._normalize(name) in self._classes

    def get(self, name: str) -> type[C]:
        """The class registered as `name`; PawError naming the kind, the known names and the closest one."""
        self._load()
        key = self._normalize(str(name))
        if key not in self._classes:
            raise PawError(self.unknown_message(name))
        return self._classes[key]

    def unknown_message(self, name: object) -> str:
        known = self.names()
        close = difflib.get_close_matches(self._normalize(str(name)), known, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        return f"not a known {self.kind}{hint}: {self.key} = {name!r} — expected one of {', '.join(known)}"

    def _load(self) -> None:
        if self._loaded:
            return
        package = importlib.import_module(self.package)
        for info in pkgutil.iter_modules(package.__path__):
            importlib.import_module(f"{package.__name__}.{info.name}")
        self._loaded = True


def _where(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"
