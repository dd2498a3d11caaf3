"""Configuration from FUNDSVC_* environment variables (documented in README.md)."""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path

INSTANCE_DIR = Path(__file__).resolve().parent.parent / "instance"


def instance_secret_key(instance_dir: Path = INSTANCE_DIR) -> str:
    """The key kept in `<instance>/secret_key`, made on first use (random, mode 0600).

    Created with O_EXCL, so workers starting at once agree on one key: the loser of the race reads the winner's.
    """
    path = instance_dir / "secret_key"
    instance_dir.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for _ in range(50):  # the creator may not have written it yet
            key = path.read_text().strip()
            if key:
                return key
            time.sleep(0.01)
        raise RuntimeError(f"{path} is empty: delete it or set FUNDSVC_SECRET_KEY") from None
    with os.fdopen(fd, "w") as file:
        file.write(secrets.token_hex(32))
    return path.read_text().strip()


def _bool(value: str | None, default: bool) -> bool:
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


# Old names still read, and the name that replaced each (a warning at start-up says so: fundsvc.app).
DEPRECATED_NAMES = {"RENDER_SLOTS": "RENDER_CONCURRENCY"}


def deprecation_warnings(env: dict[str, str] | None = None) -> list[str]:
    """What the environment sets under an old name: one sentence each, for the start-up log."""
    env = dict(os.environ if env is None else env)
    said = []
    for old, new in DEPRECATED_NAMES.items():
        if f"FUNDSVC_{old}" not in env:
            continue
        if f"FUNDSVC_{new}" in env:
            said.append(f"FUNDSVC_{old} is deprecated and ignored: FUNDSVC_{new} is set and is the one used")
        else:
            said.append(f"FUNDSVC_{old} is deprecated: rename it FUNDSVC_{new} (its value is used until then)")
    return said


