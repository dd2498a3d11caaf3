"""Safe, deterministic PDF rendering with WeasyPrint from the Jinja templates in `templates/`.

Safety: templates autoescape, and the only URLs WeasyPrint may fetch are the package's own files under the
private ``fundsvc:`` scheme (``fundsvc:fonts/…``, ``fundsvc:css/…``, ``fundsvc:img/…``). Every other URL is refused
before any I/O, so a donor's name holding ``<img src="http://…">`` or ``file:///etc/passwd`` can never reach
the network or the disk (and it is escaped anyway, so it prints as text).

Speed: the Jinja environment, the compiled base stylesheet and the one ``FontConfiguration`` are built once per
process (lazily) and reused by every render.
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import logging
import mimetypes
import re
import threading
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib import request as _urllib_request

import jinja2

from .words import VN_TZ, amount_in_words, date_parts, format_date, format_vnd

__all__ = [
    "SCHEME",
    "DocumentURLError",
    "PackageURLFetcher",
    "get_environment",
    "get_url_fetcher",
    "render_html",
    "render_pdf",
    "render_pdf_with_pages",
    "resolve_asset",
    "warm",
]

log = logging.getLogger(__name__)

PACKAGE_DIR = Path(__file__).resolve().parent
FONTS_DIR = PACKAGE_DIR / "fonts"
ASSETS_DIR = PACKAGE_DIR / "assets"
TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "templates"

SCHEME = "fundsvc:"
# Top folder in a fundsvc: URL -> directory it may read from.
_ROOTS = {
    "fonts": FONTS_DIR,
    "css": ASSETS_DIR / "css",
    "img": ASSETS_DIR / "img",
}
_MIME = {
    ".ttf": "font/ttf",
    ".otf": "font/otf",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
    ".css": "text/css",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
}


class DocumentURLError(ValueError):
    """A document asked for a URL that the fetcher does not serve."""


def resolve_asset(url: str) -> Path:
    """The package file a ``fundsvc:`` URL names; DocumentURLError for anything else."""
    if not isinstance(url, str) or not url.lower().startswith(SCHEME):
        raise DocumentURLError(f"refused URL (only {SCHEME} is served): {str(url)[:200]!r}")
    rest = url[len(SCHEME) :]
    # Fragments (SVG #ids) are harmless; a query means someone is guessing.
    rest = rest.split("#", 1)[0]
    # No encoded characters, no backslashes, no authority, no absolute paths, no dot segments.
    if not rest or any(c in rest for c in "%\\?\x00") or rest.startswith("/"):
        raise DocumentURLError(f"refused URL: {url[:200]!r}")
    parts = rest.split("/")
    if any(p in ("", ".", "..") for p in parts) or parts[0] not in _ROOTS or len(parts) < 2:
        raise DocumentURLError(f"refused URL: {url[:200]!r}")
    root = _ROOTS[parts[0]].resolve()
    path = root.joinpath(*parts[1:]).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        raise DocumentURLError(f"no such asset: {url[:200]!r}")
    return path


def _fetcher_base():
    from weasyprint.urls import URLFetcher

    return URLFetcher


@lru_cache(maxsize=1)
def _fetcher_class():
    from weasyprint.urls import URLFetcherResponse

    class _PackageURLFetcher(_fetcher_base()):
        """WeasyPrint URL fetcher serving only package files; it holds no urllib handler at all."""

        def __init__(self) -> None:
            # Deliberately skip URLFetcher.__init__: no HTTP/FTP/file/data handler is ever installed,
            # so even a code path that bypasses fetch() cannot open anything.
            _urllib_request.OpenerDirector.__init__(self)
            self._timeout = 1
            self._http_headers = {}
            self._allowed_protocols = ("fundsvc",)
            self._fail_on_errors = False
            self._request = None

        def fetch(self, url, headers=None):
            try:
                path = resolve_asset(url)
            except DocumentURLError:
                log.info("document fetcher refused %.200r", url)
                raise
            mime = _MIME.get(path.suffix.lower()) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            headers = {"Content-Type": mime + ("; charset=utf-8" if mime == "text/css" else "")}
            return URLFetcherResponse(url, body=path.read_bytes(), headers=headers)

        def open(self, url, data=None, timeout=None):
            target = url.full_url if isinstance(url, _urllib_request.Request) else url
            return self.fetch(target)

        def __call__(self, url):
            return self.fetch(url)

    return _PackageURLFetcher


def PackageURLFetcher():
    """A new fetcher that serves only ``fundsvc:`` package files (lazy so importing this module stays cheap)."""
    return _fetcher_class()()


# ---------------------------------------------------------------------------------------------------------
# Process-wide caches, built on first use.

_lock = threading.RLock()
_state: dict[str, Any] = {}


def get_url_fetcher():
    """The process's one package-only URL fetcher."""
    with _lock:
        if "fetcher" not in _state:
            _state["fetcher"] = PackageURLFetcher()
        return _state["fetcher"]


@jinja2.pass_context
def _words_filter(ctx, amount: int, style: str | None = None, chan: bool | None = None) -> str:
    style = style or ctx.get("words_style") or "north"
    chan = ctx.get("chan", False) if chan is None else chan
    return amount_in_words(amount, style=style, chan=bool(chan))


