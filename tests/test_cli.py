"""The matchfair command line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sqlalchemy import select

from benchmarks.generator import generate
from benchmarks.generator import main as generator_main
from scheduler.models import User
from solver.problem_io import load_problem
from web.cli import cli


def test_create_user_hashes_the_password(app, db_session) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(
        cli,
        [
            "create-user",
            "Staff@Example.jp",
            "--name",
            "係員",
            "--role",
            "staff",
            "--password",
            "long enough pw",
        ],
    )
    assert result.exit_code == 0, result.output
    user = db_session.scalar(select(User).where(User.email == "staff@example.jp"))
    assert user.role == "staff" and "long enough pw" not in user.password_hash


def test_create_user_twice_is_a_clear_error(app) -> None:
    runner = app.test_cli_runner()
    args = ["create-user", "a@example.jp", "--password", "long enough pw"]
    assert runner.invoke(cli, args).exit_code == 0
    result = runner.invoke(cli, args)
    assert result.exit_code == 1
    assert "already exists" in result.output
    assert "Traceback" not in result.output


def test_short_password_is_refused(app) -> None:
    result = app.test_cli_runner().invoke(
        cli, ["create-user", "b@example.jp", "--password", "short"]
    )
    assert result.exit_code == 1 and "at least 8" in result.output


def test_demo_load_on_a_live_database_does_not_use_the_published_password(app, db_session) -> None:
    """`make demo` prints organizer@example.jp / matchfair-demo; loading the demo into a
    database with real accounts must not open it with that well-known password."""
    from scheduler.demo import DEMO_ORGANIZER_EMAIL, DEMO_PASSWORD
    from scheduler.users import authenticate

    runner = app.test_cli_runner()
    assert (
        runner.invoke(
            cli, ["create-user", "chief@pref.example.jp", "--password", "long enough pw"]
        ).exit_code
        == 0
    )
    result = runner.invoke(cli, ["demo", "load", "--buyers", "3", "--suppliers", "6"])
    assert result.exit_code == 0, result.output
    assert DEMO_PASSWORD not in result.output and "password: " in result.output
    printed = result.output.split("password: ", 1)[1].split()[0]
    db_session.expire_all()
    assert authenticate(db_session, DEMO_ORGANIZER_EMAIL, DEMO_PASSWORD) is None
    assert authenticate(db_session, DEMO_ORGANIZER_EMAIL, printed) is not None


def test_demo_load_on_a_fresh_database_prints_the_readmes_login(app) -> None:
    from scheduler.demo import DEMO_PASSWORD

    result = app.test_cli_runner().invoke(
        cli, ["demo", "load", "--buyers", "3", "--suppliers", "6"]
    )
    assert result.exit_code == 0, result.output
    assert f"organizer@example.jp / password: {DEMO_PASSWORD}" in result.output


def test_the_problem_generator_has_a_command_line(tmp_path: Path) -> None:
    """`python -m benchmarks.generator --help` once printed nothing: it writes a problem
    file of a family, seed and size now, the one generate() returns."""
    repo = Path(__file__).resolve().parents[1]
    shown = subprocess.run(
        [sys.executable, "-m", "benchmarks.generator", "--help"],
        capture_output=True,
        text=True,
        cwd=repo,
        timeout=60,
    )
    assert shown.returncode == 0
    assert shown.stdout.startswith("usage: python -m benchmarks.generator")
    assert "compact-infeasible" in shown.stdout and "--set NAME=VALUE" in shown.stdout

    sizes = {"companies": 10, "meetings": 14, "slots": 10, "tables": 3}
    path = tmp_path / "compact.json"
    argv = ["compact", "--seed", "1", "-o", str(path)]
    argv += [f"--set={name}={value}" for name, value in sizes.items()]
    assert generator_main(argv) == 0
    assert load_problem(path) == generate("compact", 1, **sizes)
    assert generator_main(["fair", "--set", "buyerz=3"]) == 2
    assert generator_main(["fair", "--set", "buyers=0"]) == 2
