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
