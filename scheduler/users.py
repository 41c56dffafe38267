"""Organizer and staff accounts: creating them, signing in, and their upkeep.

The organizers' "Accounts" pages and everyone's "My account" page (``web/accounts.py``)
call the services below; ``matchfair create-user`` calls :func:`create_user`. Every
change made on the site is written to the audit log, never with a password in it.

Guard rails: an organizer cannot deactivate or demote themselves, and the last active
organizer can never be deactivated or demoted. That rule is checked inside the write,
after :func:`_lock_accounts` has taken the rows it reads, so two organizers demoting each
other at the same moment cannot leave the site with no organizer.
"""

from __future__ import annotations

import hashlib
import secrets
import unicodedata
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import and_, func, or_, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from scheduler import audit
from scheduler.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from scheduler.i18n import N_
from scheduler.models import AuditEntry, Role, User

MIN_PASSWORD_LENGTH = 8
# Generated passwords are read off a screen or a slip and typed on a phone: lower-case
# letters and digits without the look-alikes (0/o, 1/l/i), in groups of four: 31 symbols,
# 12 of them ≈ 59 bits, far beyond what LOGIN_FAILURE_LIMIT lets anyone guess.
PASSWORD_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
PASSWORD_GROUPS = 3
MAX_NAME_LENGTH = 200
MAX_EMAIL_LENGTH = 254


def normalize_email(email: str) -> str:
    """One spelling per address: full-width letters and ＠ typed on a Japanese keyboard
    are the address itself (NFKC), case and surrounding spaces are not part of it."""
    return unicodedata.normalize("NFKC", email).strip().lower()


def generate_password() -> str:
    """A new random password, easy to hand over (``k7mq-x3rd-p9wn``)."""
    return "-".join(
        "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(4)) for _ in range(PASSWORD_GROUPS)
    )


# Passwords of eight characters or more that are the first ones tried against any
# login page (QA: "password" and "12345678" were accepted).
COMMON_PASSWORDS = frozenset({
    "password", "password1", "password123", "passw0rd", "12345678", "123456789",
    "1234567890", "87654321", "11111111", "00000000", "88888888", "qwertyui", "qwerty123",
    "asdfghjk", "abcd1234", "1q2w3e4r", "iloveyou", "sunshine", "letmein1", "welcome1",
})


def _check_password_rule(password: str, field: str = "password") -> None:
    # Spaces do not count: eight of them made an account whose login form (which
    # refuses a blank password) could never let it in (QA).
    if len(password.strip()) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(
            N_("The password must have at least %(min)s characters."),
            field=field,
            params={"min": MIN_PASSWORD_LENGTH},
        )
    if password.strip().casefold() in COMMON_PASSWORDS:
        raise ValidationFailed(
            N_("This password is among the first ones anybody tries: choose another."),
            field=field,
        )


def _check_email(session: Session, email: str, *, other_than: int | None = None) -> str:
    """``email`` normalized, valid and not used by another account (any letter case)."""
    email = normalize_email(email)
    if not email or "@" not in email or len(email) > MAX_EMAIL_LENGTH:
        raise ValidationFailed(N_("A valid e-mail address is required."), field="email")
    taken = select(User.id).where(func.lower(User.email) == email)
    if other_than is not None:
        taken = taken.where(User.id != other_than)
    if session.scalar(taken) is not None:
        raise _email_taken(email)
    return email


def _email_taken(email: str) -> Conflict:
    return Conflict(
        N_("An account for %(email)s already exists."), field="email", params={"email": email}
    )


def _flush_email(session: Session, email: str) -> None:
    """Flush; another account saved with the same e-mail a moment ago is a Conflict
    (the caller rolls back, as after any domain error)."""
    try:
        session.flush()
    except IntegrityError:
        raise _email_taken(email) from None


def _check_role(role: str) -> str:
    if role not in {r.value for r in Role}:
        raise ValidationFailed(N_("Unknown role '%(role)s'."), field="role", params={"role": role})
    return role


