"""Shared fixtures: the app from the factory, a client, a CLI runner, a database session.

The database is SQLite by default (a migrated template file copied for each test,
which is fast). With ``DATABASE_URL`` set to PostgreSQL, the schema is migrated once
and every table is emptied between tests.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from scheduler import migrations
from scheduler.db import Base, make_engine, make_session_factory
from scheduler.models import Event, Role, RunStatus, ScheduleRun, User
from scheduler.users import create_user
from tests.mail_inbox import Inbox, free_port
from web import create_app

PASSWORD = "correct horse battery"
EXTERNAL_URL = os.environ.get("DATABASE_URL", "")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip PostgreSQL/Redis tests without their service, and say why."""
    no_pg = pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL=postgresql+psycopg://…")
    no_redis = pytest.mark.skip(reason="needs Redis: set REDIS_URL=redis://…")
    for item in items:
        if "postgres" in item.keywords and not EXTERNAL_URL.startswith("postgresql"):
            item.add_marker(no_pg)
        if "redis" in item.keywords and not os.environ.get("REDIS_URL"):
            item.add_marker(no_redis)


@pytest.fixture(scope="session")
def _template_database(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A database migrated once per test session (SQLite file, or the external database)."""
    if EXTERNAL_URL:
        migrations.upgrade(EXTERNAL_URL)
        return EXTERNAL_URL
    path = tmp_path_factory.mktemp("db") / "template.sqlite3"
    migrations.upgrade(f"sqlite:///{path}")
    return str(path)


@pytest.fixture
def database_url(_template_database: str, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database for one test."""
    if EXTERNAL_URL:
        _empty_all_tables(EXTERNAL_URL)
        yield EXTERNAL_URL
        return
    path = tmp_path / "test.sqlite3"
    shutil.copyfile(_template_database, path)
    yield f"sqlite:///{path}"


def _empty_all_tables(url: str) -> None:
    engine = make_engine(url)
    names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture
def app(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    application = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "DATABASE_URL": database_url,
            "WTF_CSRF_ENABLED": False,
            "SERVER_NAME": "localhost",
            "INSTANCE_UPLOADS": str(tmp_path / "uploads"),
        }
    )
    yield application
    from web.database import get_engine

    get_engine(application).dispose()


@pytest.fixture
def csrf_app(database_url: str) -> Iterator[Flask]:
    """The app with CSRF protection on, as in production."""
    application = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "DATABASE_URL": database_url,
        }
    )
    yield application
    from web.database import get_engine

    get_engine(application).dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


@pytest.fixture
def db_session(app: Flask) -> Iterator[Session]:
    """A session on the test database, outside any request (for services and set-up)."""
    from web.database import get_engine

    session = make_session_factory(get_engine(app))()
    yield session
    session.rollback()
    session.close()


@pytest.fixture
def factory(database_url: str) -> Iterator[sessionmaker]:
    """A session factory for code that opens its own sessions (solver workers, races)."""
    engine = make_engine(database_url)
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture
def solved(db_session: Session, fair: Event, factory: sessionmaker) -> ScheduleRun:
    """A finished one-second solver run on the requesting module's ``fair``."""
    from scheduler import runs

    run = runs.create_run(db_session, fair, parameters={"time_limit": 1})
    db_session.commit()
    assert runs.execute_run(run.id, factory, threads=1) == RunStatus.SUCCEEDED
    db_session.expire_all()
    return db_session.get(ScheduleRun, run.id)


@pytest.fixture
def organizer(db_session: Session) -> User:
    user = create_user(db_session, email="org@example.jp", name="主催 花子", password=PASSWORD)
    db_session.commit()
    return user


@pytest.fixture
def staff(db_session: Session) -> User:
    user = create_user(
        db_session, email="staff@example.jp", name="係員 太郎", password=PASSWORD, role=Role.STAFF
    )
    db_session.commit()
    return user


class AuthActions:
    """Log in and out through the real pages."""

    def __init__(self, client: FlaskClient) -> None:
        self._client = client

    def login(self, email: str = "org@example.jp", password: str = PASSWORD):
        return self._client.post("/auth/login", data={"email": email, "password": password})

    def logout(self):
        return self._client.post("/auth/logout")


@pytest.fixture
def event(db_session: Session) -> Event:
    """An event without days or participants (the participant import and list tests; a
    module with an ``event`` of its own uses that one)."""
    fair = Event(name="東三河ものづくり商談会", slug="higashimikawa")
    db_session.add(fair)
    db_session.commit()
    return fair


@pytest.fixture
def auth(client: FlaskClient) -> AuthActions:
    return AuthActions(client)


@pytest.fixture
def as_staff(client: FlaskClient, auth: AuthActions, staff: User) -> User:
    """The staff member, logged in on ``client``, reading the pages in English."""
    assert auth.login("staff@example.jp").status_code == 302
    client.post("/language", data={"lang": "en"})
    return staff


@pytest.fixture
def logged_in(auth: AuthActions, organizer: User) -> User:
    """The organizer, logged in on ``client``."""
    response = auth.login()
    assert response.status_code == 302, response.get_data(as_text=True)
    return organizer


@pytest.fixture
def organizer_en(client: FlaskClient, logged_in: User) -> User:
    """The organizer, logged in, reading the pages in English (the msgids the tests quote)."""
    assert client.post("/language", data={"lang": "en"}).status_code == 302
    return logged_in


@pytest.fixture
def smtp_server() -> Iterator[tuple[Controller, Inbox]]:
    """A local SMTP server for the duration of the test, and what it received."""
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, inbox
    controller.stop()
