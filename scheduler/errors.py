"""Domain errors raised by services; ``web/errors.py`` maps them to responses.

Each carries a message meant for the person who caused it (already translated
by the caller's locale where it matters) and, where useful, the field at fault.
"""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error a service raises on purpose."""

    status_code = 400

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class ValidationFailed(DomainError):
    """Input that breaks a business rule (shown next to the field)."""


class NotFound(DomainError):
    status_code = 404


class PermissionDenied(DomainError):
    status_code = 403


class Conflict(DomainError):
    """The state changed under the caller (double booking, stale version)."""

    status_code = 409


class DeadlinePassed(DomainError):
    """The event's phase no longer allows this change."""

    status_code = 403
