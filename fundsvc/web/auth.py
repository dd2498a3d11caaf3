"""The web UI's access rules: a page for some roles only (the login session itself: fundsvc.login_session)."""

from __future__ import annotations

from functools import wraps

from flask import g, redirect, request, url_for


def roles_required(*roles: str):
    """Decorator: the page needs one of `roles` (admins always pass); others get a 403 page."""

    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            from fundsvc.errors import Forbidden

            actor = g.get("actor")
            if actor is None:
                return redirect(url_for("web.login", next=request.full_path))
            if not actor.has_role(*roles):
                raise Forbidden("Trang này không dành cho vai trò của bạn (role not allowed)")
            return view(*args, **kwargs)

        return wrapper

    return decorate
