"""The ``matchfair`` command: database, accounts, the demo fair, the server, the solver.

matchfair db upgrade                 create or migrate the database
matchfair create-user EMAIL          add an organizer or staff account
matchfair demo load                  load the demo fair (idempotent)
matchfair serve                      serve the site (waitress, threads) and its solver worker
matchfair worker                     execute solver runs (RQ worker when REDIS_URL is set)
matchfair solve PROBLEM.json         solve a problem file (no database needed)
"""

from __future__ import annotations

import contextlib
import copy
import secrets
import signal
import sys

import click
from flask import current_app
from flask.cli import FlaskGroup, ScriptInfo, with_appcontext
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError

from scheduler import migrations
from scheduler.errors import DomainError
from scheduler.models import Role, User
from scheduler.users import create_user
from web import create_app
from web.config import DatabaseURLError, database_location, first_line, url_password
from web.database import get_engine, get_session

#: Flask's own options and plugin commands, kept working but out of ``--help``: they
#: mean nothing to someone running a fair (``-e/--env-file``, ``-A/--app``, ``--debug``;
#: Flask-Limiter's ``limiter`` group).
_HIDDEN_OPTIONS = ("env_file", "app", "debug")
_HIDDEN_COMMANDS = ("limiter",)


def _create_app(*_args: object) -> object:
    try:
        return create_app()
    except DatabaseURLError as error:  # one line, with "Error:" like the others
        raise click.ClickException(str(error.code)) from None


class MatchfairGroup(FlaskGroup):
    """Flask's command group, showing only what an operator of matchfair uses."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        for index, param in enumerate(self.params):
            if param.name in _HIDDEN_OPTIONS:
                hidden = copy.copy(param)  # Flask's options are shared module globals
                hidden.hidden = True  # type: ignore[attr-defined]
                self.params[index] = hidden

    def _load_plugin_commands(self) -> None:
        super()._load_plugin_commands()
        for name in _HIDDEN_COMMANDS:
            command = self.commands.get(name)
            if command is not None and not command.hidden:
                hidden = copy.copy(command)
                hidden.hidden = True
                self.commands[name] = hidden

    def list_commands(self, ctx: click.Context) -> list[str]:
        # Flask's prints a traceback when the app cannot be built (a DATABASE_URL
        # that is no URL, say): the help is shown anyway, and the command run says why.
        self._load_plugin_commands()
        names = set(click.Group.list_commands(self, ctx))
        with contextlib.suppress(Exception, SystemExit):
            names.update(ctx.ensure_object(ScriptInfo).load_app().cli.list_commands(ctx))
        return sorted(names)


@click.group(
    cls=MatchfairGroup,
    create_app=_create_app,
    add_default_commands=False,
    add_version_option=False,
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
    _reach_database()
    migrations.upgrade(url)
    click.echo(f"Database is at revision {migrations.current_revision(get_engine())}.")


@db.command("check")
@with_appcontext
def db_check() -> None:
    """Exit with status 1 when the database is not at the newest revision."""
    url = current_app.config["DATABASE_URL"]
    _reach_database()
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
    _reach_database()
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
@click.option(
    "--threads",
    default=8,
    show_default=True,
    help="Web request threads (pages served at once); the solver's are `worker --threads`.",
)
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
    _warn_without_shared_secret_key()
    if app.config.get("REDIS_URL"):
        click.echo(
            "Solver runs go to the Redis queue: start `matchfair worker` on the solver machines."
        )
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
@click.option(
    "--threads",
    default=2,
    show_default=True,
    help="CP-SAT threads per solver run (one run at a time per worker).",
)
@with_appcontext
def worker_command(burst: bool, threads: int) -> None:
    """Execute solver runs: from Redis when REDIS_URL is set, else from the database."""
    from scheduler import worker

    _require_schema()
    _warn_without_shared_secret_key()
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
            worker.run_rq_worker(redis_url, url, burst=burst, threads=threads)
        except worker.WorkerStopped as stopped:  # exit status 1, for service managers
            raise click.ClickException(str(stopped)) from None
    else:
        click.echo("Solver worker polling the database for queued runs (Ctrl+C to stop).")
        worker.run_worker(url, burst=burst, threads=threads)


def _require_schema() -> None:
    url = current_app.config["DATABASE_URL"]
    _reach_database()
    if migrations.current_revision(get_engine()) != migrations.head_revision(url):
        raise click.ClickException("The database is not up to date: run `matchfair db upgrade`.")


def _reach_database() -> None:
    """Connect once: a database that is down, refuses the login or does not exist is
    said in one line (password masked), not in a driver's traceback."""
    url = current_app.config["DATABASE_URL"]
    try:
        with get_engine().connect():
            pass
    except DBAPIError as error:
        reason = first_line(error, secret=url_password(url))
        raise click.ClickException(
            f"cannot reach the database at {database_location(url)}: {reason}"
        ) from None


def _warn_without_shared_secret_key() -> None:
    """Several machines on one PostgreSQL or Redis, each with its own key made in its
    instance folder, would refuse each other's logins, forms and staff links."""
    config = current_app.config
    scaled_out = not config["DATABASE_URL"].startswith("sqlite") or config.get("REDIS_URL")
    if scaled_out and config.get("SECRET_KEY_FROM_INSTANCE"):
        click.echo(
            "Warning: SECRET_KEY is not set, so this machine uses its own key from "
            f"{current_app.instance_path}/secret_key. Give every web and worker machine "
            "the same MATCHFAIR_SECRET_KEY, or logins, forms and staff links made on one "
            "are refused on the others.",
            err=True,
        )


def _attach_solver_command() -> None:
    """``matchfair solve`` is the solver's own CLI: it needs neither Flask nor a database."""
    from solver.cli import solve_command

    cli.add_command(solve_command, "solve")


_attach_solver_command()


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="matchfair")