def _iso_filter(value: date | datetime | str | None) -> str:
    """W3C date for PDF metadata (dcterms.created); datetimes in UTC."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return value.isoformat()


def get_environment() -> jinja2.Environment:
    """The Jinja environment for documents: autoescaping, templates from top-level ``templates/``."""
    with _lock:
        env = _state.get("env")
        if env is None:
            env = jinja2.Environment(
                loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
                autoescape=jinja2.select_autoescape(["html", "htm", "xml", "svg"], default_for_string=True),
                trim_blocks=True,
                lstrip_blocks=True,
                auto_reload=False,
                undefined=jinja2.Undefined,
            )
            env.filters["vnd"] = format_vnd
            env.filters["words"] = _words_filter
            env.filters["vndate"] = format_date
            env.filters["w3cdate"] = _iso_filter
            env.globals["date_parts"] = date_parts
            env.globals["VN_TZ"] = VN_TZ
            _state["env"] = env
        return env


def _font_config():
    with _lock:
        if "fonts" not in _state:
            from weasyprint.text.fonts import FontConfiguration

            _state["fonts"] = FontConfiguration()
            # FontConfiguration removes its temporary font folder in __del__, which fails once the
            # interpreter is tearing modules down; drop it while everything still exists.
            atexit.register(_drop_caches)
        return _state["fonts"]


def _drop_caches() -> None:
    with _lock:
        _state.pop("css", None)
        _state.pop("fonts", None)


def _stylesheet(name: str):
    """A compiled stylesheet from ``assets/css/<name>``, cached (the base one carries the @font-faces)."""
    with _lock:
        cache = _state.setdefault("css", {})
        css = cache.get(name)
        if css is None:
            from weasyprint import CSS

            css = CSS(
                url=SCHEME + "css/" + name,
                url_fetcher=get_url_fetcher(),
                font_config=_font_config(),
            )
            cache[name] = css
        return css


def _stylesheets(extra: Iterable[Any]) -> list:
    sheets = [_stylesheet("base.css")]
    for s in extra:
        sheets.append(_stylesheet(s) if isinstance(s, str) else s)
    return sheets


def warm(*, sample: bool = True) -> None:
    """Build the cached environment, stylesheet and fonts now (and lay out a tiny page so fonts are loaded)."""
    get_environment()
    _stylesheet("base.css")
    if sample:
        _write("<p>Khởi động — Trang 1/1 <b>đậm</b> <i>nghiêng</i></p>", ())


# Whitespace just before the tag of a block-level or table element. CSS never shows it (a line's first and last
# spaces are dropped, and blank text between blocks makes no box), but WeasyPrint still builds and drops each run:
# about a thirtieth of a form's render. Text inside an element with `white-space: pre` (the forms' book and number
# lines) is never followed by such a tag.
_SPACE_BEFORE_BLOCK_TAG = re.compile(
    r">\s+(?=</?(?:table|thead|tbody|tfoot|tr|td|th|col|colgroup|div|section|p|h[1-6]|ul|ol|li)[\s/>])"
)


def render_html(template: str, context: Mapping[str, Any]) -> str:
    """The HTML of a document template rendered with a plain-dict context, without the whitespace that the
    templates' indentation leaves before block-level tags."""
    html = get_environment().get_template(template).render(**context)
    return _SPACE_BEFORE_BLOCK_TAG.sub(">", html)


# Allocations between two young-generation collections while WeasyPrint renders (Python's default: 700).
RENDER_GC_THRESHOLD = 20_000


@contextlib.contextmanager
def _fewer_collections():
    """Collect the young generation every RENDER_GC_THRESHOLD allocations instead of every 700 during a render.

    A document's boxes live for the whole render. With the default threshold the collector runs dozens of times
    per receipt, promotes those boxes to the oldest generation, and so triggers a full collection every few
    receipts, which walks every object of the process (the Flask app, SQLAlchemy, caches): about 60 ms a
    receipt in a service process, a seventh of its render. With the higher threshold the boxes die young and
    the render's garbage is still collected as it goes (memory stays bounded; pausing the GC instead let a
    10,000-pupil list grow past 1.5 GiB, and freezing the heap let each chunk's garbage escape).
    """
    threshold = gc.get_threshold()
    gc.set_threshold(max(threshold[0], RENDER_GC_THRESHOLD), *threshold[1:])
    try:
        yield
    finally:
        gc.set_threshold(*threshold)


def _write(html: str, stylesheets: Iterable[Any]) -> tuple[bytes, int]:
    from weasyprint import HTML

    fetcher = get_url_fetcher()
    sheets = _stylesheets(stylesheets)
    font_config = _font_config()
    # Pango/fontconfig objects are shared; one render at a time per process keeps them safe under threads.
    with _lock, _fewer_collections():
        # base_url None: relative URLs have nothing to resolve against and are dropped.
        document = HTML(string=html, base_url=None, url_fetcher=fetcher).render(
            stylesheets=sheets,
            font_config=font_config,
            presentational_hints=False,
            cache=_state.setdefault("image_cache", {}),  # only package images can be in it
        )
        pages = len(document.pages)
        pdf = document.write_pdf(
            pdf_identifier=True,  # md5 of the content: deterministic
            uncompressed_pdf=False,
            custom_metadata=False,
            attachments=None,
        )
        del document
    return pdf, pages


def render_pdf_with_pages(
    template: str, context: Mapping[str, Any], *, stylesheets: Iterable[Any] = ()
) -> tuple[bytes, int]:
    """Like render_pdf, also returning the number of pages."""
    return _write(render_html(template, context), stylesheets)


def render_pdf(template: str, context: Mapping[str, Any], *, stylesheets: Iterable[Any] = ()) -> bytes:
    """PDF bytes of a document template; same template and context give the same bytes."""
    return render_pdf_with_pages(template, context, stylesheets=stylesheets)[0]
