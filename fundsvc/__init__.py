"""fundsvc: the scholarship-fund service of the Hội Khuyến học.

The application is built by `create_app` (fundsvc.app); the domain packages (services, engines, models) import
nothing of Flask, so they can be used, tested and timed without it.
"""

from __future__ import annotations


def create_app(config: dict | None = None):
    """Build the application (see fundsvc.app.create_app)."""
    from fundsvc.app import create_app as build

    return build(config)
