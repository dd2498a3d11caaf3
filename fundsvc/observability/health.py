"""What the health checks report: the database (reachable, its schema revision against the migrations' head) and
the job queue, through a hook the job queue installs.

The hook: `app.extensions["job_queue_depth"]`, a function of no arguments answering how many jobs wait. Without a
job queue there is no hook, and the queue is reported absent (depth None)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory
from flask import Flask
from sqlalchemy import text
from sqlalchemy.orm import Session

QUEUE_HOOK = "job_queue_depth"


def queue_depth(app: Flask) -> int | None:
    """How many jobs wait in the job queue; None when the service runs no job queue."""
    hook = app.extensions.get(QUEUE_HOOK)
    return None if hook is None else int(hook())


@cache
def schema_head(migrations: str) -> str | None:
    """The newest revision of the migrations in the directory `migrations`."""
    config = Config()
    config.set_main_option("script_location", migrations)
    return ScriptDirectory.from_config(config).get_current_head()


def database_state(session: Session, app: Flask) -> dict:
    """{"engine", "reachable", "revision", "head", "error"} of the service's database; never raises."""
    head = schema_head(str(Path(app.extensions["migrate"].directory).resolve()))
    state = {"engine": session.get_bind().dialect.name, "reachable": False, "revision": None, "head": head}
    try:
        state["revision"] = session.execute(text("SELECT version_num FROM alembic_version")).scalar_one_or_none()
        state["reachable"] = True
    except Exception as error:  # unreachable, or no schema at all: reported, not raised
        state["error"] = type(error).__name__
    try:
        session.rollback()  # end the read (or the failed statement's) transaction
    except Exception:  # a connection that is gone has nothing to roll back
        pass
    return state


def queue_state(app: Flask) -> dict:
    """{"present", "depth", "error"} of the job queue; never raises."""
    if QUEUE_HOOK not in app.extensions:
        return {"present": False, "depth": None}
    try:
        return {"present": True, "depth": queue_depth(app)}
    except Exception as error:
        return {"present": True, "depth": None, "error": type(error).__name__}


def readiness_problems(database: dict, queue: dict) -> dict[str, list[str]]:
    """Why the service is not ready to take requests (empty when it is): field → messages."""
    problems: dict[str, list[str]] = {}
    if not database["reachable"]:
        problems["database"] = [f"unreachable or without a schema ({database.get('error')})"]
    elif database["revision"] != database["head"]:
        problems["database"] = [f"schema at revision {database['revision']}, migrations at {database['head']}"]
    if queue.get("error"):
        problems["queue"] = [f"the job queue cannot be read ({queue['error']})"]
    return problems
