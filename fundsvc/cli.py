"""Flask CLI commands: users, demo data (and the document commands of later issues)."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup, with_appcontext

from fundsvc.extensions import db

users = AppGroup("users", help="Manage users and API tokens.")
demo = AppGroup("demo", help="The demo data set.")


@users.command("create")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice(["admin", "treasurer", "committee", "viewer"]))
@click.option("--unit", "unit_code", default=None, help="Limit the user to this unit's subtree.")
@click.option("--password", default=None, help="Password for the web UI (optional).")
@click.option("--full-name", default=None)
def create_user_command(username, role, unit_code, password, full_name):
    """Create a user; prints the new API token as the last line."""
    from fundsvc.auth.service import create_user
    from fundsvc.errors import DomainError

    try:
        user, token = create_user(db.session, username, role, unit_code, password=password, full_name=full_name)
    except DomainError as error:
        raise click.ClickException(error.message) from error
    click.echo(f"Created user {user.username} ({user.role}{', unit ' + unit_code if unit_code else ''})")
    click.echo(token)


@users.command("token")
@click.argument("username")
def issue_token_command(username):
    """Issue an additional API token for a user; prints it as the last line."""
    from sqlalchemy import select

    from fundsvc.auth.models import User
    from fundsvc.auth.service import issue_token
    from fundsvc.db import write_transaction

    with write_transaction(db.session):
        user = db.session.scalar(select(User).where(User.username == username))
        if user is None:
            raise click.ClickException(f"Unknown user {username!r}")
        token = issue_token(db.session, user)
    click.echo(token)


@users.command("password")
@click.argument("username")
@click.password_option()
def set_password_command(username, password):
    """Set a user's web UI password."""
    from fundsvc.auth.service import set_password

    set_password(db.session, username, password)
    click.echo("Password set.")


@demo.command("load")
@click.option("--print-tokens", is_flag=True, help="Issue and print a fresh API token for each demo user.")
@click.option(
    "--scale",
    type=click.Choice(["demo", "province"]),
    default="demo",
    show_default=True,
    help="province: a province's year at full size (300,000 gifts, 100,000 nominations, a round approved); "
    "needs an empty database and takes a few minutes.",
)
def demo_load_command(print_tokens, scale):
    """Load the demo data set (idempotent: a second run adds nothing)."""
    from fundsvc.demo.load import load_demo

    if scale == "province":
        from fundsvc.demo.province import load_province

        try:
            click.echo(load_province(db.session).describe())
        except ValueError as error:
            raise click.ClickException(str(error)) from error
    summary = load_demo(db.session, issue_tokens=print_tokens, life=True)
    click.echo(summary.describe())


@click.command("worker")
@click.option(
    "--concurrency",
    type=click.IntRange(min=1),
    default=None,
    help="Jobs this worker renders at once (default FUNDSVC_RENDER_CONCURRENCY, the machine's bound).",
)
@click.option("--burst", is_flag=True, help="Exit once no job is waiting (instead of waiting for more).")
@with_appcontext
def worker_command(concurrency, burst):
    """Render the queued big documents (the jobs table on SQLite, procrastinate on PostgreSQL)."""
    from flask import current_app

    from fundsvc.jobs.worker import run_worker

    run_worker(current_app._get_current_object(), concurrency, burst=burst)


def register(app: Flask) -> None:
    """Attach the command groups to the app."""
    app.cli.add_command(users)
    app.cli.add_command(demo)
    app.cli.add_command(worker_command)
    from fundsvc.backup.cli import backup

    app.cli.add_command(backup)
    try:
        from fundsvc.documents.cli import documents
    except ImportError:  # the documents commands arrive with the ceremony documents issue
        return
    app.cli.add_command(documents)
