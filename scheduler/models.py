"""The domain model of a business-matching fair.

Times are stored in UTC (:class:`~scheduler.db.UTCDateTime`) and shown in the
event's time zone. Constraint names say the business rule they enforce.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import date, datetime, time
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Time,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from scheduler.db import Base, UTCDateTime, utcnow


def new_token() -> str:
    """An unguessable URL-safe secret (256 bits) for participant links and feeds."""
    return secrets.token_urlsafe(32)


class Role(StrEnum):
    """Roles of staff accounts (participants use secret links, not accounts)."""

    ORGANIZER = "organizer"
    STAFF = "staff"


class Phase(StrEnum):
    """The phases of an event, in order."""

    REGISTRATION = "registration"
    PREFERENCES = "preferences"
    SCHEDULING = "scheduling"
    PUBLISHED = "published"
    ON_THE_DAY = "on_the_day"
    CLOSED = "closed"


PHASE_ORDER: tuple[Phase, ...] = tuple(Phase)


class ParticipantRole(StrEnum):
    BUYER = "buyer"
    SUPPLIER = "supplier"


class ParticipantStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


class DayStatus(StrEnum):
    """Where a participant stands on the day of the fair (set by staff)."""

    EXPECTED = "expected"
    CHECKED_IN = "checked_in"
    LATE = "late"
    LEFT_EARLY = "left_early"
    NO_SHOW = "no_show"


class MeetingStatus(StrEnum):
    PLANNED = "planned"
    HELD = "held"
    CANCELLED = "cancelled"


class NextStep(StrEnum):
    """What came of a meeting, as a participant reports it afterwards (several may apply)."""

    FURTHER_TALKS = "further_talks"  # another meeting or call arranged
    FACTORY_VISIT = "factory_visit"  # a visit to one side's works
    QUOTATION = "quotation"  # a quotation requested or sent
    TEST_ORDER = "test_order"  # a prototype, sample or trial order
    ORDER = "order"  # a contract or production order


class Prospect(StrEnum):
    """How a participant rates the business prospect of a meeting that took place."""

    HIGH = "high"
    SOME = "some"
    NONE = "none"


class JoinAgain(StrEnum):
    """Whether a participant would take part in the organizer's next fair (survey answer)."""

    YES = "yes"
    PERHAPS = "perhaps"  # depending on the counterparts taking part
    NO = "no"


#: The satisfaction scale of the fair survey (満足度): 5 very satisfied … 1 dissatisfied.
SATISFACTION_LEVELS: tuple[int, ...] = (5, 4, 3, 2, 1)


class PairRuleKind(StrEnum):
    """An organizer's rule for one pair, applied to every later solver run."""

    FORBID = "forbid"  # the pair never meets
    FORCE = "force"  # the pair must meet, anywhere
    PIN = "pin"  # the pair meets in this slot at this table


class RunStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


