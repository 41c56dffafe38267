"""Organizer and staff accounts."""

from __future__ import annotations

import secrets
from functools import cache

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from scheduler.errors import Conflict, ValidationFailed
from scheduler.i18n import N_
from scheduler.models import Role, User

MIN_PASSWORD_LENGTH = 8


def normalize_email(email: str) -> str:
    return email.strip().lower()


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
    email = normalize_email(email)
    if not email or "@" not in email:
        raise ValidationFailed(N_("A valid e-mail address is required."), field="email")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(
            N_("The password must have at least %(min)s characters."),
            field="password",
            params={"min": MIN_PASSWORD_LENGTH},
        )
    if role not in {r.value for r in Role}:
        raise ValidationFailed(N_("Unknown role '%(role)s'."), field="role", params={"role": role})
    if session.scalar(select(User).where(User.email == email)) is not None:
        raise Conflict(
            N_("An account for %(email)s already exists."), field="email", params={"email": email}
        )
    user = User(
        email=email,
        name=name.strip() or email,
        password_hash=generate_password_hash(password),
        role=role,
        locale=locale,
    )
    session.add(user)
    session.flush()
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
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(
            N_("The password must have at least %(min)s characters."),
            field="password",
            params={"min": MIN_PASSWORD_LENGTH},
        )
    user.password_hash = generate_password_hash(password)
