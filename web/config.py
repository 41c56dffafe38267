"""Default configuration; the instance folder and MATCHFAIR_* environment override it."""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path


def defaults(instance_path: str) -> dict[str, object]:
    return {
        "DATABASE_URL": f"sqlite:///{Path(instance_path) / 'matchfair.sqlite3'}",
        "REDIS_URL": "",
        "LANGUAGES": ["ja", "en"],
        "BABEL_DEFAULT_LOCALE": "ja",
        "BABEL_DEFAULT_TIMEZONE": "Asia/Tokyo",
        "WTF_CSRF_TIME_LIMIT": None,  # a form left open during a long day must still submit
        "MAX_CONTENT_LENGTH": 16 * 1024 * 1024,
        "IMPORT_MAX_ROWS": 5000,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        # "Keep me logged in" lasts a month, not Flask-Login's year.
        "REMEMBER_COOKIE_DURATION": timedelta(days=30),
        # True where the site is served over HTTPS: the login cookies are then Secure.
        "SECURE_COOKIES": False,
        # Where participants reach the site (https://fair.example.jp): links in e-mails,
        # QR codes and calendar subscriptions. Empty: the host of the request.
        "PUBLIC_URL": "",
        # Reverse proxies in front of the app (scaled out); 0: clients connect directly.
        "PROXY_COUNT": 0,
        # Failed logins per address and e-mail before the form refuses for a while.
        "LOGIN_FAILURE_LIMIT": "10/minute",
        # Uploads: participant import files (kept between preview and import) and
        # proposal-sheet attachments live under the instance folder.
        "INSTANCE_UPLOADS": str(Path(instance_path) / "uploads"),
        "IMPORT_MAX_BYTES": 5 * 1024 * 1024,
        "PROPOSAL_MAX_BYTES": 5 * 1024 * 1024,
        # E-mail (schedule published, changes on the day). Without MAIL_SERVER nobody
        # is e-mailed and the organizer is told so; links still work on the pages.
        "MAIL_SERVER": "",
        "MAIL_PORT": 25,
        "MAIL_USERNAME": "",
        "MAIL_PASSWORD": "",
        "MAIL_USE_TLS": False,
        "MAIL_FROM": "matchfair@localhost",
    }


def instance_secret_key(instance_path: str) -> str:
    """A secret key kept in the instance folder, created on first start.

    The embedded default must be safe without anyone configuring a secret.
    """
    path = Path(instance_path) / "secret_key"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key
