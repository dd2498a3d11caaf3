"""The browser's login session: who is logged in, as the Actor the services receive.

Shared by the web UI (its pages) and the API (documents the UI links to open with the same login).
"""

from __future__ import annotations

from flask import session

from fundsvc.auth.service import Actor, end_sessions, load_actor, session_version
from fundsvc.extensions import db

SESSION_KEY = "user_id"
VERSION_KEY = "session_version"


def session_actor() -> Actor | None:
    """The Actor of the browser's login session, or None (also used for document downloads under /api/v1)."""
    user_id = session.get(SESSION_KEY)
    if not isinstance(user_id, int):
        return None
    actor = load_actor(db.session, user_id, session.get(VERSION_KEY))
    if actor is None:  # logged out elsewhere, password changed, deactivated or deleted since the login
        session.pop(SESSION_KEY, None)
    return actor


def log_in(actor: Actor) -> None:
    """Start a fresh session for `actor` (a new session on login: no fixation)."""
    lang = session.get("lang")
    session.clear()
    session[SESSION_KEY] = actor.user_id
    session[VERSION_KEY] = session_version(db.session, actor.user_id)
    if lang:
        session["lang"] = lang
    session.permanent = True


def log_out() -> None:
    """End the login here and in every copy of this cookie (keep nothing else from the session)."""
    user_id = session.get(SESSION_KEY)
    if isinstance(user_id, int) and session_actor() is not None:
        end_sessions(db.session, user_id)
    session.clear()
