"""Company profiles and buyers' needs, edited by participants through their secret links.

A profile belongs to the :class:`Organization`, which persists across events, so a
region's directory grows fair by fair. When a company registers for another fair,
its participant's ``profile_confirmed_at`` is empty until someone confirms or
updates the profile for that fair.

Profiles can be edited during the registration and preferences phases; after that
the directory and the suggestions are fixed for scheduling. Services only flush;
the caller commits.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from scheduler import audit
from scheduler.db import utcnow
from scheduler.errors import DeadlinePassed
from scheduler.i18n import N_
from scheduler.models import Event, Participant, Phase

#: Phases in which participants may change their profile and needs.
PROFILE_PHASES = frozenset({Phase.REGISTRATION, Phase.PREFERENCES})


def profile_editable(event: Event) -> bool:
    """Whether participants of ``event`` may change their profile now."""
    return event.phase in PROFILE_PHASES


def check_profile_editable(event: Event) -> None:
    """Raise :class:`DeadlinePassed` once profiles are fixed for scheduling."""
    if not profile_editable(event):
        raise DeadlinePassed(
            N_(
                "Profiles can no longer be changed: the preferences phase has ended. "
                "Please contact the organizer if something must be corrected."
            )
        )


def confirm_profile(
    session: Session,
    participant: Participant,
    *,
    user_id: int | None = None,
    now: datetime | None = None,
) -> None:
    """Record that the company's profile is up to date for this event."""
    check_profile_editable(participant.event)
    participant.profile_confirmed_at = now or utcnow()
    session.flush()
    audit.record(
        session,
        "profile.confirm",
        event_id=participant.event_id,
        user_id=user_id,
        participant_id=participant.id,
        target=participant.organization,
    )