def _clean_name(name: str, fallback: str) -> str:
    name = " ".join(name.split())
    if len(name) > MAX_NAME_LENGTH:
        raise ValidationFailed(
            N_("The name can have at most %(max)s characters."),
            field="name",
            params={"max": MAX_NAME_LENGTH},
        )
    return name or fallback


def create_user(
    session: Session,
    *,
    email: str,
    name: str,
    password: str,
    role: str = Role.ORGANIZER,
    locale: str = "ja",
) -> User:
    """Create an account with a hashed password; the e-mail must be new."""
    email = _check_email(session, email)
    _check_password_rule(password)
    _check_role(role)
    user = User(
        email=email,
        name=_clean_name(name, email),
        password_hash=generate_password_hash(password),
        role=role,
        locale=locale,
    )
    session.add(user)
    _flush_email(session, email)
    return user


@cache
def _unknown_user_hash() -> str:
    """A hash of nothing anyone knows, with the same method and cost as real ones
    (made at the first failed look-up, not at every start of a process)."""
    return generate_password_hash(secrets.token_hex(16))


def authenticate(session: Session, email: str, password: str) -> User | None:
    """The active user with these credentials, or None."""
    user = session.scalar(select(User).where(User.email == normalize_email(email)))
    if user is None:
        # Hash anyway: an answer as slow as for a real account tells no one which exist.
        check_password_hash(_unknown_user_hash(), password)
        return None
    # The password first: a deactivated account answers as slowly as any other.
    if not check_password_hash(user.password_hash, password) or not user.active:
        return None
    return user


def set_password(user: User, password: str) -> None:
    """Give ``user`` a new password (hashed); every session from before it ends."""
    _check_password_rule(password)
    user.password_hash = generate_password_hash(password)


def password_version(user: User) -> str:
    """A short token that changes with every new password (not the session fingerprint).

    A reset form carries it, so that the same form sent twice (a double click, a
    reload) or two organizers resetting at once does not silently replace the
    password that was just handed over.
    """
    return hashlib.sha256(b"password-version:" + user.password_hash.encode()).hexdigest()[:16]


# --------------------------------------------------------------------------- reading


def list_accounts(session: Session) -> list[User]:
    """Every account: active ones first, organizers before staff, then by name."""
    return list(
        session.scalars(
            select(User).order_by(
                User.active.desc(),
                (User.role == Role.ORGANIZER).desc(),
                User.name,
                User.id,
            )
        )
    )


