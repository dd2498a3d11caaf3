"""Memory helpers shared by the bulk paths (import, allocation); pure Python, no Flask."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector for a block that builds many small, acyclic objects.

    A bulk run (100,000 nominations parsed, imported or allocated) makes a few million tuples and dicts
    that stay alive until it ends and are freed by reference counting: the cyclic collector would rescan
    them again and again (a third of the run's time) and could free none of them. Restored after, even on
    error; a block nested in another leaves it paused.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class PerValue(dict):
    """``func`` of a value, computed once per distinct value: ``map(PerValue(func).__getitem__, column)``.

    A bulk column (100,000 cells) usually holds a few hundred distinct values; the map runs at C speed and calls
    back into Python only for a value it has not seen. The result is by construction ``list(map(func, column))``
    for a pure ``func`` and hashable values that are equal only when ``func`` treats them alike (beware
    ``True == 1 == 1.0``).
    """

    __slots__ = ("func",)

    def __init__(self, func):
        super().__init__()
        self.func = func

    def __missing__(self, value):
        result = self[value] = self.func(value)
        return result
