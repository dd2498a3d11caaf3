"""The machine's render slots: at most FUNDSVC_RENDER_CONCURRENCY big renders at once on a machine, whoever renders
them (a request under the job threshold, or a job worker).

A slot is a lock file, `<documents cache>/render-slots/slot-N.lock`, held with flock for the render: the bound holds
across every process of the machine (gunicorn's workers and the job workers share the folder), and a killed
process's slot is free at once. Big renders are CPU-bound: more at once than there are slots only makes every one
of them, and everyone else, slower.

- A request takes a slot or is answered 503 with Retry-After (`request_slot`): it cannot wait minutes for one.
- A job worker waits for a slot before it claims a job (`waited_slot`), so a job waits in the queue, not in a
  worker.
"""

from __future__ import annotations

import contextlib
import fcntl
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from fundsvc.errors import Unavailable

FOLDER = "render-slots"
POLL_SECONDS = 0.2


def slots_folder(cache_dir: str | Path) -> Path:
    """Where the slots of the machine whose documents cache is `cache_dir` are kept."""
    return Path(cache_dir) / FOLDER


def _take_free_slot(folder: Path, slots: int) -> IO[bytes] | None:
    """The open, locked file of a free slot, or None when all `slots` are held."""
    folder.mkdir(parents=True, exist_ok=True)
    for number in range(max(1, slots)):
        f = open(folder / f"slot-{number}.lock", "a+b")
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.close()
            continue
        return f
    return None


def _release(f: IO[bytes]) -> None:
    fcntl.flock(f, fcntl.LOCK_UN)
    f.close()


@contextlib.contextmanager
def request_slot(folder: Path, slots: int) -> Iterator[None]:
    """Hold a free slot for the block, or raise Unavailable (503 with Retry-After) when all are taken."""
    held = _take_free_slot(folder, slots)
    if held is None:
        raise Unavailable(
            "Máy chủ đang dựng nhiều tài liệu lớn cùng lúc, xin thử lại sau ít phút "
            "(too many renders at once, retry later)"
        )
    try:
        yield
    finally:
        _release(held)


@contextlib.contextmanager
def waited_slot(folder: Path, slots: int, stop: threading.Event) -> Iterator[bool]:
    """Hold a slot for the block (True), waiting for one to be free; False when `stop` is set before one is."""
    while (held := _take_free_slot(folder, slots)) is None:
        if stop.wait(POLL_SECONDS):
            yield False
            return
    try:
        yield True
    finally:
        _release(held)
