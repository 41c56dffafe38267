"""Participants' access and registration: secret links, self-registration, approval.

Services only flush; the caller commits.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from scheduler import audit
from scheduler.db import utcnow
from scheduler.models import (
    Attendance,
    Participant,
    ParticipantRole,
    ParticipantStatus,
    Person,
    new_token,
)

CODE_PREFIX = {ParticipantRole.BUYER: "B", ParticipantRole.SUPPLIER: "S"}


# --------------------------------------------------------------------------- secret links


def reissue_token(session: Session, participant: Participant, *, user_id: int | None) -> str:
    """Give ``participant`` a new secret link; the old one stops working at once."""
    participant.access_token = new_token()
    participant.token_issued_at = utcnow()
    session.flush()
    # The audit trail records that a link was re-issued, never the token itself.
    audit.record(
        session,
        "participant.token_reissue",
        event_id=participant.event_id,
        user_id=user_id,
        participant_id=participant.id,
        target=participant,
    )
    return participant.access_token


def contact_person(participant: Participant) -> Person | None:
    """The participant's contact (the first attendee when none is marked)."""
    attendances = sorted(participant.attendances, key=lambda a: (not a.is_contact, a.id or 0))
    return attendances[0].person if attendances else None


def other_registrations(session: Session, participant: Participant) -> list[Participant]:
    """The same company's approved registrations in other events with the same contact.

    Only registrations of the *same organization* whose contact person has the same
    e-mail are returned: a person who is the contact of two different companies must
    not reach one company's pages from the other's link.
    """
    person = contact_person(participant)
    if person is None or not person.email.strip():
        return []
    if participant.status != ParticipantStatus.APPROVED:
        return []
    email = person.email.strip().casefold()
    candidates = session.scalars(
        select(Participant)
        .join(Attendance, Attendance.participant_id == Participant.id)
        .join(Person, Person.id == Attendance.person_id)
        .where(
            Participant.organization_id == participant.organization_id,
            Participant.id != participant.id,
            Participant.status == ParticipantStatus.APPROVED,
            func.lower(func.trim(Person.email)) == email,
        )
        .options(selectinload(Participant.event))
        .distinct()
    ).all()
    # The contact of the other registration, not any attendee, must be the same person.
    return sorted(
        (
            other
            for other in candidates
            if (contact := contact_person(other)) is not None
            and contact.email.strip().casefold() == email
        ),
        key=lambda p: p.event.created_at,
        reverse=True,
    )
