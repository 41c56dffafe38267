"""Meeting preferences: requests, the receiving side's screening, and each pair's weight.

A participant *requests* a meeting with a counterpart (a level high/medium/low and
an optional note on what to discuss). With screening on, the receiving side
answers: accept with its own level, or decline, which removes the pair; an
unanswered request is neutral. Suppliers can also apply to a buyer's need with a
proposal sheet (:mod:`scheduler.proposals`), which is a request to that buyer.

Every stated interest is one :class:`~scheduler.models.Interest` row per direction;
its ``source`` says how it came about:

- ``request`` / ``suggestion``: the participant asked (from the directory or a
  counterpart's page, or with one click on a suggestion). These count toward the
  event's request cap.
- ``proposal``: a supplier's application to a need, and the buyer's decision on it.
  A supplier's applications count toward its cap once per buyer.
- ``screening``: the receiving side's answer to a request. Ignored while screening
  is off (kept, so they apply again if the organizer turns screening back on).

:func:`pair_weight` is the one scoring rule that turns both sides' levels into the
solver's pair weight; :func:`requested_pairs` applies it to the whole event (see
``docs/preferences.md``). Every change to a participant's interests runs under
:func:`lock_requests`, so clicks at the same moment neither pass the cap together
nor insert a pair's row twice. Services only flush; the caller commits.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from scheduler import audit
from scheduler.day_operations import lock_for_change
from scheduler.db import utcnow
from scheduler.errors import (
    Conflict,
    DeadlinePassed,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from scheduler.i18n import N_
from scheduler.models import (
    Event,
    Interest,
    Need,
    Participant,
    ParticipantStatus,
    Phase,
    PhaseDeadline,
    Proposal,
    ProposalStatus,
)

HIGH, MEDIUM, LOW = 3, 2, 1
#: The levels a participant chooses from, highest first.
LEVELS: tuple[int, ...] = (HIGH, MEDIUM, LOW)

REQUEST_SOURCES = frozenset({"request", "suggestion"})
PROPOSAL_SOURCE = "proposal"
SCREENING_SOURCE = "screening"
#: Sources that start a pair (someone asked); a screening answer only qualifies one.
ASKING_SOURCES = REQUEST_SOURCES | {PROPOSAL_SOURCE}

#: Participants may request, answer and apply only in these phases. Registration is
#: left out on purpose: the directory is still filling up then, and a fair's request
#: period (希望登録期間) opens once the participant list is settled.
REQUEST_PHASES = frozenset({Phase.PREFERENCES})

MAX_NOTE_LENGTH = 1000


# --------------------------------------------------------------------------- the weight rule


def pair_weight(level_from_a: int, level_from_b: int, declined: bool) -> int | None:
    """The solver weight of a pair from both sides' levels (0 = silent or neutral, 1–3).

    - Either side declined → ``None``: the pair is left out of the problem.
    - Nobody asked (both 0) → ``None``.
    - One side asked at level L, the other silent or not yet answered → ``L``.
    - Both sides want it → ``a + b + 1 + min(a, b)``: the mutual bonus of
      ``1 + min(a, b)`` makes every mutual pair outweigh every one-sided one
      (low–low = 4 > high one-sided = 3) and grows with the weaker side's interest.

    The highest weight (high–high = 10) stays below the first-meeting bonus of the
    solver (20), so the solver still prefers giving everybody a meeting.
    """
    if declined:
        return None
    for level in (level_from_a, level_from_b):
        if not 0 <= level <= HIGH:
            raise ValueError(f"level out of range: {level}")
    if level_from_a == 0 and level_from_b == 0:
        return None
    if level_from_a == 0 or level_from_b == 0:
        return level_from_a + level_from_b
    return level_from_a + level_from_b + 1 + min(level_from_a, level_from_b)


@dataclass(frozen=True, slots=True)
class PairPreference:
    """A pair someone asked for and nobody declined, with its solver weight.

    ``a`` and ``b`` are participant ids with ``a < b``; ``sources`` are the sources
    of the interests that count (sorted), ``mutual`` whether both sides want it.
    """

    a: int
    b: int
    weight: int
    must: bool = False
    mutual: bool = False
    sources: tuple[str, ...] = ()


def interest_counts(interest: Interest, screening_enabled: bool) -> bool:
    """Whether ``interest`` counts: a screening answer only while screening is on."""
    return screening_enabled or interest.source != SCREENING_SOURCE


def requested_pairs(session: Session, event: Event) -> list[PairPreference]:
    """Every pair of approved participants of ``event`` to offer the solver, by (a, b).

    A pair needs at least one side that asked (request, suggestion or proposal); a
    screening answer alone does not make a pair. Declines remove the pair. While
    screening is off, screening answers are ignored. Weights per :func:`pair_weight`.
    """
    approved = set(
        session.scalars(
            select(Participant.id).where(
                Participant.event_id == event.id,
                Participant.status == ParticipantStatus.APPROVED,
            )
        )
    )
    by_direction: dict[tuple[int, int], Interest] = {
        (i.from_participant_id, i.to_participant_id): i
        for i in session.scalars(select(Interest).where(Interest.event_id == event.id))
        if interest_counts(i, event.screening_enabled)
    }
    pairs: list[PairPreference] = []
    seen: set[tuple[int, int]] = set()
    for (x, y) in by_direction:
        a, b = min(x, y), max(x, y)
        if (a, b) in seen or a not in approved or b not in approved:
            continue
        seen.add((a, b))
        forward, back = by_direction.get((a, b)), by_direction.get((b, a))
        present = [i for i in (forward, back) if i is not None]
        if not any(i.source in ASKING_SOURCES and not i.declined for i in present):
            continue
        declined = any(i.declined for i in present)
        level_a = forward.level if forward is not None and not forward.declined else 0
        level_b = back.level if back is not None and not back.declined else 0
        weight = pair_weight(level_a, level_b, declined)
        if weight is None:
            continue
        pairs.append(
            PairPreference(
                a=a, b=b, weight=weight, mutual=level_a > 0 and level_b > 0,
                sources=tuple(sorted({i.source for i in present})),
            )
        )
    pairs.sort(key=lambda p: (p.a, p.b))
    return pairs


# --------------------------------------------------------------------------- deadlines


def _preferences_deadline(event: Event) -> PhaseDeadline | None:
    return next((d for d in event.phases if d.phase == Phase.PREFERENCES), None)


def requests_open(event: Event, now: datetime | None = None) -> bool:
    """Whether participants may request, answer and apply now.

    In the preferences phase only, and before that phase's closing time if the
    organizer set one (the organizer extends it by moving the closing time).
    """
    if event.phase not in REQUEST_PHASES:
        return False
    deadline = _preferences_deadline(event)
    if deadline is not None and deadline.closes_at is not None:
        return (now or utcnow()) < deadline.closes_at
    return True


def check_requests_open(event: Event, now: datetime | None = None) -> None:
    """Raise :class:`DeadlinePassed` outside the request period, saying why."""
    if requests_open(event, now):
        return
    if event.phase == Phase.REGISTRATION:
        raise DeadlinePassed(
            N_("Meeting requests open in the preferences phase. Please come back then.")
        )
    raise DeadlinePassed(
        N_(
            "The deadline for meeting requests has passed. Please contact the organizer "
            "if something must still change."
        )
    )


def check_open(event: Event, user_id: int | None, now: datetime | None = None) -> None:
    """The phase rule for a change by a participant (``user_id`` None) or an organizer."""
    # Organizers act on someone's behalf at any time before the schedule is made
    # public; the audit trail names them.
    if user_id is None:
        check_requests_open(event, now)
    elif event.phase not in {Phase.REGISTRATION, Phase.PREFERENCES, Phase.SCHEDULING}:
        raise DeadlinePassed(
            N_("Preferences can no longer change: the schedule has been published.")
        )


# --------------------------------------------------------------------------- counterparts


def can_request(viewer: Participant, other: Participant) -> bool:
    """Whether ``viewer`` may ask ``other`` for a meeting at all (phase aside).

    Both approved, same event, and of different roles. Requests within one role are
    not offered: the event model has no setting that allows them, so a buyer–buyer
    pair never reaches the solver from here.
    """
    return (
        viewer.id != other.id
        and viewer.event_id == other.event_id
        and viewer.role != other.role
        and viewer.status == ParticipantStatus.APPROVED
        and other.status == ParticipantStatus.APPROVED
    )


def counterpart(session: Session, viewer: Participant, participant_id: int) -> Participant:
    """The participant ``viewer`` may request, or :class:`NotFound` (never says why)."""
    other = session.get(Participant, participant_id)
    if other is None or not can_request(viewer, other):
        raise NotFound(N_("This company is not a counterpart in this event."))
    return other


def interest_between(
    session: Session, from_id: int, to_id: int, *, fresh: bool = False
) -> Interest | None:
    """The interest of participant ``from_id`` in ``to_id``, if stated.

    ``fresh`` reads the row as the database has it now, also where the session had
    loaded it before (a writer under :func:`lock_requests` decides on what it reads).
    """
    query = select(Interest).where(
        Interest.from_participant_id == from_id, Interest.to_participant_id == to_id
    )
    if fresh:
        query = query.execution_options(populate_existing=True)
    return session.scalar(query)


# --------------------------------------------------------------------------- the cap


def lock_requests(session: Session, *participants: Participant) -> None:
    """Take the writers' lock of ``participants``' stated interests until the commit.

    Every change that writes an interest from one of them (a request, an answer, a
    sheet or a decision on one) takes it first, so two clicks at the same moment run
    one after the other: the second reads what the first saved, counts it against
    the cap and finds its row instead of inserting a second one. It follows the
    global lock order of :func:`scheduler.day_operations.lock_for_change` (on SQLite
    the database's write lock, on PostgreSQL the participants' rows).
    """
    lock_for_change(
        session, participants[0].event_id, participant_ids=[p.id for p in participants]
    )



def requested_counterparts(session: Session, participant: Participant) -> set[int]:
    """Ids of the counterparts ``participant`` has an active request to (what the cap counts).

    Requests (from anywhere, suggestions included) that are not withdrawn, plus the
    buyers it applied to with a proposal sheet not withdrawn: several sheets to one
    buyer's needs count once, and so does a sheet to a buyer also requested directly.

    A request the other side declined keeps its place until it is withdrawn (the
    requests page says so on it): a decline can be taken back, or screening turned
    off, and either puts the pair before the solver again, over the cap if its place
    had been given to another.
    """
    ids = set(
        session.scalars(
            select(Interest.to_participant_id).where(
                Interest.from_participant_id == participant.id,
                Interest.source.in_(REQUEST_SOURCES),
                Interest.declined.is_(False),
                Interest.level > 0,
            )
        )
    )
    ids |= set(
        session.scalars(
            select(Need.participant_id)
            .join(Proposal, Proposal.need_id == Need.id)
            .where(
                Proposal.supplier_id == participant.id,
                Proposal.status.in_((ProposalStatus.SUBMITTED, ProposalStatus.ACCEPTED)),
            )
        )
    )
    return ids


def remaining_requests(session: Session, participant: Participant) -> int | None:
    """How many more counterparts ``participant`` may request; ``None`` without a cap."""
    cap = participant.event.max_requests
    if cap is None:
        return None
    return max(0, cap - len(requested_counterparts(session, participant)))


def check_cap(session: Session, participant: Participant, counterpart_id: int) -> None:
    """Raise :class:`ValidationFailed` if a new request to ``counterpart_id`` exceeds the cap.

    A counterpart already requested (or applied to) costs nothing more. The caller
    holds :func:`lock_requests` for ``participant``, so that no other request slips
    in between this check and its own insert.
    """
    cap = participant.event.max_requests
    if cap is None:
        return
    current = requested_counterparts(session, participant)
    if counterpart_id not in current and len(current) >= cap:
        raise ValidationFailed(
            N_(
                "You have reached the limit of %(cap)d meeting requests for this event. "
                "Withdraw one to request someone else."
            ),
            field="level",
            params={"cap": cap},
        )


# --------------------------------------------------------------------------- requests


def check_level(level: int) -> int:
    """``level`` if it is high, medium or low (3/2/1), else :class:`ValidationFailed`."""
    if level not in LEVELS:
        raise ValidationFailed(N_("Please choose high, medium or low."), field="level")
    return level


def clean_note(note: str) -> str:
    """A note as stored: NFC, control characters removed, trimmed, length-checked."""
    text = "".join(
        ch for ch in unicodedata.normalize("NFC", note or "")
        if ch in "\n\t" or unicodedata.category(ch) != "Cc"
    ).strip()
    if len(text) > MAX_NOTE_LENGTH:
        raise ValidationFailed(
            N_("This is too long: at most %(n)d characters."),
            field="note",
            params={"n": MAX_NOTE_LENGTH},
        )
    return text


def request_meeting(
    session: Session,
    requester: Participant,
    counterpart_id: int,
    *,
    level: int,
    note: str = "",
    source: str = "request",
    user_id: int | None = None,
    now: datetime | None = None,
) -> Interest:
    """Ask ``counterpart_id`` for a meeting, or change the level and note of the request.

    ``source`` is ``"suggestion"`` when the request was made from a suggestion. A
    request that was declined by oneself (a screening answer) becomes a request.
    Raises :class:`DeadlinePassed` outside the request period (organizers acting on
    someone's behalf pass ``user_id``), :class:`NotFound` for a participant who is
    not a counterpart, :class:`ValidationFailed` at the cap or for a bad level/note.

    Two requests at the same moment (a double click, two tabs) are made one after
    the other under the requester's lock; a row for the pair that another writer
    inserted meanwhile is updated, never a second one inserted (nor an error shown
    for a request that was saved).
    """
    if source not in REQUEST_SOURCES:
        raise ValueError(f"not a request source: {source}")
    check_open(requester.event, user_id, now)
    other = counterpart(session, requester, counterpart_id)
    level = check_level(level)
    note = clean_note(note)
    lock_requests(session, requester)
    check_cap(session, requester, other.id)
    interest = interest_between(session, requester.id, other.id, fresh=True)
    created = False
    if interest is None:
        interest, created = _insert_request(session, requester, other, source, level)
    if interest.source not in REQUEST_SOURCES:
        # An answer or an application turned into one's own request: the request
        # now stands on its own (a proposal sheet keeps its own record).
        interest.source = source
    interest.level = level
    interest.declined = False
    interest.note = note
    session.flush()
    audit.record(
        session, "preference.request" if created else "preference.change",
        event_id=requester.event_id, user_id=user_id, participant_id=requester.id,
        target=interest, details={"to": other.id, "level": level, "source": interest.source},
    )
    return interest


def _insert_request(
    session: Session, requester: Participant, other: Participant, source: str, level: int
) -> tuple[Interest, bool]:
    """A new request row for the pair and True, or the row that another writer
    inserted a moment ago, read afresh, and False (the caller then updates it).

    The insert runs in a savepoint, so meeting the pair's unique row rolls back the
    insert alone and the caller's other changes stay.
    """
    try:
        with session.begin_nested():
            interest = Interest(
                event_id=requester.event_id, from_participant_id=requester.id,
                to_participant_id=other.id, source=source, level=level,
            )
            session.add(interest)
            session.flush()
    except IntegrityError:
        existing = interest_between(session, requester.id, other.id, fresh=True)
        if existing is None:  # inserted and removed again meanwhile
            raise Conflict(
                N_("Another change was being saved at the same moment. Please try again.")
            ) from None
        return existing, False
    return interest, True


def withdraw_request(
    session: Session,
    requester: Participant,
    counterpart_id: int,
    *,
    user_id: int | None = None,
    now: datetime | None = None,
) -> None:
    """Withdraw one's own request to ``counterpart_id`` (:class:`NotFound` if there is none).

    The other side's screening answer is kept: a decline still stands if the
    request is made again. A buyer that also decided on the supplier's proposal
    sheets keeps those decisions: they count again once its own request is gone.
    """
    # proposals builds on this module, so it is imported here, not at the top.
    from scheduler import proposals

    check_open(requester.event, user_id, now)
    lock_requests(session, requester)
    interest = interest_between(session, requester.id, counterpart_id, fresh=True)
    if interest is None or interest.source not in REQUEST_SOURCES:
        raise NotFound(N_("There is no such request."))
    audit.record(
        session, "preference.withdraw", event_id=requester.event_id, user_id=user_id,
        participant_id=requester.id, target=interest,
        details={"to": counterpart_id, "level": interest.level},
    )
    session.delete(interest)
    session.flush()
    proposals.restore_decisions(session, requester, counterpart_id)


# --------------------------------------------------------------------------- screening


def check_screening(event: Event) -> None:
    """Raise :class:`PermissionDenied` when the organizer turned screening off."""
    if not event.screening_enabled:
        raise PermissionDenied(N_("Requests are not screened in this event."))


def answer_request(
    session: Session,
    receiver: Participant,
    requester_id: int,
    *,
    accept: bool,
    level: int = MEDIUM,
    note: str = "",
    user_id: int | None = None,
    now: datetime | None = None,
) -> Interest:
    """Screen a request received from ``requester_id``: accept with a level, or decline.

    A decline removes the pair from scheduling; the answer can be changed until the
    deadline. Only a request that exists can be answered (:class:`NotFound`).
    """
    check_screening(receiver.event)
    check_open(receiver.event, user_id, now)
    incoming = interest_between(session, requester_id, receiver.id)
    if incoming is None or incoming.source not in REQUEST_SOURCES or incoming.declined:
        raise NotFound(N_("There is no such request."))
    requester = counterpart(session, receiver, requester_id)
    if accept:
        level = check_level(level)
    note = clean_note(note)
    lock_requests(session, receiver)
    answer = interest_between(session, receiver.id, requester.id, fresh=True)
    if answer is None:
        answer = Interest(
            event_id=receiver.event_id, from_participant_id=receiver.id,
            to_participant_id=requester.id, source=SCREENING_SOURCE,
        )
        session.add(answer)
    elif answer.source == PROPOSAL_SOURCE or not accept:
        # A decline is a screening answer even where one had asked oneself before,
        # so it is not listed (nor counted) as one's own request any more.
        answer.source = SCREENING_SOURCE
    answer.level = level if accept else 0
    answer.declined = not accept
    answer.note = note
    session.flush()
    audit.record(
        session, "preference.accept" if accept else "preference.decline",
        event_id=receiver.event_id, user_id=user_id, participant_id=receiver.id,
        target=answer, details={"to": requester.id, "level": answer.level},
    )
    return answer


# --------------------------------------------------------------------------- what pages show


@dataclass(slots=True)
class RequestRow:
    """One's own request and where it stands with the other side."""

    interest: Interest
    counterpart: Participant
    answer: Interest | None  # the other side's interest back, if any

    @property
    def status(self) -> str:
        """``mutual``, ``accepted``, ``declined`` or ``waiting`` (no answer: neutral)."""
        if self.answer is None:
            return "waiting"
        if self.answer.declined:
            return "declined"
        if self.answer.source in REQUEST_SOURCES:
            return "mutual"
        return "accepted" if self.answer.level > 0 else "waiting"


def _rows(session: Session, participant: Participant, outgoing: bool) -> list[RequestRow]:
    """The requests from (``outgoing``) or to ``participant``, each with the interest back.

    While screening is off, a screening answer is no answer: the pair reaches the
    solver as if it had none (:func:`requested_pairs`), so no page may show it as
    accepted or declined. The answers stay stored and show again once screening is
    turned back on.
    """
    screening = participant.event.screening_enabled
    mine = Interest.from_participant_id if outgoing else Interest.to_participant_id
    rows_ = session.scalars(
        select(Interest)
        .where(mine == participant.id, Interest.source.in_(REQUEST_SOURCES))
        .options(
            selectinload(Interest.to_participant).selectinload(Participant.organization),
            selectinload(Interest.from_participant).selectinload(Participant.organization),
        )
        .order_by(Interest.level.desc(), Interest.id)
    ).all()
    other_ids = [r.to_participant_id if outgoing else r.from_participant_id for r in rows_]
    back = {
        (i.from_participant_id, i.to_participant_id): i
        for i in session.scalars(
            select(Interest).where(
                Interest.from_participant_id.in_(other_ids) if outgoing
                else Interest.from_participant_id == participant.id,
                Interest.to_participant_id == participant.id if outgoing
                else Interest.to_participant_id.in_(other_ids),
            )
        )
        if interest_counts(i, screening)
    }
    result = []
    for interest in rows_:
        other = interest.to_participant if outgoing else interest.from_participant
        if other.status != ParticipantStatus.APPROVED:
            continue
        key = (other.id, participant.id) if outgoing else (participant.id, other.id)
        result.append(RequestRow(interest, other, back.get(key)))
    return result


def my_requests(session: Session, participant: Participant) -> list[RequestRow]:
    """``participant``'s own requests (not proposal sheets), highest level first."""
    return _rows(session, participant, outgoing=True)


def incoming_requests(session: Session, participant: Participant) -> list[RequestRow]:
    """Requests others made to ``participant``; ``answer`` is its own answer, if any.

    Here :attr:`RequestRow.interest` is the other side's request.
    """
    return _rows(session, participant, outgoing=False)


# --------------------------------------------------------------------------- organizer


@dataclass(slots=True)
class ParticipantCounts:
    participant: Participant
    sent: int = 0  # counterparts it requested or applied to
    received: int = 0  # counterparts that asked for it
    mutual: int = 0
    answered: int = 0  # requests it answered (screened: wanted back, neutral or declined)

    @property
    def idle(self) -> bool:
        """Has neither asked for anyone nor answered anyone: a buyer that screens the
        requests it received is taking part, though it sends none."""
        return self.sent == 0 and self.answered == 0


@dataclass(slots=True)
class PreferencesOverview:
    """What the organizer sees before the deadline."""

    requests: int = 0  # asking interests (requests, suggestions, proposals)
    pairs: int = 0  # pairs that reach the solver
    mutual_pairs: int = 0
    declined_pairs: int = 0
    by_source: dict[str, int] = field(default_factory=dict)
    participants: list[ParticipantCounts] = field(default_factory=list)
    most_requested: list[ParticipantCounts] = field(default_factory=list)
    without_requests: list[ParticipantCounts] = field(default_factory=list)
    mutual: list[tuple[Participant, Participant, int]] = field(default_factory=list)


def overview(session: Session, event: Event, *, top: int = 10) -> PreferencesOverview:
    """Requests per participant, the most-wanted, those who asked for nobody, mutual pairs."""
    participants = {
        p.id: p for p in session.scalars(
            select(Participant)
            .where(Participant.event_id == event.id,
                   Participant.status == ParticipantStatus.APPROVED)
            .options(selectinload(Participant.organization))
            .order_by(Participant.role, Participant.code, Participant.id)
        )
    }
    counts = {pid: ParticipantCounts(p) for pid, p in participants.items()}
    result = PreferencesOverview()
    interests = [
        i for i in session.scalars(select(Interest).where(Interest.event_id == event.id))
        if i.from_participant_id in participants and i.to_participant_id in participants
        and interest_counts(i, event.screening_enabled)
    ]
    sources: Counter[str] = Counter()
    for interest in interests:
        if interest.source in ASKING_SOURCES and not interest.declined and interest.level > 0:
            result.requests += 1
            sources[interest.source] += 1
            counts[interest.from_participant_id].sent += 1
            counts[interest.to_participant_id].received += 1
        else:
            counts[interest.from_participant_id].answered += 1
    result.by_source = dict(sources)
    pairs = requested_pairs(session, event)
    result.pairs = len(pairs)
    for pair in pairs:
        if pair.mutual:
            result.mutual_pairs += 1
            counts[pair.a].mutual += 1
            counts[pair.b].mutual += 1
            result.mutual.append((participants[pair.a], participants[pair.b], pair.weight))
    asked = {
        frozenset((i.from_participant_id, i.to_participant_id)) for i in interests
        if i.source in ASKING_SOURCES and not i.declined
    }
    result.declined_pairs = len({
        frozenset((i.from_participant_id, i.to_participant_id)) for i in interests if i.declined
    } & asked)
    result.participants = list(counts.values())
    result.most_requested = sorted(
        (c for c in counts.values() if c.received), key=lambda c: -c.received
    )[:top]
    result.without_requests = [c for c in counts.values() if c.idle]
    result.mutual.sort(key=lambda m: -m[2])
    return result


def update_settings(
    session: Session,
    event: Event,
    *,
    screening_enabled: bool,
    max_requests: int | None,
    user_id: int | None,
) -> None:
    """The organizer turns screening on or off and sets the request cap (audited)."""
    if max_requests is not None and not 0 <= max_requests <= 1000:
        raise ValidationFailed(
            N_("Please enter a number between 0 and 1000, or leave it empty for no limit."),
            field="max_requests",
        )
    before = {"screening_enabled": event.screening_enabled, "max_requests": event.max_requests}
    event.screening_enabled = screening_enabled
    event.max_requests = max_requests
    session.flush()
    audit.record(
        session, "preference.settings", event_id=event.id, user_id=user_id, target=event,
        details={"before": before,
                 "after": {"screening_enabled": screening_enabled, "max_requests": max_requests}},
    )