def _enum_check(column: str, values: type[StrEnum]) -> str:
    return f"{column} IN ({', '.join(repr(v.value) for v in values)})"


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class User(TimestampMixin, Base):
    """An organizer or staff account (Flask-Login user)."""

    __tablename__ = "users"
    __table_args__ = (CheckConstraint(_enum_check("role", Role), name="role_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20), default=Role.ORGANIZER)
    locale: Mapped[str] = mapped_column(String(10), default="ja")
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    # Flask-Login's user protocol, written out so scheduler/ need not import Flask.
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        # The id and a fingerprint of the password hash: a new password ends every
        # session and "keep me logged in" cookie issued before it (web.extensions).
        return f"{self.id}.{self.session_fingerprint}"

    @property
    def session_fingerprint(self) -> str:
        return hashlib.sha256(self.password_hash.encode()).hexdigest()[:16]

    @property
    def is_organizer(self) -> bool:
        return self.role == Role.ORGANIZER


class Event(TimestampMixin, Base):
    """A matching fair."""

    __tablename__ = "events"
    __table_args__ = (CheckConstraint(_enum_check("phase", Phase), name="phase_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    venue: Mapped[str] = mapped_column(String(300), default="")
    address: Mapped[str] = mapped_column(String(300), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Tokyo")
    phase: Mapped[str] = mapped_column(String(20), default=Phase.REGISTRATION)
    max_requests: Mapped[int | None] = mapped_column(Integer)
    screening_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    default_max_meetings: Mapped[int | None] = mapped_column(Integer)
    contact_email: Mapped[str] = mapped_column(String(254), default="")
    # Bumped by every publication that changes the schedule participants see.
    published_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Part of the staff calendar's and hall boards' secret links: raising it (re-issue)
    # stops the links given out before.
    staff_links_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Part of those links too, random for each new event: SQLite gives a deleted event's
    # id to the next event, whose links would otherwise be the deleted one's. Events from
    # before it have "" (their links given out keep working).
    links_salt: Mapped[str] = mapped_column(
        String(32), default=lambda: secrets.token_hex(16), server_default=""
    )
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    days: Mapped[list[EventDay]] = relationship(
        back_populates="event", cascade="all, delete-orphan", order_by="EventDay.date"
    )
    slots: Mapped[list[Slot]] = relationship(
        back_populates="event", cascade="all, delete-orphan", order_by="Slot.starts_at"
    )
    rooms: Mapped[list[Room]] = relationship(
        back_populates="event", cascade="all, delete-orphan", order_by="Room.sort_order"
    )
    phases: Mapped[list[PhaseDeadline]] = relationship(
        back_populates="event", cascade="all, delete-orphan", order_by="PhaseDeadline.sort_order"
    )
    participants: Mapped[list[Participant]] = relationship(
        back_populates="event", cascade="all, delete-orphan"
    )

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def local(self, moment: datetime) -> datetime:
        """A stored UTC time in the event's time zone."""
        return moment.astimezone(self.tz)


class EventDay(Base):
    """A day of the fair with the parameters its slot grid was generated from."""

    __tablename__ = "event_days"
    __table_args__ = (
        UniqueConstraint("event_id", "date", name="uq_event_day_once"),
        CheckConstraint("meeting_minutes > 0", name="meeting_length_positive"),
        CheckConstraint("changeover_minutes >= 0", name="changeover_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    date: Mapped[date] = mapped_column(Date)
    start_time: Mapped[time] = mapped_column(Time)
    end_time: Mapped[time] = mapped_column(Time)
    meeting_minutes: Mapped[int] = mapped_column(Integer, default=25)
    changeover_minutes: Mapped[int] = mapped_column(Integer, default=5)
    # [{"start": "12:00", "end": "13:00", "label": "昼休み"}]
    breaks: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)

    event: Mapped[Event] = relationship(back_populates="days")
    slots: Mapped[list[Slot]] = relationship(back_populates="day", order_by="Slot.starts_at")


class Slot(Base):
    """A meeting slot: every table runs meetings in the same slots."""

    __tablename__ = "slots"
    __table_args__ = (
        UniqueConstraint("event_id", "starts_at", name="uq_slot_start_once_per_event"),
        CheckConstraint("ends_at > starts_at", name="slot_ends_after_start"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    day_id: Mapped[int | None] = mapped_column(
        ForeignKey("event_days.id", ondelete="SET NULL"), index=True
    )
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    label: Mapped[str] = mapped_column(String(50), default="")

    event: Mapped[Event] = relationship(back_populates="slots")
    day: Mapped[EventDay | None] = relationship(back_populates="slots")


class PhaseDeadline(Base):
    """When a phase of the event opens and closes (e.g. the preferences deadline)."""

    __tablename__ = "phase_deadlines"
    __table_args__ = (
        UniqueConstraint("event_id", "phase", name="uq_phase_once_per_event"),
        CheckConstraint(_enum_check("phase", Phase), name="phase_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    phase: Mapped[str] = mapped_column(String(20))
    opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)

    event: Mapped[Event] = relationship(back_populates="phases")


class Room(Base):
    __tablename__ = "rooms"
    __table_args__ = (UniqueConstraint("event_id", "name", name="uq_room_name_per_event"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    sort_order: Mapped[int] = mapped_column(Integer, default=0)

    event: Mapped[Event] = relationship(back_populates="rooms")
    tables: Mapped[list[Table]] = relationship(
        back_populates="room", cascade="all, delete-orphan", order_by="Table.sort_order"
    )


class Table(Base):
    """A meeting table, optionally hosted by one participant (a buyer's own desk)."""

    __tablename__ = "tables"
    __table_args__ = (UniqueConstraint("event_id", "label", name="uq_table_label_per_event"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(String(30))
    host_participant_id: Mapped[int | None] = mapped_column(
        ForeignKey("participants.id", ondelete="SET NULL"), index=True
    )
    sort_order: Mapped[int] = mapped_column(Integer, default=0)

    room: Mapped[Room] = relationship(back_populates="tables")
    host: Mapped[Participant | None] = relationship(foreign_keys=[host_participant_id])


class Organization(TimestampMixin, Base):
    """A company profile; it persists across events so a region's directory grows."""

    __tablename__ = "organizations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    name_kana: Mapped[str] = mapped_column(String(200), default="")
    # NFKC-normalised, case-folded, spaces and corporate suffixes removed: finds
    # "(株)山田製作所" and "株式会社　山田製作所" as the same company on import.
    name_key: Mapped[str] = mapped_column(String(200), index=True)
    prefecture: Mapped[str] = mapped_column(String(20), default="")
    city: Mapped[str] = mapped_column(String(100), default="")
    industry: Mapped[str] = mapped_column(String(100), default="")
    employees: Mapped[int | None] = mapped_column(Integer)
    website: Mapped[str] = mapped_column(String(300), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    strengths: Mapped[str] = mapped_column(Text, default="")
    technologies: Mapped[list[str]] = mapped_column(JSON, default=list)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    equipment: Mapped[str] = mapped_column(Text, default="")
    materials: Mapped[str] = mapped_column(Text, default="")
    certifications: Mapped[list[str]] = mapped_column(JSON, default=list)
    lot_sizes: Mapped[list[str]] = mapped_column(JSON, default=list)
    what_we_buy: Mapped[str] = mapped_column(Text, default="")

    participations: Mapped[list[Participant]] = relationship(back_populates="organization")
    people: Mapped[list[Person]] = relationship(back_populates="organization")


class Participant(TimestampMixin, Base):
    """An organization's registration in one event."""

    __tablename__ = "participants"
    __table_args__ = (
        UniqueConstraint("event_id", "organization_id", name="uq_participant_once_per_event"),
        CheckConstraint(_enum_check("role", ParticipantRole), name="role_known"),
        CheckConstraint(_enum_check("status", ParticipantStatus), name="status_known"),
        CheckConstraint(_enum_check("day_status", DayStatus), name="day_status_known"),
        CheckConstraint("parallel_desks >= 1", name="at_least_one_desk"),
        CheckConstraint(
            "max_meetings IS NULL OR max_meetings >= 0", name="max_meetings_not_negative"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default=ParticipantStatus.APPROVED)
    code: Mapped[str] = mapped_column(String(20), default="")  # "B001", printed on sheets
    department: Mapped[str] = mapped_column(String(200), default="")
    access_token: Mapped[str] = mapped_column(String(64), unique=True, default=new_token)
    feed_token: Mapped[str] = mapped_column(String(64), unique=True, default=new_token)
    max_meetings: Mapped[int | None] = mapped_column(Integer)
    parallel_desks: Mapped[int] = mapped_column(Integer, default=1)
    available_from: Mapped[datetime | None] = mapped_column(UTCDateTime)
    available_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    locale: Mapped[str] = mapped_column(String(10), default="ja")
    notes: Mapped[str] = mapped_column(Text, default="")
    # How it joined (organizer, import, self-registration, walk-in) and when its
    # profile was last confirmed for this event (organizations persist across fairs).
    registered_via: Mapped[str] = mapped_column(String(20), default="organizer")
    profile_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Whether this participant's link may change its company's shared profile: not a
    # self-registration onto a company already in the directory, until the organizer
    # confirms the contact belongs to it (the profile is shown in every event).
    company_edit_allowed: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    token_issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # On the day (staff): checked in, late, left early or no-show, and since when.
    day_status: Mapped[str] = mapped_column(
        String(20), default=DayStatus.EXPECTED, server_default=DayStatus.EXPECTED.value
    )
    day_status_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    event: Mapped[Event] = relationship(back_populates="participants")
    organization: Mapped[Organization] = relationship(back_populates="participations")
    unavailable_slots: Mapped[list[Slot]] = relationship(secondary="participant_unavailable_slots")
    attendances: Mapped[list[Attendance]] = relationship(
        back_populates="participant", cascade="all, delete-orphan"
    )
    needs: Mapped[list[Need]] = relationship(
        back_populates="participant", cascade="all, delete-orphan", order_by="Need.id"
    )

    @property
    def people(self) -> list[Person]:
        return [a.person for a in self.attendances]

    @property
    def display_name(self) -> str:
        return self.organization.name

    def is_available(self, slot: Slot) -> bool:
        """Whether the participant can meet in ``slot`` (window and explicit holes)."""
        if self.available_from is not None and slot.starts_at < self.available_from:
            return False
        if self.available_until is not None and slot.ends_at > self.available_until:
            return False
        return all(s.id != slot.id for s in self.unavailable_slots)


class ParticipantUnavailableSlot(Base):
    __tablename__ = "participant_unavailable_slots"

    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), primary_key=True
    )
    slot_id: Mapped[int] = mapped_column(
        ForeignKey("slots.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class Person(TimestampMixin, Base):
    """Someone who attends; receives the schedule and the calendar."""

    __tablename__ = "people"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    name_kana: Mapped[str] = mapped_column(String(200), default="")
    title: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str] = mapped_column(String(254), default="", index=True)
    phone: Mapped[str] = mapped_column(String(50), default="")
    locale: Mapped[str] = mapped_column(String(10), default="ja")

    organization: Mapped[Organization | None] = relationship(back_populates="people")
    attendances: Mapped[list[Attendance]] = relationship(back_populates="person")


class Attendance(Base):
    """A person attending (or being the contact for) a participant; one person may serve several."""

    __tablename__ = "attendances"
    __table_args__ = (UniqueConstraint("participant_id", "person_id", name="uq_attendance_once"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    is_contact: Mapped[bool] = mapped_column(Boolean, default=False)
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    participant: Mapped[Participant] = relationship(back_populates="attendances")
    person: Mapped[Person] = relationship(back_populates="attendances")


class Need(TimestampMixin, Base):
    """A buyer's published need (発注ニーズ)."""

    __tablename__ = "needs"

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(200))
    technologies: Mapped[list[str]] = mapped_column(JSON, default=list)
    material: Mapped[str] = mapped_column(String(200), default="")
    lot_size: Mapped[str] = mapped_column(String(50), default="")
    timing: Mapped[str] = mapped_column(String(100), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    # Published needs are visible to suppliers, who may apply to them with a proposal sheet.
    published: Mapped[bool] = mapped_column(Boolean, default=True)

    participant: Mapped[Participant] = relationship(back_populates="needs")
    proposals: Mapped[list[Proposal]] = relationship(
        back_populates="need", cascade="all, delete-orphan", order_by="Proposal.id"
    )


class ProposalStatus(StrEnum):
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"


class Proposal(TimestampMixin, Base):
    """A supplier's proposal sheet (商談シート) for a buyer need, screened by the buyer."""

    __tablename__ = "proposals"
    __table_args__ = (
        UniqueConstraint("need_id", "supplier_id", name="uq_proposal_once_per_need"),
        CheckConstraint(_enum_check("status", ProposalStatus), name="status_known"),
        CheckConstraint("level BETWEEN 0 AND 3", name="level_in_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    need_id: Mapped[int] = mapped_column(ForeignKey("needs.id", ondelete="CASCADE"))
    supplier_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), index=True
    )
    offer: Mapped[str] = mapped_column(Text, default="")  # what it offers for this need
    track_record: Mapped[str] = mapped_column(Text, default="")  # relevant results
    equipment: Mapped[str] = mapped_column(Text, default="")
    attachment_path: Mapped[str] = mapped_column(
        String(300), default=""
    )  # under the instance folder
    attachment_name: Mapped[str] = mapped_column(String(200), default="")
    attachment_type: Mapped[str] = mapped_column(String(100), default="")
    attachment_size: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(20), default=ProposalStatus.SUBMITTED)
    level: Mapped[int] = mapped_column(Integer, default=0)  # the buyer's level when accepting
    # The supplier's own level for the meeting when it sent the sheet (None: sheets sent
    # before it was kept): its interest goes back to it when a request of its own ends.
    supplier_level: Mapped[int | None] = mapped_column(Integer)
    buyer_note: Mapped[str] = mapped_column(Text, default="")
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    need: Mapped[Need] = relationship(back_populates="proposals")
    supplier: Mapped[Participant] = relationship(foreign_keys=[supplier_id])


class SuggestionShown(Base):
    """A counterpart suggested to a participant, so the organizer can see whether
    suggestions lead to requests (Interest.source == "suggestion")."""

    __tablename__ = "suggestions_shown"
    __table_args__ = (
        UniqueConstraint("viewer_id", "suggested_id", name="uq_suggestion_once_per_pair"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    viewer_id: Mapped[int] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"))
    suggested_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), index=True
    )
    need_id: Mapped[int | None] = mapped_column(
        ForeignKey("needs.id", ondelete="SET NULL"), index=True
    )
    score: Mapped[int] = mapped_column(Integer, default=0)
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    first_shown_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Interest(TimestampMixin, Base):
    """One side's stated interest in a counterpart: a level 1–3, or a decline."""

    __tablename__ = "interests"
    __table_args__ = (
        UniqueConstraint(
            "from_participant_id", "to_participant_id", name="uq_interest_once_per_direction"
        ),
        CheckConstraint("from_participant_id <> to_participant_id", name="not_in_oneself"),
        CheckConstraint("level BETWEEN 0 AND 3", name="level_in_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    from_participant_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE")
    )
    to_participant_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), index=True
    )
    level: Mapped[int] = mapped_column(Integer, default=2)  # 3 high, 2 medium, 1 low, 0 none
    declined: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(20), default="request")

    from_participant: Mapped[Participant] = relationship(foreign_keys=[from_participant_id])
    to_participant: Mapped[Participant] = relationship(foreign_keys=[to_participant_id])


class Meeting(TimestampMixin, Base):
    """A scheduled meeting of two participants in a slot at a table."""

    __tablename__ = "meetings"
    __table_args__ = (
        # A table holds at most one active meeting per slot: enforced by the database.
        Index(
            "uq_meeting_table_slot_active",
            "table_id",
            "slot_id",
            unique=True,
            sqlite_where=text("status <> 'cancelled'"),
            postgresql_where=text("status <> 'cancelled'"),
        ),
        CheckConstraint(_enum_check("status", MeetingStatus), name="status_known"),
        CheckConstraint("participant_a_id <> participant_b_id", name="two_different_participants"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    participant_a_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), index=True
    )
    participant_b_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), index=True
    )
    slot_id: Mapped[int] = mapped_column(ForeignKey("slots.id", ondelete="CASCADE"), index=True)
    table_id: Mapped[int | None] = mapped_column(
        ForeignKey("tables.id", ondelete="SET NULL"), index=True
    )
    status: Mapped[str] = mapped_column(String(20), default=MeetingStatus.PLANNED)
    # Bumped on every change so calendar feeds carry a higher SEQUENCE.
    version: Mapped[int] = mapped_column(Integer, default=0)
    uid: Mapped[str] = mapped_column(
        String(100), unique=True, default=lambda: secrets.token_hex(16)
    )
    source: Mapped[str] = mapped_column(String(20), default="solver")
    locked: Mapped[bool] = mapped_column(Boolean, default=False)
    purpose: Mapped[str] = mapped_column(Text, default="")
    # Where it was before its last move (see :meth:`move_to`), for the participants'
    # "moved from 14:30, table A05"; None until it moves.
    moved_from_slot_id: Mapped[int | None] = mapped_column(
        ForeignKey("slots.id", ondelete="SET NULL"), index=True
    )
    moved_from_table_id: Mapped[int | None] = mapped_column(
        ForeignKey("tables.id", ondelete="SET NULL"), index=True
    )

    participant_a: Mapped[Participant] = relationship(foreign_keys=[participant_a_id])
    participant_b: Mapped[Participant] = relationship(foreign_keys=[participant_b_id])
    slot: Mapped[Slot] = relationship(foreign_keys=[slot_id])
    table: Mapped[Table | None] = relationship(foreign_keys=[table_id])
    moved_from_slot: Mapped[Slot | None] = relationship(foreign_keys=[moved_from_slot_id])
    moved_from_table: Mapped[Table | None] = relationship(foreign_keys=[moved_from_table_id])

    def move_to(self, slot_id: int, table_id: int | None, *, since: tuple[int, int | None]) -> None:
        """Put the meeting at ``slot_id`` and ``table_id``, remembering ``since`` (the
        slot and table it was at before this change) as where it moved from, when the
        place differs (a cancellation or its undo, in place, is no move)."""
        if (slot_id, table_id) != since:
            self.moved_from_slot_id, self.moved_from_table_id = since
        self.slot_id = slot_id
        self.table_id = table_id


class MeetingOutcome(TimestampMixin, Base):
    """One side's report on what came of a meeting (each side reports its own, and may
    update it as things develop: a quotation in the week after, an order months later)."""

    __tablename__ = "meeting_outcomes"
    __table_args__ = (
        UniqueConstraint("meeting_id", "participant_id", name="uq_outcome_per_side"),
        CheckConstraint(
            "prospect IS NULL OR " + _enum_check("prospect", Prospect), name="prospect_known"
        ),
        CheckConstraint(
            "order_amount IS NULL OR order_amount >= 0", name="order_amount_not_negative"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    meeting_id: Mapped[int] = mapped_column(
        ForeignKey("meetings.id", ondelete="CASCADE"), index=True
    )
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), index=True
    )
    # The meeting's slot when reported: staff may move a meeting that did not take place
    # to a later slot, and a report on the old time no longer counts for the new one.
    slot_id: Mapped[int | None] = mapped_column(
        ForeignKey("slots.id", ondelete="SET NULL"), index=True
    )
    took_place: Mapped[bool] = mapped_column(Boolean, default=True)
    prospect: Mapped[str | None] = mapped_column(String(20))  # None when it did not take place
    next_steps: Mapped[list[str]] = mapped_column(JSON, default=list)  # NextStep values
    order_amount: Mapped[int | None] = mapped_column(BigInteger)  # yen, with an order
    # The month the order was placed (its first day), with an order: orders come months
    # after the fair, and a local government reports them by fiscal year (年度).
    order_month: Mapped[date | None] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text, default="")

    meeting: Mapped[Meeting] = relationship()
    participant: Mapped[Participant] = relationship()
    slot: Mapped[Slot | None] = relationship()

    def is_current(self, meeting: Meeting) -> bool:
        """Whether the report is about the meeting as it stands (not about an earlier slot)."""
        return self.slot_id == meeting.slot_id


class FairFeedback(TimestampMixin, Base):
    """A participant's answer to the fair survey (参加者アンケート): its overall satisfaction,
    whether it would come again, and a comment for the organizer. One per participant,
    editable; the organizer may enter it from a paper questionnaire."""

    __tablename__ = "fair_feedback"
    __table_args__ = (
        UniqueConstraint("participant_id", name="uq_feedback_per_participant"),
        CheckConstraint("satisfaction BETWEEN 1 AND 5", name="satisfaction_on_scale"),
        CheckConstraint(
            "join_again IS NULL OR " + _enum_check("join_again", JoinAgain),
            name="join_again_known",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE")
    )
    satisfaction: Mapped[int] = mapped_column(Integer)  # 1–5, see SATISFACTION_LEVELS
    join_again: Mapped[str | None] = mapped_column(String(20))  # JoinAgain; None: not said
    comment: Mapped[str] = mapped_column(Text, default="")

    participant: Mapped[Participant] = relationship()


class ScheduleRun(TimestampMixin, Base):
    """One solver job: its problem, parameters, progress and result."""

    __tablename__ = "schedule_runs"
    __table_args__ = (CheckConstraint(_enum_check("status", RunStatus), name="status_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20), default="initial")  # initial | repair
    status: Mapped[str] = mapped_column(String(20), default=RunStatus.QUEUED)
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    problem: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    progress: Mapped[list[list[float]]] = mapped_column(JSON, default=list)
    objective: Mapped[int | None] = mapped_column(Integer)
    bound: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str] = mapped_column(Text, default="")
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    # Written every second by the worker executing the run: a running run whose
    # heartbeat is stale lost its worker (killed, machine gone) and is marked failed.
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    worker: Mapped[str] = mapped_column(String(100), default="", server_default="")
    # The organizer asked to stop: the worker stops the search and keeps the best found.
    cancel_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set when the organizer edited the result by hand (moved a meeting).
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PairRule(TimestampMixin, Base):
    """Forbid, force or pin one pair in every later run (``participant_a_id`` < ``_b_id``)."""

    __tablename__ = "pair_rules"
    __table_args__ = (
        UniqueConstraint(
            "event_id", "participant_a_id", "participant_b_id", name="uq_pair_rule_once_per_pair"
        ),
        CheckConstraint(_enum_check("kind", PairRuleKind), name="kind_known"),
        CheckConstraint("participant_a_id < participant_b_id", name="pair_in_order"),
        CheckConstraint("kind <> 'pin' OR slot_id IS NOT NULL", name="pin_has_slot"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    participant_a_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), index=True
    )
    participant_b_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(10))
    slot_id: Mapped[int | None] = mapped_column(
        ForeignKey("slots.id", ondelete="CASCADE"), index=True
    )
    table_id: Mapped[int | None] = mapped_column(
        ForeignKey("tables.id", ondelete="CASCADE"), index=True
    )
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )

    participant_a: Mapped[Participant] = relationship(foreign_keys=[participant_a_id])
    participant_b: Mapped[Participant] = relationship(foreign_keys=[participant_b_id])
    slot: Mapped[Slot | None] = relationship()
    table: Mapped[Table | None] = relationship()


class AuditEntry(Base):
    """Who changed what, when and why."""

    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int | None] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    participant_id: Mapped[int | None] = mapped_column(
        ForeignKey("participants.id", ondelete="SET NULL"), index=True
    )
    action: Mapped[str] = mapped_column(String(60))
    target_type: Mapped[str] = mapped_column(String(40), default="")
    target_id: Mapped[int | None] = mapped_column(Integer)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User | None] = relationship()


class SheetBuildStatus(StrEnum):
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class SheetBuild(TimestampMixin, Base):
    """Every company's schedule sheet of an event as one PDF, printed by a process of its
    own (:mod:`scheduler.sheet_builds`) into the shared uploads folder.

    One row per content: ``content_key`` hashes the rendered sheets, so a build is reused
    exactly as long as nothing it shows changed, and a second click on the same content
    finds the build the first one started.
    """

    __tablename__ = "sheet_builds"
    __table_args__ = (
        UniqueConstraint("event_id", "content_key", name="uq_sheet_build_once_per_content"),
        CheckConstraint(_enum_check("status", SheetBuildStatus), name="status_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # No index of its own: the unique constraint's index starts with it.
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    # SHA-256 (hex) of the sheets' HTML in their languages: what the PDF shows.
    content_key: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20), default=SheetBuildStatus.RUNNING)
    # Raised by every (re)start; a process writes only while the attempt is its own, so
    # one presumed dead that wakes up again cannot overwrite its successor's state.
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    sheets: Mapped[int] = mapped_column(Integer, default=0)  # companies
    sheets_done: Mapped[int] = mapped_column(Integer, default=0)
    pages: Mapped[int | None] = mapped_column(Integer)
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    # A catalog msgid, a line break and the technical detail (as ScheduleRun.error).
    error: Mapped[str] = mapped_column(Text, default="")
    worker: Mapped[str] = mapped_column(String(100), default="")  # printer: machine:pid
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Written every few seconds by the printing process: a stale one means it died.
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )


class RetiredFeed(Base):
    """A calendar subscription address that no longer shows a schedule: its event was
    deleted, or its secret was re-issued (:mod:`scheduler.calendars`).

    Calendar apps keep what they last read when a feed answers with an error, so a
    deleted fair's meetings would stay in every subscriber's calendar. A retired feed is
    answered with a valid, empty calendar instead, which makes them remove the meetings.
    Only a digest of the secret is kept, never the secret, and no personal data: the
    row outlives its event on purpose and is purged after :data:`RETIRED_FEED_DAYS`.
    """

    __tablename__ = "retired_feeds"

    # SHA-256 (hex) of the token in the feed's address.
    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    # The calendar's name as subscribers saw it (the event's name): no personal data.
    calendar_name: Mapped[str] = mapped_column(String(300), default="")
    reason: Mapped[str] = mapped_column(String(20))  # "deleted" or "reissued"
    # The event's zone: RFC 5545 wants one component in a calendar, and a VTIMEZONE is
    # the one that says nothing.
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Tokyo")
    retired_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


#: How long a retired feed keeps answering with an empty calendar: long enough for a
#: calendar app that polls rarely (or a phone left off for months) to read it once.
RETIRED_FEED_DAYS = 400
