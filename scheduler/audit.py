"""The audit trail: who changed what, when and why."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from scheduler.models import AuditEntry


def record(
    session: Session,
    action: str,
    *,
    event_id: int | None = None,
    user_id: int | None = None,
    participant_id: int | None = None,
    target: Any = None,
    details: dict[str, Any] | None = None,
    reason: str = "",
) -> AuditEntry:
    """Add an audit entry for ``action`` on ``target`` (a model instance) and flush."""
    entry = AuditEntry(
        action=action,
        event_id=event_id,
        user_id=user_id,
        participant_id=participant_id,
        target_type=type(target).__name__ if target is not None else "",
        target_id=getattr(target, "id", None),
        details=details or {},
        reason=reason,
    )
    session.add(entry)
    session.flush()
    return entry