def from_environment(env: dict[str, str] | None = None) -> dict:
    """Build the Flask config mapping from the environment (FUNDSVC_ prefix)."""
    env = dict(os.environ if env is None else env)
    get = lambda name, default=None: env.get(f"FUNDSVC_{name}", default)
    database_url = get("DATABASE_URL") or f"sqlite:///{INSTANCE_DIR / 'fundsvc.sqlite3'}"
    return {
        "SQLALCHEMY_DATABASE_URI": database_url,
        # None: create_app takes the instance folder's generated key (instance_secret_key), never a known default.
        "SECRET_KEY": get("SECRET_KEY") or None,
        "SECURE_COOKIES": _bool(get("SECURE_COOKIES"), False),
        # Where throttling counts failed logins and tokens: a Redis URL, or None for the service's own database.
        "RATELIMIT_STORAGE_URI": get("RATELIMIT_STORAGE_URI"),
        # Requests one address may make to the public giving pages (/give/<unit>) per window, in `limits` notation.
        "GIVE_RATE_LIMIT": get("GIVE_RATE_LIMIT", "30/minute"),
        # How old a Casso notification's signed timestamp may be (either way) before it is refused as a replay.
        "NOTIFICATION_MAX_AGE_SECONDS": int(get("NOTIFICATION_MAX_AGE_SECONDS", "300")),
        # How many proxies (nginx) stand in front: their X-Forwarded-For / -Proto are then trusted.
        "PROXY_HOPS": int(get("PROXY_HOPS", "0")),
        "ORG_NAME": get("ORG_NAME", "Hội Khuyến học tỉnh Sóc Trăng"),
        "ORG_ADDRESS": get("ORG_ADDRESS", "Số 1 đường Trần Hưng Đạo, Phường 2, TP. Sóc Trăng"),
        # The line printed above the top unit's name (the body it belongs to).
        "ORG_PARENT_NAME": get("ORG_PARENT_NAME", "Hội Khuyến học Việt Nam"),
        "ORG_PHONE": get("ORG_PHONE"),
        "RECEIPT_FORM_LABEL": get("RECEIPT_FORM_LABEL", "Mẫu số C40-BB"),
        "VOUCHER_FORM_LABEL": get("VOUCHER_FORM_LABEL", "Mẫu số C41-BB"),
        "CASH_BOOK_FORM_LABEL": get("CASH_BOOK_FORM_LABEL", "Mẫu số S11-H"),
        "BANK_BOOK_FORM_LABEL": get("BANK_BOOK_FORM_LABEL", "Mẫu số S12-H"),
        "IN_KIND_FORM_LABEL": get("IN_KIND_FORM_LABEL", "Mẫu số S22-H"),
        # The chart of accounts (README "Chart of accounts"): a fund's account when the fund names none. The money
        # side's account is its money account's own (111 cash, 112 bank by default).
        "ACCOUNT_FUND": get("ACCOUNT_FUND", "353"),
        # The accounting regime the forms cite ("Ban hành kèm theo …").
        "FORMS_REGIME": get(
            "FORMS_REGIME", "Ban hành kèm theo Thông tư số 24/2024/TT-BTC ngày 17/4/2024 của Bộ trưởng Bộ Tài chính"
        ),
        "RECEIPT_COPIES": int(get("RECEIPT_COPIES", "2")),
        "RECEIPT_PAPER": get("RECEIPT_PAPER", "A5"),
        "WORDS_STYLE": get("WORDS_STYLE", "north"),
        "WORDS_CHAN": _bool(get("WORDS_CHAN"), False),
        "SIGNATORY_HEAD": get("SIGNATORY_HEAD", ""),
        "SIGNATORY_ACCOUNTANT": get("SIGNATORY_ACCOUNTANT", ""),
        "SIGNATORY_CASHIER": get("SIGNATORY_CASHIER", ""),
        # The bearer token that may read /metrics; None: the endpoint answers 404.
        "METRICS_TOKEN": get("METRICS_TOKEN") or None,
        # Where `flask backup create` writes without --out; None means <instance>/backups.
        "BACKUP_DIR": get("BACKUP_DIR"),
        # Rendered ceremony documents; None means <instance>/documents.
        "DOCUMENTS_CACHE_DIR": get("DOCUMENTS_CACHE_DIR"),
        # Big documents (more rows than this) are rendered by the job queue: the request answers 202 with the job.
        "JOB_THRESHOLD": int(get("JOB_THRESHOLD", "2000")),
        # Big renders at once on this machine, by requests and job workers together (fundsvc.documents.slots): a
        # request finding every slot taken is answered 503 with Retry-After, a job waits in the queue.
        "RENDER_CONCURRENCY": int(get("RENDER_CONCURRENCY") or get("RENDER_SLOTS") or str(os.cpu_count() or 2)),
        # A job's lease on the SQLite queue: a worker renews it while rendering; once it runs out (the worker
        # died), another worker takes the job. On PostgreSQL, procrastinate's worker heartbeat does the same.
        "JOB_LEASE_SECONDS": float(get("JOB_LEASE_SECONDS", "30")),
        # flask-smorest / OpenAPI
        "API_TITLE": "fundsvc",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/api/v1",
        "OPENAPI_JSON_PATH": "openapi.json",
        "OPENAPI_SWAGGER_UI_PATH": "/docs",
        "OPENAPI_SWAGGER_UI_URL": get("SWAGGER_UI_URL", "/api/v1/docs/assets/"),
        "API_SPEC_OPTIONS": {
            "components": {
                "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
            },
            "security": [{"bearerAuth": []}],
        },
        # A server connection can be dropped under us (restart, idle timeout): ping it at checkout. An SQLite
        # file cannot, and the ping would be one more statement on every request.
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": not database_url.startswith("sqlite")},
        "JSON_SORT_KEYS": False,
        "MAX_CONTENT_LENGTH": int(get("MAX_UPLOAD_BYTES", str(64 * 1024 * 1024))),
        # How long a write waits for the database (SQLite: the writers' queue, then the busy timeout) before
        # the request is answered 503 with Retry-After.
        "WRITE_WAIT_SECONDS": float(get("WRITE_WAIT_SECONDS", "30")),
        # A request running longer is stopped and answered 504, its transaction rolled back (fundsvc.request_limit),
        # whatever gunicorn's worker class; 0 for no limit. Documents bigger than FUNDSVC_JOB_THRESHOLD are jobs.
        "REQUEST_TIMEOUT": float(get("REQUEST_TIMEOUT", "240")),
        "WTF_CSRF_TIME_LIMIT": None,
    }
