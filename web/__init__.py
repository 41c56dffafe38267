"""The matchfair web application."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask

from web import config as config_module

REPO_ROOT = Path(__file__).resolve().parent.parent


class MatchfairFlask(Flask):
    """Flask, with the links that leave the site (e-mails, QR codes, calendar
    subscriptions) built on ``PUBLIC_URL`` when it is set (:mod:`web.security`)."""

    def url_for(self, endpoint: str, *, _external: bool | None = None, **values: Any) -> str:
        public = self.config.get("PUBLIC_URL")
        if _external and public:
            values.pop("_scheme", None)  # the public address has its own
            return public + super().url_for(endpoint, _external=False, **values)
        return super().url_for(endpoint, _external=_external, **values)


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app: defaults, instance config, MATCHFAIR_* env, then the test override."""
    instance_path = os.environ.get("MATCHFAIR_INSTANCE_PATH", str(REPO_ROOT / "instance"))
    app = MatchfairFlask(
        __name__,
        instance_path=instance_path,
        instance_relative_config=True,
        template_folder=str(REPO_ROOT / "templates"),
        static_folder="static",
    )
    app.config.from_mapping(config_module.defaults(app.instance_path))
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
        app.config.from_prefixed_env("MATCHFAIR")
        # The conventional names win too, so PostgreSQL/Redis deployments need no prefix.
        for name in ("DATABASE_URL", "REDIS_URL"):
            if os.environ.get(name):
                app.config[name] = os.environ[name]
    else:
        app.config.from_mapping(test_config)
    # Made on this machine when nobody configured one: `matchfair serve` and `worker`
    # warn about it where several machines share the database (they would not agree).
    app.config["SECRET_KEY_FROM_INSTANCE"] = not app.config.get("SECRET_KEY")
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = config_module.instance_secret_key(app.instance_path)
    app.config["DATABASE_URL"] = config_module.database_url(str(app.config["DATABASE_URL"]))

    from web import database, errors, extensions, filters, form_messages, security
    from web.ids import BoundedIntConverter

    # Before any route is added: <int:...> must refuse ids no database column holds.
    app.url_map.converters["int"] = BoundedIntConverter

    _init_database(app, database)
    extensions.init_app(app)
    form_messages.init_app(app)
    errors.init_app(app)
    filters.init_app(app)
    security.init_app(app)

    from web import accounts, auth, i18n, main

    app.register_blueprint(auth.bp)
    app.register_blueprint(accounts.bp)
    app.register_blueprint(i18n.bp)
    app.register_blueprint(main.bp)
    _register_feature_blueprints(app)
    return app


def _init_database(app: Flask, database: Any) -> None:
    """The app's engine; a URL that names no usable database is a start-up error in
    one line (its password masked), not a traceback from deep inside SQLAlchemy."""
    from sqlalchemy.exc import ArgumentError

    url = app.config["DATABASE_URL"]
    try:
        database.init_app(app)
    except (ArgumentError, ImportError, ValueError) as error:
        # NoSuchModuleError is an ArgumentError; ValueError: a port that is not a number.
        reason = config_module.first_line(error, secret=config_module.url_password(url))
        if isinstance(error, ImportError):
            reason = f"its Python driver is not installed ({reason})"
        raise config_module.DatabaseURLError(
            f"cannot use the database at {config_module.database_location(url)}: {reason}"
        ) from None


def _register_feature_blueprints(app: Flask) -> None:
    """Blueprints of the feature modules, each registered explicitly."""
    from web import (
        access,
        availability,
        board,
        directory,
        events,
        history,
        outcomes,
        participant_access,
        participants_admin,
        portal,
        preferences,
        preferences_admin,
        registration,
        repair,
        runs,
        schedule_outputs,
        schedules,
        staff,
    )

    app.register_blueprint(events.bp)
    app.register_blueprint(participants_admin.bp)
    app.register_blueprint(schedules.bp)
    app.register_blueprint(schedule_outputs.bp)
    app.register_blueprint(staff.bp)
    app.register_blueprint(runs.bp)
    participant_access.init_app(app)
    app.register_blueprint(portal.bp)
    app.register_blueprint(directory.bp)
    app.register_blueprint(access.bp)
    app.register_blueprint(registration.bp)
    app.register_blueprint(preferences.bp)
    app.register_blueprint(preferences_admin.bp)
    app.register_blueprint(availability.bp)
    app.register_blueprint(board.bp)
    app.register_blueprint(repair.bp)
    app.register_blueprint(outcomes.bp)
    app.register_blueprint(history.bp)
