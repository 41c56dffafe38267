"""The ``matchfair`` command: database, accounts, the demo fair, the server, the solver.

matchfair db upgrade                 create or migrate the database
matchfair create-user EMAIL          add an organizer or staff account
matchfair demo load                  load the demo fair (idempotent)
matchfair serve                      serve the site (waitress, threads) and its solver worker
matchfair worker                     execute solver runs (RQ worker when REDIS_URL is set)
matchfair solve PROBLEM.json         solve a problem file (no database needed)
"""

from __future__ import annotations

import secrets
import signal
import sys

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext
from sqlalchemy import func, select

from scheduler import migrations
from scheduler.errors import DomainError
from scheduler.models import Role, User
from scheduler.users import create_user
from web import create_app
from web.database import get_engine, get_session


def _create_app(*_args: object) -> object:
    return create_app()


@click.group(
    cls=FlaskGroup, create_app=_create_app, add_default_commands=False, add_version_option=False
)
def cli() -> None:
    """matchfair: business-matching fairs from registration to follow-up."""


@cli.group()
def db() -> None:
    """The database schema (Alembic migrations)."""


@db.command("upgrade")
@with_appcontext
def db_upgrade() -> None:
    """Create the database, or bring it up to the newest schema."""
    url = current_app.config["DATABASE_URL"]
    if url.startswith("sqlite:///"):
        from pathlib import Path

        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    migrations.upgrade(url)
    click.echo(f"Database is at revision {migrations.current_revision(get_engine())}.")


@db.command("check")
@with_appcontext
def db_check() -> None:
    """Exit with status 1 when the database is not at the newest revision."""
    url = current_app.config["DATABASE_URL"]
    current, head = migrations.current_revision(get_engine()), migrations.head_revision(url)
    if current != head:
        click.echo(
            f"Database is at {current}, the newest revision is {head}: run `matchfair db upgrade`.",
            err=True,
        )
        sys.exit(1)
    click.echo(f"Database is up to date ({head}).")


@cli.command("create-user")
@click.argument("email")
@click.option("--name", default="", help="Display name (defaults to the e-mail).")
@click.option(
    "--role",
    type=click.Choice([r.value for r in Role]),
    default=Role.ORGANIZER.value,
    show_default=True,
)
@click.option(
    "--password",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    help="Asked for when not given.",
)
@click.option("--locale", type=click.Choice(["ja", "en"]), default="ja", show_default=True)
@with_appcontext
def create_user_command(email: str, name: str, role: str, password: str, locale: str) -> None:
    """Add an organizer or staff account."""
    session = get_session()
    try:
        user = create_user(
            session, email=email, name=name, password=password, role=role, locale=locale
        )
    except DomainError as error:
        raise click.ClickException(error.message) from None
    session.commit()
    click.echo(f"Created {user.role} account {user.email}.")


@cli.group()
def demo() -> None:
    """The demo fair."""


@demo.command("load")
@click.option("--seed", default=2027, show_default=True, help="Random seed of the generator.")
@click.option("--buyers", default=32, show_default=True)
@click.option("--suppliers", default=160, show_default=True)
@with_appcontext
def demo_load(seed: int, buyers: int, suppliers: int) -> None:
    """Load a realistic Japanese demo fair, a past one with its results, and their organizer;
    running it again changes nothing."""
    from scheduler.demo import (
        DEMO_ORGANIZER_EMAIL,
        DEMO_PASSWORD,
        DEMO_STAFF_EMAIL,
        ensure_demo_organizer,
        generate_demo,
    )
    from scheduler.demo_past import generate_past_demo

    session = get_session()
    _require_schema()
    # On a database with real accounts (someone trying the demo on the live site), the
    # demo accounts get a random password instead of the published one.
    real_accounts = session.scalar(
        select(func.count(User.id)).where(User.email.not_in([DEMO_ORGANIZER_EMAIL,
                                                             DEMO_STAFF_EMAIL]))
    )
    organizer, password = ensure_demo_organizer(
        session, password=secrets.token_urlsafe(12) if real_accounts else DEMO_PASSWORD
    )
    event = generate_demo(session, seed=seed, buyers=buyers, suppliers=suppliers)
    past = generate_past_demo(session)
    session.commit()
    click.echo(f"Demo fair: {event.name} ({len(event.participants)} participants)")
    click.echo(f"Past fair with its results: {past.name} ({len(past.participants)} participants)")
    click.echo(
        f"Organizer login: {organizer.email}"
        + (f" / password: {password}" if password else " (password unchanged)")
    )
    if password:
        click.echo(f"Staff login:     staff@example.jp / password: {password}")


