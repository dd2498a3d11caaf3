"""Ceremony documents from the database: award rows (one joined query), scope filters, rendering, the disk cache.

Which awards appear: those of an **approved** round whose status is `approved` or `paid` (never `cancelled`).
Before approval there are no awards, so every ceremony document answers 409.

Rendered documents are cached as files under a directory the caller passes in (the views use
``<instance>/documents``), keyed by round id, the round's result hash, a hash of every award's state and printed
fields, the filter, the document kind and variant, the print settings and the templates: any change to an award
(paid, cancelled, promoted, a corrected name) gives a new key, and the stale file is replaced.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import io
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import Executor
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import IO, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fundsvc.allocation.models import Award, Round
from fundsvc.allocation.service import HELD, get_round
from fundsvc.auth.service import Actor, require_role
from fundsvc.errors import Conflict, NotFound
from fundsvc.students.models import Nomination
from fundsvc.units.models import Unit
from fundsvc.units.service import visible_unit

from . import ceremony
from .render import TEMPLATES_DIR
from .slots import request_slot, slots_folder

READERS = ("committee", "treasurer", "viewer")  # admin always passes
CACHE_VERSION = "2"  # 2: the spreadsheet in the lists' shared layout (title lines above the header)
CHUNK_PUPILS = 100  # pupils per chunk (cut at a unit): small chunks lay out faster per pupil and bound memory

KINDS = {
    # kind: (file extension, media type, download name stem)
    "award-list": ("pdf", "application/pdf", "danh-sach-hoc-bong"),
    "signature-sheet": ("pdf", "application/pdf", "danh-sach-ky-nhan"),
    "certificates": ("pdf", "application/pdf", "giay-chung-nhan"),
    "award-list-xlsx": (
        "xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "danh-sach-hoc-bong",
    ),
    "award-list-csv": ("csv", "text/csv; charset=utf-8", "danh-sach-hoc-bong"),
}
_TEMPLATES = {
    "award-list": "documents/award_list.html",
    "signature-sheet": "documents/signature_sheet.html",
    "certificates": "documents/certificate.html",
}


@dataclass(frozen=True)
class Document:
    """A rendered ceremony document (`data` is None when it was written to the caller's file instead)."""

    data: bytes | None
    media_type: str
    filename: str
    cached: bool


@dataclass(frozen=True)
class Loaded:
    """The round (as plain data), its visible rows and the cache key parts."""

    round_id: int
    result_hash: str | None
    info: dict
    rows: list[dict]
    states_hash: str
    scope: dict


def load_rows(
    session: Session, actor: Actor, round_id: int, *, unit: str | None = None, school: str | None = None
) -> Loaded:
    """The rows of the round's held awards inside the actor's scope and the filters (one joined query)."""
    require_role(actor, *READERS)
    round_ = get_round(session, actor, round_id)
    if round_.status != "approved":
        raise Conflict("Đợt xét chưa được duyệt, chưa in được danh sách (round not approved yet)")
    scope_path = actor.unit_path
    scope: dict[str, Any] = {}
    if unit:
        chosen = visible_unit(session, actor, unit)
        scope_path = chosen.path
        scope.update(unit=chosen.code, unit_name=chosen.name)
    if school:
        scope["school"] = " ".join(school.split())
    units = {u.id: u for u in session.scalars(select(Unit))}
    query = (
        select(*_AWARD_LINE)
        .join(Nomination, Nomination.id == Award.nomination_id)
        .where(Award.round_id == round_.id)
        .order_by(Award.id)
    )
    digest = hashlib.sha256()
    rows: list[dict] = []
    for line in session.execute(query):
        # Every award's state and printed fields, whatever the filter: any change anywhere in the round
        # gives new documents.
        digest.update(repr(tuple(line)).encode())
        if line.status not in HELD:
            continue
        nom_unit = units[line.unit_id]
        if scope_path is not None and not nom_unit.path.startswith(scope_path):
            continue
        if school and " ".join(line.school.split()).casefold() != scope["school"].casefold():
            continue
        rows.append(
            {
                "award_id": line.id,
                "full_name": line.full_name,
                "birth_date": line.birth_date,
                "grade": line.grade,
                "grade_number": line.grade_number,
                "school": line.school,
                "level": line.level,
                "tier": line.tier,
                "amount": line.amount,
                "status": line.status,
                # Paid on its own voucher before the list: the sheet says so, and it is not to be paid again.
                "paid_by": line.voucher_code if line.status == "paid" and not line.paid_in_list else None,
                # Paid with the whole list: the pupil signs on this sheet, the list's voucher is noted.
                "paid_in_list": line.voucher_code if line.status == "paid" and line.paid_in_list else None,
                "unit_code": nom_unit.code,
                "unit_name": nom_unit.name,
                # Tree order, siblings in the order they were set up (the official order of the province's lists).
                "unit_sort": [int(p) for p in nom_unit.path.strip("/").split("/") if p],
            }
        )
    if school and rows:
        # The filter ignores case and spacing, so its scope (and the cache key) takes the school's stored name:
        # "thcs  lê lợi" and "THCS Lê Lợi" are one document, rendered once.
        scope["school"] = min(row["school"] for row in rows)
    return Loaded(round_.id, round_.result_hash, round_info(round_), rows, digest.hexdigest(), scope)


# What the ceremony documents print of each award, in this order.
_AWARD_LINE = (
    Award.id,
    Award.status,
    Award.amount,
    Award.rank,
    Award.tier,
    Award.nomination_id,
    Nomination.full_name,
    Nomination.birth_date,
    Nomination.grade,
    Nomination.grade_number,
    Nomination.school,
    Nomination.level,
    Nomination.unit_id,
    Award.voucher_code,
    Award.paid_in_list,
)


def round_info(round_: Round) -> dict:
    """The round as the context builders want it (plain dict)."""
    return {
        "name": round_.name,
        "academic_year": round_.academic_year,
        "unit_name": round_.unit.name,
        "unit_level": round_.unit.level,
        "date": round_.approved_at,
    }


def settings_dict(settings) -> dict:
    """DocumentSettings (or a mapping) as a plain dict."""
    return dict(settings) if isinstance(settings, dict) else asdict(settings)


@lru_cache(maxsize=1)
def _templates_hash() -> str:
    digest = hashlib.sha256()
    for name in ("documents/base.html", *_TEMPLATES.values()):
        digest.update((TEMPLATES_DIR / name).read_bytes())
    digest.update((Path(__file__).parent / "assets" / "css" / "base.css").read_bytes())
    return digest.hexdigest()[:16]


def document_filename(round_id: int, kind: str, scope: dict) -> str:
    """The download name of a ceremony document: its kind, the round and the unit it is narrowed to."""
    ext, _, stem = KINDS[kind]
    suffix = f"-{scope['unit']}" if "unit" in scope else ""
    return f"{stem}-dot-{round_id}{suffix}.{ext}"


def cache_key(loaded: Loaded, kind: str, personal: bool, settings: dict) -> str:
    """The key of one rendered document: what it was rendered from, nothing else."""
    material = {
        "v": CACHE_VERSION,
        "round": loaded.round_id,
        "result_hash": loaded.result_hash,
        "states": loaded.states_hash,
        "filter": loaded.scope,
        "kind": kind,
        "personal": personal,
        "settings": settings,
        "templates": _templates_hash(),
        "info": loaded.info,
    }
    return hashlib.sha256(json.dumps(material, sort_keys=True, default=str).encode()).hexdigest()


class DocumentCache:
    """Rendered documents as files: ``<root>/round-<id>/<kind>-<filter>-<variant>-<key>.<ext>``."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)

    def _slot(self, round_id: int, kind: str, scope: dict, personal: bool) -> tuple[Path, str]:
        filt = hashlib.sha256(json.dumps(scope, sort_keys=True).encode()).hexdigest()[:12]
        return self.root / f"round-{round_id}", f"{kind}-{filt}-{'full' if personal else 'public'}-"

    def path(self, round_id: int, kind: str, scope: dict, personal: bool, key: str) -> Path:
        folder, prefix = self._slot(round_id, kind, scope, personal)
        return folder / f"{prefix}{key[:32]}.{KINDS[kind][0]}"

    def get(self, round_id: int, kind: str, scope: dict, personal: bool, key: str) -> bytes | None:
        try:
            return self.path(round_id, kind, scope, personal, key).read_bytes()
        except FileNotFoundError:
            return None

    def put(self, round_id: int, kind: str, scope: dict, personal: bool, key: str, data: bytes) -> Path:
        """Store atomically (write then rename) and drop the stale versions of the same document."""
        with self.writing(round_id, kind, scope, personal, key) as f:
            f.write(data)
        return self.path(round_id, kind, scope, personal, key)

    @contextlib.contextmanager
    def writing(self, round_id: int, kind: str, scope: dict, personal: bool, key: str) -> Iterator[IO[bytes]]:
        """A file to write the document into; on success it replaces the cached copy and the stale versions go."""
        target = self.path(round_id, kind, scope, personal, key)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as f:
                yield f
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        _, prefix = self._slot(round_id, kind, scope, personal)
        for old in target.parent.glob(prefix + "*"):
            if old != target:
                old.unlink(missing_ok=True)


def render(
    kind: str,
    loaded: Loaded,
    settings: dict,
    *,
    personal: bool,
    progress: Callable[[int, int], None] | None = None,
    executor: Executor | None = None,
    workers: int | None = None,
    chunk_pupils: int = CHUNK_PUPILS,
) -> bytes:
    """Render one ceremony document from loaded rows into memory (see write_document)."""
    out = io.BytesIO()
    write_document(
        kind,
        loaded,
        settings,
        out,
        personal=personal,
        progress=progress,
        executor=executor,
        workers=workers,
        chunk_pupils=chunk_pupils,
    )
    return out.getvalue()


def write_document(
    kind: str,
    loaded: Loaded,
    settings: dict,
    out: IO[bytes],
    *,
    personal: bool,
    progress: Callable[[int, int], None] | None = None,
    executor: Executor | None = None,
    workers: int | None = None,
    chunk_pupils: int = CHUNK_PUPILS,
) -> None:
    """Render one ceremony document from loaded rows into the binary file `out` (long PDFs in parallel chunks,
    merged and numbered as they are written, so a 100,000-pupil list never sits in memory)."""
    from .parallel import write_chunked_pdf

    groups = ceremony.group_rows(loaded.rows)
    info = loaded.info
    if kind == "award-list-xlsx":
        out.write(
            ceremony.award_list_xlsx(
                groups,
                personal=personal,
                lines=ceremony.award_list_lines(info, loaded.scope),
                words_style=settings.get("words_style") or "north",
            )
        )
        return
    if kind == "award-list-csv":
        out.write(ceremony.award_list_csv(groups, personal=personal))
        return
    if kind == "award-list":
        header = ceremony.award_list_context(info, settings, groups, personal=personal, scope=loaded.scope)
        parts = ceremony.chunk_items(ceremony.award_list_items(groups, personal=personal), chunk_pupils)
        label = {}
    elif kind == "signature-sheet":
        header = ceremony.signature_sheet_context(info, settings, groups, personal=personal, scope=loaded.scope)
        parts = ceremony.chunk_blocks(ceremony.signature_sheet_items(groups, personal=personal), chunk_pupils)
        label = {}
    elif kind == "certificates":
        header, items = ceremony.certificate_contexts(info, settings, groups, personal=personal)
        # Certificates carry no page numbers; smaller chunks since each pupil is a whole page.
        size = max(1, chunk_pupils // 5)
        parts = [{"items": items[i : i + size]} for i in range(0, len(items), size)] or [{"items": []}]
        label = {"page_label": ""}
    else:  # pragma: no cover - the views and the CLI only pass known kinds
        raise ValueError(f"unknown document kind {kind!r}")
    write_chunked_pdf(
        out,
        _TEMPLATES[kind],
        header,
        parts,
        chunk_size=1,
        workers=workers,
        progress=progress,
        executor=executor,
        **label,
    )


def ceremony_document(
    session: Session,
    actor: Actor,
    round_id: int,
    kind: str,
    settings,
    cache_dir,
    *,
    unit: str | None = None,
    school: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    executor: Executor | None = None,
    workers: int | None = None,
    out: IO[bytes] | None = None,
    render_slots: int | None = 2,
) -> Document:
    """A ceremony document of a round, from the cache when nothing it was made from has changed.

    Identical requests at the same moment (in any worker) share one render; it holds one of the machine's
    `render_slots` render slots (fundsvc.documents.slots, shared with the job workers), and a request finding none
    free is answered 503 with Retry-After (None: the caller holds a slot itself, as the job worker does).

    With `out` (a binary file) the document is written there and Document.data is None: the CLI's way, so a
    100,000-pupil list goes from the renderer to the cache file and on to `out` without being held in memory.
    """
    if kind not in KINDS:
        raise NotFound(f"Không có loại tài liệu {kind!r} (unknown document)")
    loaded = load_rows(session, actor, round_id, unit=unit, school=school)
    if not loaded.rows:
        raise NotFound("Không có suất học bổng nào trong phạm vi đã chọn (no awards in this scope)")
    # Pupils' birth dates only for the roles that decide on awards (fundsvc/privacy.py), not for treasurers or viewers.
    personal = actor.sees_personal_data
    plain = settings_dict(settings)
    media_type = KINDS[kind][1]
    filename = document_filename(round_id, kind, loaded.scope)
    key = cache_key(loaded, kind, personal, plain)
    cache = DocumentCache(cache_dir) if cache_dir is not None else None
    if cache is not None:
        try:
            data = _deliver(cache.path(round_id, kind, loaded.scope, personal, key), out)
        except FileNotFoundError:
            pass
        else:
            return Document(data, media_type, filename, True)
    # Leave the session before the long render: nothing below touches the database.
    session.rollback()
    options = {"personal": personal, "progress": progress, "executor": executor, "workers": workers}
    if cache is None:
        if out is None:
            return Document(render(kind, loaded, plain, **options), media_type, filename, False)
        write_document(kind, loaded, plain, out, **options)
        return Document(None, media_type, filename, False)
    path = cache.path(round_id, kind, loaded.scope, personal, key)
    with _exclusive(path.with_name(path.name + ".lock")):
        # An identical request may have rendered it while this one waited for the lock: share its result.
        if not path.exists():
            slot = request_slot(slots_folder(cache_dir), render_slots) if render_slots else contextlib.nullcontext()
            with slot:
                with cache.writing(round_id, kind, loaded.scope, personal, key) as f:
                    write_document(kind, loaded, plain, f, **options)
            rendered = True
        else:
            rendered = False
    return Document(_deliver(path, out), media_type, filename, not rendered)


@contextlib.contextmanager
def _exclusive(lock_path: Path) -> Iterator[None]:
    """Hold an exclusive lock on a file, across threads and processes (flock), for the block."""
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a+b") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _deliver(path: Path, out: IO[bytes] | None) -> bytes | None:
    """The file's bytes, or None once they are copied into `out`."""
    if out is None:
        return path.read_bytes()
    with open(path, "rb") as f:
        shutil.copyfileobj(f, out, 1 << 20)
    return None
