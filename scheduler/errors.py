"""Domain errors raised by services; ``web/errors.py`` maps them to responses.

Each carries a message meant for the person who caused it and, where useful, the
field at fault. The message is an English msgid (marked with
``scheduler.i18n.N_``) whose ``%(name)s`` placeholders are filled from
``params``: ``message`` is the English rendering for logs and the CLI, and the
web layer shows ``gettext(msgid) % params`` in the reader's language.
"""

from __future__ import annotations

from collections.abc import Mapping


class DomainError(Exception):
    """Base of every error a service raises on purpose."""

    status_code = 400

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        params: Mapping[str, object] | None = None,
    ) -> None:
        self.msgid = message
        self.params = dict(params or {})
        # Like gettext(): placeholders are filled only when there are parameters,
        # so a message without them may contain a bare "%".
        self.message = message % self.params if self.params else message
        self.field = field
        super().__init__(self.message)


class ValidationFailed(DomainError):
    """Input that breaks a business rule (shown next to the field)."""


class ProblemsFound(ValidationFailed):
    """A form's input with one or more problems: ``problems`` holds each (its field and
    message), so the form can show them all at once; the exception reads as the first."""

    def __init__(self, problems: list[ValidationFailed]) -> None:
        first = problems[0]
        super().__init__(first.msgid, field=first.field, params=first.params)
        self.problems = problems


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
