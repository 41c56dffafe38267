"""Default configuration; the instance folder and MATCHFAIR_* environment override it."""

from __future__ import annotations

import os
import re
import secrets
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote, quote_plus

from sqlalchemy.engine import make_url


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


#: How long a process waits for the secret key another one is writing.
SECRET_KEY_WAIT = 2.0
_KEY_LENGTH = 64  # hex digits of the key made here


def instance_secret_key(instance_path: str) -> str:
    """A secret key kept in the instance folder, created on first start.

    The embedded default must be safe without anyone configuring a secret. Several
    processes may start at once (a web server and its workers, a service manager
    starting them all): the key is written whole to a file of its own, then linked into
    place, which fails if another process got there first; every process then uses the
    one key that is in place.
    """
    path = Path(instance_path) / "secret_key"
    key = _read_secret_key(path)
    if key is not None:
        return key
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=".secret_key.", dir=path.parent)  # mode 0600
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass  # another process put its key there first: that one counts
        except OSError:  # a file system without hard links: the old way, first wins
            _create_exclusively(path, Path(temporary).read_text())
    finally:
        os.unlink(temporary)
    key = _read_secret_key(path)
    if key is None:
        raise SystemExit(f"{path} is missing or empty: delete it, or set SECRET_KEY")
    return key


def _create_exclusively(path: Path, key: str) -> None:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(fd, "w") as fh:
        fh.write(key)


def _read_secret_key(path: Path) -> str | None:
    """The key in ``path``; None when there is no such file.

    A file that is empty or shorter than a key made here may be in the middle of
    being written (by an older version, which wrote in place): read again for a moment.
    A shorter key someone wrote there by hand (not changed in that moment) is used at
    once.
    """
    deadline = time.monotonic() + SECRET_KEY_WAIT
    while True:
        try:
            key = path.read_text().strip()
        except FileNotFoundError:
            return None
        if len(key) >= _KEY_LENGTH or time.monotonic() >= deadline:
            return key or None
        if key and time.time() - path.stat().st_mtime > SECRET_KEY_WAIT:
            return key  # short, but not being written now: a key written by hand
        time.sleep(0.05)


class DatabaseURLError(SystemExit):
    """``DATABASE_URL`` names no database matchfair can use (a start-up error: the
    message, without a traceback)."""


def database_url(url: str) -> str:
    """``url`` with the driver matchfair installs: ``postgresql://`` and the
    ``postgres://`` of Heroku- or Render-style settings mean psycopg 3."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


# What stands between the scheme and the host: a user, a password, both. The host starts
# after the last "@" (a password may hold "@", "/", "?" or "#").
_CREDENTIALS_IN_URL = re.compile(r"^([^:/?#]*:?//)(.*)@")


def database_location(url: str) -> str:
    """``url`` without its password, to be printed: as SQLAlchemy reads it when it can,
    else with everything before the host masked (a mistyped URL may still hold one)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # unparsable: nothing of what stands before the host is shown
        masked = _CREDENTIALS_IN_URL.sub(r"\1***@", url)
        return masked if masked != url else url.split("//", 1)[0] + ("//…" if "//" in url else "")


def first_line(error: BaseException, *, secret: str | None = None) -> str:
    """The first line of ``error``'s message (its driver's, for SQLAlchemy's wrappers),
    with ``secret`` (a password) masked."""
    cause = getattr(error, "orig", None) or error
    lines = [line for line in str(cause).splitlines() if line.strip()]
    text = " ".join(lines[0].split()) if lines else type(cause).__name__
    if secret and len(secret) >= 4:
        # As decoded and as written in the URL (%-escaped), wherever a driver quotes it.
        for form in {secret, quote(secret, safe=""), quote_plus(secret)}:
            text = text.replace(form, "***")
    return text


def url_password(url: str) -> str | None:
    """The password in ``url``, if it has one (to mask it wherever it is printed)."""
    try:
        return make_url(url).password
    except Exception:  # an unparsable URL: nothing to mask
        return None
