"""Participants' access and registration: secret links, self-registration, approval.

Services only flush; the caller commits.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, selectinload

from scheduler import audit
from scheduler.calendars import retire_feeds
from scheduler.db import utcnow
from scheduler.errors import Conflict, DeadlinePassed, ValidationFailed
from scheduler.event_setup import phase_deadline
from scheduler.i18n import N_
from scheduler.models import (
    Attendance,
    AuditEntry,
    Event,
    Organization,
    Participant,
    ParticipantRole,
    ParticipantStatus,
    Person,
    Phase,
    new_token,
)
from scheduler.names import company_name_key, kana_as_typed
from scheduler.participant_import import next_participant_code, phone_as_typed, single_spaced
from scheduler.profiles import organization_named, web_address_as_typed
from scheduler.vocabulary import PREFECTURES

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


# --------------------------------------------------------------------------- secret links


def reissue_token(session: Session, participant: Participant, *, user_id: int | None) -> str:
    """Give ``participant`` a new secret link; the old one stops working at once.

    The calendar feed's token is replaced too: whoever had the old link could read
    the feed address on the schedule page, and a revocation must shut them out of
    the schedule as well (the participant subscribes again from its schedule page).
    The old feed is retired: it answers with an empty calendar, which removes the
    meetings from whichever calendar subscribed to it and says to subscribe again.
    """
    retire_feeds(session, [participant.feed_token], event=participant.event, reason="reissued")
    participant.access_token = new_token()
    participant.feed_token = new_token()
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


# --------------------------------------------------------------------------- self-registration


def registration_open(event: Event, now: datetime | None = None) -> bool:
    """Whether companies may register themselves now.

    The event must be in its registration phase, and within the registration
    deadline's window when the organizer set one.
    """
    if event.phase != Phase.REGISTRATION:
        return False
    now = now or utcnow()
    deadline = phase_deadline(event, Phase.REGISTRATION)
    if deadline is None:
        return True
    if deadline.opens_at is not None and now < deadline.opens_at:
        return False
    return deadline.closes_at is None or now < deadline.closes_at


@dataclass(slots=True)
class RegistrationData:
    """What a company types into the public registration form."""

    company: str
    role: str
    contact_name: str
    email: str
    company_kana: str = ""
    department: str = ""
    prefecture: str = ""
    city: str = ""
    industry: str = ""
    employees: int | None = None
    website: str = ""
    contact_kana: str = ""
    phone: str = ""
    locale: str = "ja"


def _text(value: str, name: str, limit: int, *, required: bool = False) -> str:
    # Spaced as the participant import and the organizer's form store text (runs of
    # spaces made one), so that an exported list imported again finds it unchanged.
    text = single_spaced(_CONTROL.sub("", unicodedata.normalize("NFC", value or "")))
    if required and not text:
        raise ValidationFailed(N_("Please fill in this field."), field=name)
    if len(text) > limit:
        raise ValidationFailed(N_("This is too long: at most %(n)d characters."), field=name,
                               params={"n": limit})
    return text


def _checked(data: RegistrationData) -> RegistrationData:
    checked = RegistrationData(
        company=_text(data.company, "company", 200, required=True),
        role=data.role,
        contact_name=_text(data.contact_name, "contact_name", 200, required=True),
        # Full-width ＠ and letters from a Japanese keyboard are the address itself.
        email=_text(unicodedata.normalize("NFKC", data.email or ""), "email", 254,
                    required=True).lower(),
        company_kana=_text(kana_as_typed(data.company_kana or ""), "company_kana", 200),
        department=_text(data.department, "department", 200),
        prefecture=data.prefecture or "",
        city=_text(data.city, "city", 100),
        industry=_text(data.industry, "industry", 100),
        employees=data.employees,
        website=_text(web_address_as_typed(data.website), "website", 300),
        contact_kana=_text(kana_as_typed(data.contact_kana or ""), "contact_kana", 200),
        # Half-width digits and hyphens, as the import and the organizer's form store it.
        phone=_text(phone_as_typed(data.phone), "phone", 50),
        locale=data.locale if data.locale in ("ja", "en") else "ja",
    )
    if checked.role not in {r.value for r in ParticipantRole}:
        raise ValidationFailed(N_("Please choose buyer or supplier."), field="role")
    if checked.prefecture and checked.prefecture not in PREFECTURES:
        raise ValidationFailed(N_("Please choose a prefecture from the list."),
                               field="prefecture")
    if not _EMAIL.fullmatch(checked.email):
        raise ValidationFailed(N_("Please enter a valid e-mail address."), field="email")
    if checked.employees is not None and checked.employees < 0:
        raise ValidationFailed(N_("Please enter a number of employees of 0 or more."),
                               field="employees")
    if checked.website and not re.match(r"https?://[^\s/]+\.\S+$", checked.website):
        raise ValidationFailed(
            N_("Please enter a web address starting with http:// or https://."), field="website"
        )
    return checked


def self_register(
    session: Session, event: Event, data: RegistrationData, *, now: datetime | None = None
) -> Participant:
    """Register a company for ``event`` from the public form, pending the organizer's approval.

    A company already in the directory (:func:`scheduler.profiles.organization_named`:
    the same name, 株式会社 or not, but not another legal form) is reused and
    its profile left as it is: the newcomer is not yet trusted to change it, and after
    approval confirms or updates it from its own pages. A new company's profile is
    created from the form. The contact is always a new person of that company, so a
    registration never takes over someone else's contact record.
    """
    now = now or utcnow()
    if not registration_open(event, now):
        raise DeadlinePassed(N_("Registration for this event is closed."))
    data = _checked(data)
    _one_registration_at_a_time(session, event)
    key = company_name_key(data.company)
    organization = organization_named(session, data.company)
    reused = organization is not None
    if organization is not None:
        taken = session.scalar(
            select(Participant.status).where(
                Participant.event_id == event.id, Participant.organization_id == organization.id
            )
        )
        if taken is not None:
            # One answer whatever the registration's state: anyone can type a company's
            # name here, and it must not tell them whether that company was declined or
            # is still waiting (QA). The link is sent on approval; the organizer knows.
            raise Conflict(
                N_("%(name)s already has a registration for this event. The link to your "
                   "company’s pages is sent by e-mail once the organizer approves it; "
                   "please contact the organizer if you have not received it or need a "
                   "change."),
                field="company", params={"name": organization.name},
            )
    else:
        organization = Organization(
            name=data.company, name_key=key, name_kana=data.company_kana,
            prefecture=data.prefecture, city=data.city, industry=data.industry,
            employees=data.employees, website=data.website,
        )
        session.add(organization)
    person = Person(
        organization=organization, name=data.contact_name, name_kana=data.contact_kana,
        email=data.email, phone=data.phone, locale=data.locale,
    )
    participant = Participant(
        event_id=event.id, organization=organization, role=data.role,
        status=ParticipantStatus.PENDING, registered_via="self", department=data.department,
        locale=data.locale,
        # The form asks for the company and a contact only: its profile (technologies,
        # equipment, needs) is still to be completed and confirmed on its pages.
        profile_confirmed_at=None,
        # Anyone can type a known company's name: its shared profile stays the
        # organizer's to open to this contact (approve(..., company_edit=True)).
        company_edit_allowed=not reused,
    )
    session.add_all([person, participant])
    session.add(Attendance(participant=participant, person=person, is_contact=True))
    session.flush()
    audit.record(
        session, "participant.self_register", event_id=event.id,
        participant_id=participant.id, target=participant,
        details={"reused_organization": reused, "company_as_typed": data.company},
    )
    return participant


def _one_registration_at_a_time(session: Session, event: Event) -> None:
    """Take the event's write lock before looking for the company, so that the same form
    sent several times at once (a phone retrying on a poor network) registers it once
    (QA: six at once made six): the later ones wait, then find the first."""
    if session.get_bind().dialect.name == "sqlite":
        # pysqlite reads outside a transaction until the first write: a no-op write
        # takes SQLite's single write lock now (as scheduler.day_operations does).
        session.execute(text("UPDATE events SET id = id WHERE id = :id"), {"id": event.id})
    else:
        session.scalars(select(Event.id).where(Event.id == event.id).with_for_update()).all()


def pending_registrations(session: Session, event: Event) -> list[Participant]:
    """Self-registrations waiting for the organizer, oldest first."""
    return list(session.scalars(
        select(Participant)
        .where(Participant.event_id == event.id, Participant.status == ParticipantStatus.PENDING)
        .options(selectinload(Participant.organization),
                 selectinload(Participant.attendances).selectinload(Attendance.person))
        .order_by(Participant.created_at, Participant.id)
    ))


def approve(
    session: Session, participant: Participant, *, user_id: int | None, company_edit: bool = False
) -> None:
    """Admit a pending (or earlier rejected) registration; it gets its participant code.

    ``company_edit``: the organizer confirmed that the contact belongs to the company
    already in the directory, so its link may change the company's shared profile.
    """
    if participant.status not in (ParticipantStatus.PENDING, ParticipantStatus.REJECTED):
        raise Conflict(N_("This registration was already decided."))
    participant.status = ParticipantStatus.APPROVED
    if company_edit:
        participant.company_edit_allowed = True
    if not participant.code:
        # Not a code an earlier run used: that run still means the company that had it.
        participant.code = next_participant_code(session, participant.event, participant.role)
    session.flush()
    audit.record(session, "participant.approve", event_id=participant.event_id, user_id=user_id,
                 participant_id=participant.id, target=participant,
                 details={"company_edit_allowed": participant.company_edit_allowed})


def allow_company_edit(session: Session, participant: Participant, *, user_id: int | None) -> None:
    """Let ``participant``'s link change its company's shared profile (audited)."""
    if participant.company_edit_allowed:
        return
    participant.company_edit_allowed = True
    session.flush()
    audit.record(session, "participant.allow_company_edit", event_id=participant.event_id,
                 user_id=user_id, participant_id=participant.id, target=participant)


def reject(
    session: Session, participant: Participant, *, user_id: int | None, reason: str = ""
) -> None:
    """Turn a pending registration down; its link stops working."""
    if participant.status != ParticipantStatus.PENDING:
        raise Conflict(N_("This registration was already decided."))
    participant.status = ParticipantStatus.REJECTED
    session.flush()
    audit.record(session, "participant.reject", event_id=participant.event_id, user_id=user_id,
                 participant_id=participant.id, target=participant, reason=reason.strip())


@dataclass(slots=True)
class Declined:
    """A declined registration with the entry that declined it (when, by whom, why)."""

    participant: Participant
    entry: AuditEntry | None


def declined_registrations(session: Session, event: Event) -> list[Declined]:
    """Declined registrations, most recently declined first.

    Listed so that a decision can be taken back (:func:`approve` admits a rejected
    registration as it admits a pending one): the company itself cannot register again.
    """
    participants = session.scalars(
        select(Participant)
        .where(Participant.event_id == event.id, Participant.status == ParticipantStatus.REJECTED)
        .options(selectinload(Participant.organization),
                 selectinload(Participant.attendances).selectinload(Attendance.person))
    ).all()
    entries = last_decline_entries(session, [p.id for p in participants])
    declined = [Declined(p, entries.get(p.id)) for p in participants]
    return sorted(
        declined,
        key=lambda d: (d.entry.created_at if d.entry else d.participant.updated_at),
        reverse=True,
    )


def last_decline_entries(session: Session, participant_ids: list[int]) -> dict[int, AuditEntry]:
    """The audit entry of each participant's latest decline, by participant id."""
    if not participant_ids:
        return {}
    entries: dict[int, AuditEntry] = {}
    for entry in session.scalars(
        select(AuditEntry)
        .where(AuditEntry.participant_id.in_(participant_ids),
               AuditEntry.action == "participant.reject")
        .options(selectinload(AuditEntry.user))
        .order_by(AuditEntry.id)
    ):
        assert entry.participant_id is not None
        entries[entry.participant_id] = entry  # the newest wins
    return entries
