"""The fair survey (参加者アンケート): how satisfied each participant was with the fair.

Beside what came of each meeting (:mod:`scheduler.outcomes`), a local government reports
how satisfied the companies were (満足度) and whether they would come again. Each
approved participant answers once, on its results page, and may change its answer; the
organizer may enter answers from a paper questionnaire (audited). The survey opens when
the fair's first slot begins (answers are given at the end of the day or afterwards).

:func:`survey_results` sums the answers up by side: how many answered, how many were
satisfied (the top two of the five levels, the share a report quotes), the answers per
level and per "would come again", and the comments with their companies.

Services only flush; the caller commits.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from scheduler import audit
from scheduler.day_operations import absent_from_fair
from scheduler.errors import ProblemsFound, ValidationFailed
from scheduler.i18n import N_
from scheduler.models import (
    SATISFACTION_LEVELS,
    Attendance,
    DayStatus,
    Event,
    FairFeedback,
    JoinAgain,
    Meeting,
    MeetingStatus,
    Participant,
    ParticipantRole,
    ParticipantStatus,
    Phase,
    Slot,
)
from scheduler.profiles import typed_text
from scheduler.schedule_view import is_published

COMMENT_MAX_CHARS = 2000
#: The levels counted as "satisfied" (大変満足 and 満足), the share a report quotes.
SATISFIED_LEVELS = frozenset({5, 4})


@dataclass(frozen=True)
class FeedbackInput:
    """An answer as typed: the level ("1"–"5"), "would come again" and the comment."""

    satisfaction: str = ""
    join_again: str = ""
    comment: str = ""

    @classmethod
    def of(cls, feedback: FairFeedback | None) -> FeedbackInput:
        """The stored answer as the form shows it (an empty form when there is none)."""
        if feedback is None:
            return cls()
        return cls(
            satisfaction=str(feedback.satisfaction),
            join_again=feedback.join_again or "",
            comment=feedback.comment,
        )


class FeedbackInvalid(ProblemsFound):
    """An answer with one or more problems (each field's in ``problems``)."""


def survey_opens_at(session: Session, event: Event) -> datetime | None:
    """When participants may start answering: the start of the fair's first slot."""
    return session.scalar(select(Slot.starts_at).where(Slot.event_id == event.id)
                          .order_by(Slot.starts_at).limit(1))


def survey_open(event: Event, opens_at: datetime | None, now: datetime) -> bool:
    """Whether the survey takes answers: once the fair has begun (``opens_at``, from
    :func:`survey_opens_at`), or once it is closed."""
    return event.phase == Phase.CLOSED or (opens_at is not None and opens_at <= now)


def can_answer(participant: Participant) -> bool:
    """Only the fair's approved participants answer (not a withdrawn or rejected one)."""
    return participant.status == ParticipantStatus.APPROVED


def answerable(session: Session, event: Event) -> list[Participant]:
    """The participants who may answer (approved), buyers first, by code and name: the
    organizer picks one to enter a paper questionnaire."""
    return sorted(
        session.scalars(select(Participant).where(
            Participant.event_id == event.id, Participant.status == ParticipantStatus.APPROVED
        )),
        key=lambda p: (p.role != ParticipantRole.BUYER, p.code or "~", p.display_name),
    )


def feedback_of(session: Session, participant: Participant) -> FairFeedback | None:
    return session.scalar(
        select(FairFeedback).where(FairFeedback.participant_id == participant.id)
    )


def _checked(data: FeedbackInput) -> tuple[int, str | None, str]:
    problems: list[ValidationFailed] = []
    level = unicodedata.normalize("NFKC", data.satisfaction or "").strip()
    if level not in {str(v) for v in SATISFACTION_LEVELS}:
        problems.append(ValidationFailed(
            N_("Choose how satisfied you were with the fair."), field="satisfaction"
        ))
    join_again = (data.join_again or "").strip() or None
    if join_again is not None and join_again not in {j.value for j in JoinAgain}:
        problems.append(ValidationFailed(
            N_("Please choose one of the answers."), field="join_again"
        ))
    comment = typed_text(data.comment)
    if len(comment) > COMMENT_MAX_CHARS:
        problems.append(ValidationFailed(
            N_("The comment is too long: at most %(max)s characters."),
            field="comment",
            params={"max": COMMENT_MAX_CHARS},
        ))
    if problems:
        raise FeedbackInvalid(problems)
    return int(level), join_again, comment


def save_feedback(
    session: Session,
    participant: Participant,
    data: FeedbackInput,
    *,
    now: datetime,
    user_id: int | None = None,
) -> FairFeedback:
    """Store (or replace) the participant's answer to the survey.

    ``user_id`` is the organizer entering it on the participant's behalf (audited).
    Raises :class:`ValidationFailed` before the fair has begun or for a participant that
    is not approved, and :class:`FeedbackInvalid` naming every field to fix.
    """
    if not can_answer(participant):
        raise ValidationFailed(N_("Only the fair's participants can answer the survey."))
    event = participant.event
    if not survey_open(event, survey_opens_at(session, event), now):
        raise ValidationFailed(
            N_("The survey opens when the fair begins: please answer it afterwards.")
        )
    satisfaction, join_again, comment = _checked(data)
    feedback = feedback_of(session, participant)
    if feedback is None:
        feedback = FairFeedback(event_id=participant.event_id, participant_id=participant.id)
        session.add(feedback)
    feedback.satisfaction = satisfaction
    feedback.join_again = join_again
    feedback.comment = comment
    session.flush()
    audit.record(
        session,
        "feedback.answer",
        event_id=participant.event_id,
        user_id=user_id,
        participant_id=participant.id,
        target=feedback,
        details={"satisfaction": satisfaction, "join_again": join_again},
    )
    return feedback


# --------------------------------------------------------------------------- results


@dataclass
class SideSurvey:
    """How one side (buyers or suppliers) answered the survey."""

    asked: int = 0  # approved companies that took part (see :func:`survey_results`)
    answers: list[FairFeedback] = field(default_factory=list)

    @property
    def answered(self) -> int:
        return len(self.answers)

    @property
    def response_rate(self) -> float:
        return self.answered / self.asked if self.asked else 0.0

    @property
    def levels(self) -> Counter[int]:
        """Answers per satisfaction level."""
        return Counter(a.satisfaction for a in self.answers)

    @property
    def satisfied(self) -> int:
        return sum(1 for a in self.answers if a.satisfaction in SATISFIED_LEVELS)

    @property
    def satisfied_share(self) -> float:
        """The satisfied among those who answered (the 満足度 a report quotes)."""
        return self.satisfied / self.answered if self.answered else 0.0

    @property
    def average(self) -> float | None:
        return sum(a.satisfaction for a in self.answers) / self.answered if self.answers else None

    @property
    def join_again(self) -> Counter[str]:
        """Answers per :class:`JoinAgain` value ("" for not said)."""
        return Counter(a.join_again or "" for a in self.answers)


@dataclass
class SurveyResults:
    """The survey's answers, by side (buyers, suppliers) and for both together."""

    sides: dict[str, SideSurvey]

    @property
    def total(self) -> SideSurvey:
        both = SideSurvey()
        for side in self.sides.values():
            both.asked += side.asked
            both.answers.extend(side.answers)
        return both

    @property
    def comments(self) -> list[FairFeedback]:
        """Answers with a comment, buyers first, then by the company's code and name."""
        return sorted(
            (a for side in self.sides.values() for a in side.answers if a.comment),
            key=lambda a: (
                a.participant.role != ParticipantRole.BUYER,
                a.participant.code or "~",
                a.participant.display_name,
            ),
        )


def took_part(session: Session, event: Event) -> set[int]:
    """The companies (participant ids) that took part in the fair: checked in (or marked
    late or leaving early) on a fair day, or with a meeting of the published schedule that
    was not cancelled; and not absent from the fair (marked a no-show, and not there on
    another day either: :func:`scheduler.day_operations.absent_from_fair`)."""
    came = set(session.scalars(
        select(Attendance.participant_id)
        .join(Participant, Participant.id == Attendance.participant_id)
        .where(Participant.event_id == event.id, Attendance.checked_in_at.is_not(None))
    ))
    came |= set(session.scalars(select(Participant.id).where(
        Participant.event_id == event.id,
        Participant.day_status.in_([DayStatus.CHECKED_IN, DayStatus.LATE, DayStatus.LEFT_EARLY]),
    )))
    if is_published(event):
        for a, b in session.execute(select(Meeting.participant_a_id, Meeting.participant_b_id)
                                    .where(Meeting.event_id == event.id,
                                           Meeting.status != MeetingStatus.CANCELLED)):
            came |= {a, b}
    return came - absent_from_fair(session, event)


def survey_results(session: Session, event: Event) -> SurveyResults:
    """The answers of the fair's approved participants, summed up by side.

    Asked (the base of the response rate): the companies that took part
    (:func:`took_part`), and any other that answered all the same. An approved company
    that had no meeting and never came, or was absent, is not asked; withdrawn ones are
    left out altogether.
    """
    sides = {role.value: SideSurvey() for role in ParticipantRole}
    taking_part = took_part(session, event)
    answers = {
        f.participant_id: f
        for f in session.scalars(
            select(FairFeedback)
            .where(FairFeedback.event_id == event.id)
            .options(selectinload(FairFeedback.participant))
        )
    }
    for participant in session.scalars(
        select(Participant).where(
            Participant.event_id == event.id, Participant.status == ParticipantStatus.APPROVED
        )
    ):
        side = sides.setdefault(participant.role, SideSurvey())
        answer = answers.get(participant.id)
        if participant.id not in taking_part and answer is None:
            continue
        side.asked += 1
        if answer is not None:
            side.answers.append(answer)
    return SurveyResults(sides)
