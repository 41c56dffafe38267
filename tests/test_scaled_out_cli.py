"""The command line of a scaled-out set-up (PostgreSQL, Redis, several machines):
a database it cannot use or reach is said in one line, the worker's --threads reach
the runs it executes, the start warns of a key every machine makes for itself, and
the help shows what an operator uses."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
from click.testing import CliRunner, Result
from flask import Flask

from scheduler import worker
from tests.mail_inbox import free_port
from web import create_app
from web.cli import cli

PASSWORD = "hunter22-secret"


def _one_line_error(result: Result) -> str:
    """The output, which must be a clean exit with status 1 and a single line."""
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output and PASSWORD not in result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    return lines[0]


def _command_line(tmp_path: Path, args: list[str], **env: str) -> Result:
    """``matchfair ARGS`` as typed in a shell: the app built from the environment."""
    environment = {
        "MATCHFAIR_INSTANCE_PATH": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'm.sqlite3'}",
        "REDIS_URL": "",
        **env,
    }
    return CliRunner().invoke(cli, args, env=environment, prog_name="matchfair")


# ------------------------------------------------------------ the database URL


@pytest.mark.parametrize(
    "args", [["serve"], ["worker", "--burst"], ["db", "upgrade"], ["db", "check"],
             ["demo", "load"], ["create-user", "a@example.jp", "--password", "long enough"]]
)
def test_a_database_that_does_not_answer_is_one_line_with_the_password_masked(
    tmp_path: Path, args: list[str]
) -> None:
    port = free_port()
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "t",
            "DATABASE_URL": f"postgresql://postgres:{PASSWORD}@127.0.0.1:{port}/fair",
        }
    )
    line = _one_line_error(app.test_cli_runner().invoke(cli, args))
    assert line.startswith(
        f"Error: cannot reach the database at postgresql+psycopg://postgres:***@127.0.0.1:{port}"
        "/fair: "
    ), line
    assert "Connection refused" in line


@pytest.mark.postgres
def test_a_database_that_does_not_exist_is_one_line(tmp_path: Path) -> None:
    parts = urlsplit(os.environ["DATABASE_URL"])
    missing = urlunsplit(parts._replace(path="/matchfair_no_such_database"))
    app = create_app({"TESTING": True, "SECRET_KEY": "t", "DATABASE_URL": missing})
    line = _one_line_error(app.test_cli_runner().invoke(cli, ["db", "upgrade"]))
    assert line.startswith("Error: cannot reach the database at postgresql+psycopg://")
    assert 'database "matchfair_no_such_database" does not exist' in line


@pytest.mark.parametrize(
    "url",
    [
        f"postgresql://user:pa/{PASSWORD}@127.0.0.1:{{port}}/fair",  # a "/" in the password
        f"postgresql://user@server:{PASSWORD}@127.0.0.1:{{port}}/fair",  # Azure-style user
        f"postgresql://user:{PASSWORD}#x@127.0.0.1:{{port}}/fair",  # a "#" in the password
        f"postgresql://user:{PASSWORD.replace('-', '%40')}@127.0.0.1:{{port}}/fair",  # escaped
    ],
)
def test_passwords_of_every_shape_are_masked(url: str) -> None:
    """Review: a password with "/", "#" or after a user with "@" was printed in clear."""
    url = url.format(port=free_port())
    app = create_app({"TESTING": True, "SECRET_KEY": "t", "DATABASE_URL": url})
    result = app.test_cli_runner().invoke(cli, ["db", "check"])
    secret = PASSWORD.replace("-", "@") if "%40" in url else PASSWORD
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert secret not in result.output and PASSWORD.split("-")[1] not in result.output
    assert "***" in result.output


@pytest.mark.parametrize(
    "url",
    [f"postgresql//user:{PASSWORD}@db.example.jp/fair",  # a typo: no ":" after the scheme
     f"postgresql://user:{PASSWORD}@db.example.jp:five/fair"],  # a port that is no number
)
def test_an_unparsable_url_is_one_line_without_its_password(tmp_path: Path, url: str) -> None:
    line = _one_line_error(_command_line(tmp_path, ["db", "upgrade"], DATABASE_URL=url))
    assert line.startswith("Error: cannot use the database at "), line


@pytest.mark.parametrize("scheme", ["postgres", "postgresql"], ids=["heroku-style", "plain"])
def test_heroku_style_postgres_urls_use_psycopg(scheme: str) -> None:
    app = create_app(
        {"TESTING": True, "SECRET_KEY": "t", "DATABASE_URL": f"{scheme}://u@db.example.jp/fair"}
    )
    assert app.config["DATABASE_URL"] == "postgresql+psycopg://u@db.example.jp/fair"


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("not a url", "Could not parse SQLAlchemy URL"),
        (f"postgress://u:{PASSWORD}@db.example.jp/fair", "Can't load plugin"),
        (f"mysql://u:{PASSWORD}@db.example.jp/fair", "its Python driver is not installed"),
    ],
)
@pytest.mark.parametrize("args", [["serve"], ["worker"], ["db", "upgrade"], ["demo", "load"]])
def test_a_database_url_that_cannot_be_used_is_one_line(
    tmp_path: Path, url: str, reason: str, args: list[str]
) -> None:
    if url.startswith("mysql") and importlib.util.find_spec("MySQLdb") is not None:
        pytest.skip("a MySQL driver is installed here")
    line = _one_line_error(_command_line(tmp_path, args, DATABASE_URL=url))
    masked = url.replace(PASSWORD, "***")
    assert line.startswith(f"Error: cannot use the database at {masked}: "), line
    assert reason in line
    # The help is still there, without a traceback about the URL.
    shown = _command_line(tmp_path, ["--help"], DATABASE_URL=url)
    assert shown.exit_code == 0 and "Traceback" not in shown.output
    assert "worker" in shown.output


# ------------------------------------------------------- the worker's threads


def _fake_redis_worker(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    monkeypatch.setattr(worker, "check_redis", lambda _url: None)
    monkeypatch.setattr(
        worker, "run_rq_worker", lambda *args, **kwargs: seen.update(args=args, **kwargs)
    )
    return seen


def test_worker_threads_reach_the_redis_worker(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = _fake_redis_worker(monkeypatch)
    app.config["REDIS_URL"] = f"redis://127.0.0.1:{free_port()}/13"
    result = app.test_cli_runner().invoke(cli, ["worker", "--burst", "--threads", "3"])
    assert result.exit_code == 0, result.output
    assert seen["threads"] == 3 and seen["burst"] is True


# ------------------------------------------- a secret key for each machine


@pytest.fixture
def keyless_app(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """An app without a configured SECRET_KEY (it makes one in its instance folder)."""
    from web.database import get_engine

    monkeypatch.setenv("MATCHFAIR_INSTANCE_PATH", str(tmp_path / "instance"))
    made: list[Flask] = []

    def make(**config: object) -> Flask:
        made.append(create_app({"TESTING": True, "DATABASE_URL": database_url, **config}))
        return made[-1]

    yield make
    for app in made:
        get_engine(app).dispose()


WARNING = "Warning: SECRET_KEY is not set"


def test_a_worker_on_redis_without_a_secret_key_warns(
    keyless_app, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fake_redis_worker(monkeypatch)
    redis_url = f"redis://127.0.0.1:{free_port()}/13"
    result = keyless_app(REDIS_URL=redis_url).test_cli_runner().invoke(cli, ["worker", "--burst"])
    assert result.exit_code == 0, result.output
    assert WARNING in result.output and "MATCHFAIR_SECRET_KEY" in result.output
    # A key that is configured, or an embedded set-up (one machine): nothing to say.
    configured = keyless_app(REDIS_URL=redis_url, SECRET_KEY="shared")
    assert WARNING not in configured.test_cli_runner().invoke(cli, ["worker", "--burst"]).output
    if database_url.startswith("sqlite"):
        embedded = keyless_app().test_cli_runner().invoke(cli, ["worker", "--burst"])
        assert embedded.exit_code == 0 and WARNING not in embedded.output


@pytest.mark.postgres
def test_a_worker_on_postgresql_without_a_secret_key_warns(keyless_app) -> None:
    result = keyless_app().test_cli_runner().invoke(cli, ["worker", "--burst"])
    assert result.exit_code == 0, result.output
    assert WARNING in result.output


def test_serve_with_redis_says_where_runs_go_and_warns_without_a_secret_key(
    keyless_app, monkeypatch: pytest.MonkeyPatch
) -> None:
    import waitress

    served: dict[str, Any] = {}
    monkeypatch.setattr(waitress, "serve", lambda _app, **kwargs: served.update(kwargs))
    app = keyless_app(REDIS_URL=f"redis://127.0.0.1:{free_port()}/13")
    result = app.test_cli_runner().invoke(cli, ["serve", "--threads", "4"])
    assert result.exit_code == 0, result.output
    assert (
        "Solver runs go to the Redis queue: start `matchfair worker` on the solver machines."
        in result.output
    )
    assert "Solver worker started" not in result.output
    assert WARNING in result.output and served["threads"] == 4


# ------------------------------------------------------------------- the help


def test_the_help_shows_what_an_operator_uses(tmp_path: Path) -> None:
    shown = _command_line(tmp_path, ["--help"])
    assert shown.exit_code == 0, shown.output
    for flask_only in ("--env-file", "--app", "--debug", "limiter"):
        assert flask_only not in shown.output
    for command in ("create-user", "db", "demo", "serve", "solve", "worker"):
        assert f"  {command} " in shown.output
    serve = _command_line(tmp_path, ["serve", "--help"]).output
    assert "Web request threads" in serve
    assert "CP-SAT threads per solver run" in _command_line(tmp_path, ["worker", "--help"]).output
    # Hidden, not gone: Flask's options and the limiter's commands still work.
    assert _command_line(tmp_path, ["limiter", "--help"]).exit_code == 0
    assert _command_line(tmp_path, ["--no-debug", "db", "--help"]).exit_code == 0
