"""One SQLAlchemy session per request (or CLI command), committed by the view.

Views call :func:`get_session`; services receive that session and only flush.
The session is closed when the app context ends, rolled back if it was left
dirty by an error.
"""

from __future__ import annotations

from flask import Flask, current_app, g
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from scheduler.db import make_engine, make_session_factory

_EXTENSION_KEY = "matchfair_db"


class DatabaseState:
    def __init__(self, engine: Engine, factory: sessionmaker) -> None:
        self.engine = engine
        self.factory = factory


def init_app(app: Flask) -> None:
    url = app.config["DATABASE_URL"]
    engine = make_engine(url, **app.config.get("DATABASE_ENGINE_OPTIONS", {}))
    app.extensions[_EXTENSION_KEY] = DatabaseState(engine, make_session_factory(engine))
    app.teardown_appcontext(_close_session)


def state(app: Flask | None = None) -> DatabaseState:
    return (app or current_app).extensions[_EXTENSION_KEY]


def get_engine(app: Flask | None = None) -> Engine:
    return state(app).engine


def get_session() -> Session:
    """The session of the current request or command."""
    if "db_session" not in g:
        g.db_session = state().factory()
    return g.db_session


def _close_session(exc: BaseException | None) -> None:
    session: Session | None = g.pop("db_session", None)
    if session is None:
        return
    if exc is not None:
        session.rollback()
    session.close()