@cli.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True)
@click.option("--threads", default=8, show_default=True)
@click.option(
    "--worker/--no-worker",
    "with_worker",
    default=True,
    show_default=True,
    help="Run solver runs in a background process (ignored when REDIS_URL is set).",
)
@with_appcontext
def serve(host: str, port: int, threads: int, with_worker: bool) -> None:
    """Serve the site with waitress (a production WSGI server that needs no internet)."""
    from waitress import serve as waitress_serve

    _require_schema()
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    embedded = None
    if with_worker and not app.config.get("REDIS_URL"):
        from scheduler.worker import EmbeddedWorker

        embedded = EmbeddedWorker(
            app.config["DATABASE_URL"],
            on_restart=lambda code: click.echo(
                f"The solver worker stopped (exit code {code}); restarting it."
            ),
        )
        embedded.start()
        click.echo("Solver worker started in the background.")
    organizers = (
        get_session()
        .scalars(select(User.email).where(User.role == Role.ORGANIZER, User.active.is_(True)))
        .all()
    )
    click.echo(f"matchfair is running on http://{host}:{port}/  (Ctrl+C to stop)")
    if organizers:
        click.echo(f"Log in as: {', '.join(organizers[:3])}")
    # A service manager stops the server with SIGTERM, whose default action ends the
    # process without running the ``finally`` below: the worker would carry on alone.
    previous = signal.signal(signal.SIGTERM, _stop_on_sigterm)
    try:
        waitress_serve(app, host=host, port=port, threads=threads, ident="matchfair")
    finally:
        signal.signal(signal.SIGTERM, previous)
        if embedded is not None:
            embedded.stop()


def _stop_on_sigterm(_signum: int, _frame: object) -> None:
    raise SystemExit(0)


@cli.command("worker")
@click.option("--burst", is_flag=True, help="Stop when no run is waiting (for scripts and CI).")
@click.option("--threads", default=2, show_default=True, help="CP-SAT threads per run.")
@with_appcontext
def worker_command(burst: bool, threads: int) -> None:
    """Execute solver runs: from Redis when REDIS_URL is set, else from the database."""
    from scheduler import worker

    _require_schema()
    url = current_app.config["DATABASE_URL"]
    redis_url = current_app.config.get("REDIS_URL")
    if redis_url:
        from redis.exceptions import RedisError

        try:
            worker.check_redis(redis_url)
        except RedisError as error:  # one line for the operator, not a traceback
            reason = " ".join(str(error).split()) or type(error).__name__
            raise click.ClickException(
                f"cannot reach Redis at {worker.redis_location(redis_url)}: {reason}"
            ) from None
        click.echo(f"Solver worker on the Redis queue {worker.QUEUE_NAME}.")
        try:
            worker.run_rq_worker(redis_url, url, burst=burst)
        except worker.WorkerStopped as stopped:  # exit status 1, for service managers
            raise click.ClickException(str(stopped)) from None
    else:
        click.echo("Solver worker polling the database for queued runs (Ctrl+C to stop).")
        worker.run_worker(url, burst=burst, threads=threads)


def _require_schema() -> None:
    url = current_app.config["DATABASE_URL"]
    if migrations.current_revision(get_engine()) != migrations.head_revision(url):
        raise click.ClickException("The database is not up to date: run `matchfair db upgrade`.")


def _attach_solver_command() -> None:
    """``matchfair solve`` is the solver's own CLI: it needs neither Flask nor a database."""
    from solver.cli import solve_command

    cli.add_command(solve_command, "solve")


_attach_solver_command()


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="matchfair")