def get_account(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(N_("This account does not exist."))
    return user


def account_history(session: Session, user: User, *, limit: int = 50) -> list[AuditEntry]:
    """The audit entries about ``user``'s account, newest first."""
    return list(
        session.scalars(
            select(AuditEntry)
            .where(AuditEntry.target_type == User.__name__, AuditEntry.target_id == user.id)
            .order_by(AuditEntry.id.desc())
            .limit(limit)
        )
    )


def added_by_this_form(session: Session, email: str, attempt: str) -> User | None:
    """The account with ``email`` if it was added by the form whose ``attempt`` value
    (:attr:`NewAccount.attempt`) is given: that form sent again."""
    if not attempt:
        return None
    user = session.scalar(select(User).where(User.email == normalize_email(email)))
    if user is None:
        return None
    added = session.scalar(
        select(AuditEntry)
        .where(
            AuditEntry.action == "account.create",
            AuditEntry.target_type == User.__name__,
            AuditEntry.target_id == user.id,
        )
        .order_by(AuditEntry.id.desc())
        .limit(1)
    )
    return user if added is not None and added.details.get("attempt") == attempt else None


# --------------------------------------------------------------------------- locking


def _lock_accounts(session: Session, *accounts: User | None) -> None:
    """Take the rows of ``accounts`` and of every active organizer, and re-read them.

    Whoever changes who is an organizer takes these locks first (by id, one order for
    all), so the rule "one active organizer remains" is checked on rows no one else can
    change until this transaction ends. ``FOR NO KEY UPDATE`` (``key_share``): writers
    of rows that merely point at a user (audit entries) are not held up. On SQLite a
    no-op write takes the database's single write lock up front instead, so the reads
    below see the current state.
    """
    ids = sorted({account.id for account in accounts if account is not None})
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text("UPDATE users SET id = id WHERE id = :id"), {"id": ids[0]})
    session.scalars(
        select(User)
        .where(
            or_(
                User.id.in_(ids),
                and_(User.role == Role.ORGANIZER, User.active.is_(True)),
            )
        )
        .order_by(User.id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    ).all()


def _check_actor(actor: User | None) -> None:
    """The acting organizer (re-read under the lock) may still change accounts."""
    if actor is not None and not (actor.active and actor.role == Role.ORGANIZER):
        raise PermissionDenied(N_("Only an active organizer can change accounts."))


def _keeps_an_organizer(session: Session, user: User, actor: User | None, *, demote: bool) -> None:
    """Refuse to take ``user``'s organizer rights (deactivation or a new role) when it is
    the actor's own account or the last active organizer. Call under the lock."""
    if actor is not None and actor.id == user.id:
        raise ValidationFailed(
            N_("You cannot change your own role; another organizer can.")
            if demote
            else N_("You cannot deactivate your own account; another organizer can."),
            field="role" if demote else None,
        )
    if user.role != Role.ORGANIZER or not user.active:
        return
    others = session.scalar(
        select(func.count(User.id)).where(
            User.role == Role.ORGANIZER, User.active.is_(True), User.id != user.id
        )
    )
    if not others:
        raise Conflict(
            N_(
                "%(name)s is the last active organizer: make another account an organizer "
                "first, so that someone can still manage the site."
            ),
            field="role" if demote else None,
            params={"name": user.name},
        )


def _record(
    session: Session,
    action: str,
    user: User,
    actor: User | None,
    details: dict[str, Any] | None = None,
) -> None:
    audit.record(
        session,
        action,
        user_id=actor.id if actor is not None else None,
        target=user,
        details=details,
    )


# --------------------------------------------------------------------------- organizers


@dataclass(frozen=True)
class NewAccount:
    """What an organizer typed to add an account (``password`` None: generate one)."""

    email: str
    name: str
    role: str = Role.STAFF
    locale: str = "ja"
    password: str | None = None
    # The adding form's own random value, recorded to tell that form sent again apart.
    attempt: str = ""


def add_account(session: Session, details: NewAccount, *, actor: User) -> tuple[User, str | None]:
    """Add an account; returns it and the generated password (None when one was typed).

    A generated password exists only in the return value: the caller shows it once.
    """
    _lock_accounts(session, actor)
    _check_actor(actor)
    generated = generate_password() if details.password is None else None
    user = create_user(
        session,
        email=details.email,
        name=details.name,
        password=generated or details.password or "",
        role=details.role,
        locale=details.locale,
    )
    _record(
        session,
        "account.create",
        user,
        actor,
        {
            "email": user.email,
            "name": user.name,
            "role": user.role,
            "locale": user.locale,
            "password": "generated" if generated else "typed",
            "attempt": details.attempt,
        },
    )
    return user, generated


@dataclass(frozen=True)
class AccountDetails:
    """An account's details as an organizer edits them."""

    email: str
    name: str
    role: str
    locale: str


def update_account(
    session: Session, user: User, details: AccountDetails, *, actor: User | None
) -> dict[str, list[str]]:
    """Change ``user``'s e-mail, name, role and language; returns the changes made
    (field: [before, after]), which are also in the audit log."""
    _lock_accounts(session, user, actor)
    _check_actor(actor)
    email = _check_email(session, details.email, other_than=user.id)
    role = _check_role(details.role)
    if role != user.role:
        _keeps_an_organizer(session, user, actor, demote=True)
    wanted = {
        "email": email,
        "name": _clean_name(details.name, user.name),
        "role": role,
        "locale": details.locale,
    }
    changes = {
        field: [getattr(user, field), value]
        for field, value in wanted.items()
        if getattr(user, field) != value
    }
    if not changes:
        return changes
    for field, (_before, after) in changes.items():
        setattr(user, field, after)
    _flush_email(session, email)
    _record(session, "account.update", user, actor, {"changes": changes})
    return changes


def deactivate_account(session: Session, user: User, *, actor: User | None) -> bool:
    """Deactivate ``user``: it can no longer log in and its open sessions end at their
    next request. Returns False when it already was inactive."""
    _lock_accounts(session, user, actor)
    _check_actor(actor)
    if not user.active:
        return False
    _keeps_an_organizer(session, user, actor, demote=False)
    user.active = False
    session.flush()
    _record(session, "account.deactivate", user, actor)
    return True


def _same_version(seen: str, user: User) -> bool:
    # Bytes: compare_digest refuses a str with non-ASCII characters (a 500, not a message).
    return secrets.compare_digest(seen.encode(), password_version(user).encode())


def _changed_a_moment_ago(user: User) -> Conflict:
    return Conflict(
        N_(
            "The password of %(name)s was changed a moment ago (the form may have been "
            "sent twice). Nothing more was changed; reset it again if the new one is "
            "not known."
        ),
        params={"name": user.name},
    )


def reactivate_account(
    session: Session, user: User, *, actor: User | None, seen_version: str | None = None
) -> str | None:
    """Reactivate ``user`` with a new generated password, returned to be shown once;
    None when the account was already active (nothing changed). With ``seen_version``
    (:func:`password_version` as the organizer's page showed it), an account that was
    reactivated since, by this form sent twice or by another organizer, is a Conflict
    saying so: the password shown to that first answer was new, and may be lost.

    The new password is the point: sessions and "keep me logged in" cookies from
    before the deactivation (a volunteer's phone from last year's fair) carry the old
    password's fingerprint, so they stay ended instead of coming back to life.
    """
    _lock_accounts(session, user, actor)
    _check_actor(actor)
    if user.active:
        if seen_version is not None and not _same_version(seen_version, user):
            raise _changed_a_moment_ago(user)
        return None
    password = generate_password()
    set_password(user, password)
    user.active = True
    session.flush()
    _record(session, "account.reactivate", user, actor)
    return password


def reset_password(
    session: Session, user: User, *, actor: User | None, seen_version: str | None = None
) -> str:
    """Give another account a new generated password, returned to be shown once.

    ``seen_version`` is :func:`password_version` as the organizer's page showed it:
    when the password changed since (the form sent twice, another organizer just reset
    it), nothing changes and Conflict says so.
    """
    _lock_accounts(session, user, actor)
    _check_actor(actor)
    if actor is not None and actor.id == user.id:
        raise ValidationFailed(
            N_("Change your own password in My account (it asks for the current one).")
        )
    if not user.active:
        raise Conflict(
            N_("%(name)s is deactivated: reactivate the account, which gives it a new password."),
            params={"name": user.name},
        )
    if seen_version is not None and not _same_version(seen_version, user):
        raise _changed_a_moment_ago(user)
    password = generate_password()
    set_password(user, password)
    session.flush()
    _record(session, "account.password_reset", user, actor)
    return password


# --------------------------------------------------------------------------- one's own


def update_profile(session: Session, user: User, *, name: str, locale: str) -> dict[str, list[str]]:
    """A user changes their own name and language; returns the changes made."""
    wanted = {"name": _clean_name(name, user.name), "locale": locale}
    changes = {
        field: [getattr(user, field), value]
        for field, value in wanted.items()
        if getattr(user, field) != value
    }
    if changes:
        for field, (_before, after) in changes.items():
            setattr(user, field, after)
        session.flush()
        _record(session, "account.profile", user, user, {"changes": changes})
    return changes


def change_own_password(
    session: Session, user: User, *, current_password: str, new_password: str
) -> None:
    """A user replaces their own password, proving they know the current one.

    Every other session and "keep me logged in" cookie of the account ends (the caller
    logs the current session in again with the new id).
    """
    if not check_password_hash(user.password_hash, current_password):
        raise ValidationFailed(N_("The current password is not right."), field="current_password")
    _check_password_rule(new_password, field="new_password")
    if new_password == current_password:
        raise ValidationFailed(
            N_("The new password must differ from the current one."), field="new_password"
        )
    set_password(user, new_password)
    session.flush()
    _record(session, "account.password_change", user, user)
