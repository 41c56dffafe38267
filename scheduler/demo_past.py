"""A past demo fair with its results: last autumn's fair, closed, its meetings reported on.

``generate_past_demo`` builds a smaller fair with :func:`scheduler.demo.generate_demo`
on a day in the past, gives it a published schedule (each requested pair that both
sides did not decline meets at the buyer's table in the first slot both can make:
:func:`place_greedily`), a few no-shows whose meetings were cancelled, and the reports
both sides made afterwards, with rates of next steps typical of such fairs (further
talks for about a third of the meetings, quotations for a sixth, orders for a few).
Two thirds of the companies that came answered the fair survey (satisfaction, coming
again, a comment). It lets an organizer trying matchfair see the results page and its
Excel workbook without waiting for a fair to happen.

Deterministic like the main demo: one ``random.Random(seed)``, lists only.
"""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.demo import generate_demo
from scheduler.models import (
    DayStatus,
    Event,
    FairFeedback,
    Interest,
    JoinAgain,
    Meeting,
    MeetingOutcome,
    MeetingStatus,
    NextStep,
    Organization,
    Participant,
    ParticipantRole,
    Phase,
    Prospect,
    Table,
)

PAST_SLUG = "monozukuri-2026-autumn"
PAST_DAY = date(2026, 10, 21)
# The months the demo's orders were placed in (None: the report gives none).
ORDER_MONTHS = (date(2026, 10, 1), date(2026, 11, 1), date(2026, 11, 1), date(2026, 12, 1), None)

# Shares that shape the reports: who answers, how meetings went, what followed.
NO_SHOW_SHARE = 0.04
ANSWER_SHARE = 0.75  # of the participants with meetings, those who reported
NOT_HELD_SHARE = 0.03  # meetings that did not happen although both had checked in
PROSPECTS = ((Prospect.HIGH, 0.25), (Prospect.SOME, 0.5), (Prospect.NONE, 0.25))
STEP_CHANCES = {  # per meeting, by prospect
    Prospect.HIGH: {NextStep.FURTHER_TALKS: 0.7, NextStep.FACTORY_VISIT: 0.35,
                    NextStep.QUOTATION: 0.45, NextStep.TEST_ORDER: 0.15, NextStep.ORDER: 0.08},
    Prospect.SOME: {NextStep.FURTHER_TALKS: 0.35, NextStep.FACTORY_VISIT: 0.1,
                    NextStep.QUOTATION: 0.12, NextStep.TEST_ORDER: 0.03},
    Prospect.NONE: {},
}
NOTES = {
    Prospect.HIGH: ["図面を受領、見積を作成中", "試作品の評価を依頼された", "来月、工場を見学予定",
                    "量産時の単価と納期を確認中"],
    Prospect.SOME: ["先方の設備更新時に再度相談", "技術資料を送付済み", "担当部署を紹介してもらう"],
    Prospect.NONE: ["求める精度と合わなかった", "ロットが合わず見送り", ""],
}
# The fair survey: who answers, how satisfied (5 … 1), whether they would come again.
SURVEY_SHARE = 0.65  # of the companies that came
SATISFACTION_WEIGHTS = ((5, 0.3), (4, 0.42), (3, 0.18), (2, 0.07), (1, 0.03))
JOIN_AGAIN_BY_LEVEL = {  # (yes, perhaps, no, not said) by satisfaction
    5: (0.85, 0.1, 0.0, 0.05), 4: (0.6, 0.3, 0.02, 0.08), 3: (0.25, 0.55, 0.1, 0.1),
    2: (0.05, 0.5, 0.35, 0.1), 1: (0.0, 0.3, 0.6, 0.1),
}
COMMENTS = {
    5: ["事前に面談相手が決まっていて効率が良かった", "新規の取引先候補と出会えた", ""],
    4: ["商談時間をもう少し長くしてほしい", "相手企業の情報を事前にもっと知りたかった", "", ""],
    3: ["希望した発注企業と面談できなかった", "待ち時間が長かった", ""],
    2: ["業種の合わない相手が多かった", "会場が狭く声が聞き取りにくかった"],
    1: ["自社の技術に合うニーズがなかった"],
}


def place_greedily(session: Session, event: Event) -> list[Meeting]:
    """Meetings for the requested, undeclined buyer–supplier pairs: at the buyer's table,
    in the first slot both can make (a stand-in for the solver where its quality does not
    matter: a past fair's schedule, tests of the outputs)."""
    interests = session.scalars(
        select(Interest).where(Interest.event_id == event.id).order_by(Interest.id)
    ).all()
    declined = {(i.from_participant_id, i.to_participant_id) for i in interests if i.declined}
    tables_of: dict[int, list[Table]] = defaultdict(list)
    for table in session.scalars(
        select(Table).where(Table.event_id == event.id).order_by(Table.sort_order, Table.id)
    ):
        if table.host_participant_id is not None:
            tables_of[table.host_participant_id].append(table)
    participants = {p.id: p for p in event.participants}
    busy: set[tuple[int, int]] = set()  # (participant id or -table id, slot id)
    met: set[frozenset[int]] = set()
    meetings: list[Meeting] = []
    for interest in interests:
        if interest.declined or interest.level == 0:
            continue
        a, b = participants[interest.from_participant_id], participants[interest.to_participant_id]
        pair = frozenset((a.id, b.id))
        if pair in met or (b.id, a.id) in declined:
            continue
        buyer, supplier = (a, b) if a.role == ParticipantRole.BUYER else (b, a)
        if buyer.role != ParticipantRole.BUYER or supplier.role != ParticipantRole.SUPPLIER:
            continue
        for slot in event.slots:
            if not (buyer.is_available(slot) and supplier.is_available(slot)):
                continue
            if (supplier.id, slot.id) in busy:
                continue
            table = next((t for t in tables_of[buyer.id] if (-t.id, slot.id) not in busy), None)
            if table is None:
                continue
            meeting = Meeting(
                event_id=event.id, participant_a=buyer, participant_b=supplier, slot=slot,
                table=table, purpose="",
            )
            session.add(meeting)
            meetings.append(meeting)
            busy.update({(supplier.id, slot.id), (-table.id, slot.id)})
            met.add(pair)
            break
    session.flush()
    return meetings


def _merge_repeat_companies(session: Session, event: Event) -> None:
    """A company of this fair whose name is already in the directory (the upcoming demo
    fair's, loaded first) is that company taking part again, as happens every year: its
    participation and people move to the existing record, so the directory has it once."""
    mine = {p.organization_id for p in event.participants}
    existing: dict[str, Organization] = {}
    for organization in session.scalars(
        select(Organization).where(Organization.id.not_in(mine)).order_by(Organization.id)
    ):
        existing.setdefault(organization.name_key, organization)
    for participant in event.participants:
        duplicate = participant.organization
        known = existing.get(duplicate.name_key)
        if known is None:
            continue
        for person in list(duplicate.people):
            person.organization = known
        participant.organization = known
        session.flush()
        session.delete(duplicate)
    session.flush()


def _pick(rng: random.Random, weighted: tuple[tuple[Prospect, float], ...]) -> Prospect:
    return rng.choices([p for p, _ in weighted], weights=[w for _, w in weighted])[0]


def _report(rng: random.Random, meeting: Meeting, side: Participant,
            prospect: Prospect, steps: list[str], amount: int | None,
            month: date | None = None) -> MeetingOutcome:
    return MeetingOutcome(
        event_id=meeting.event_id, meeting_id=meeting.id, participant_id=side.id,
        slot_id=meeting.slot_id, took_place=True, prospect=prospect.value,
        next_steps=steps, order_amount=amount, order_month=month,
        note=rng.choice(NOTES[prospect]),
    )


def generate_past_demo(
    session: Session, *, seed: int = 2026, buyers: int = 12, suppliers: int = 60
) -> Event:
    """Create the past demo fair with its results (or return it untouched if it exists).

    Only flushes; the caller commits.
    """
    existing = session.scalar(select(Event).where(Event.slug == PAST_SLUG))
    if existing is not None:
        return existing
    event = generate_demo(
        session, seed=seed, buyers=buyers, suppliers=suppliers, slug=PAST_SLUG,
        name=f"ふじのくに ものづくり受発注商談会 {PAST_DAY.year} 秋", day=PAST_DAY,
        phase=Phase.CLOSED,
    )
    _merge_repeat_companies(session, event)
    rng = random.Random(seed)
    meetings = place_greedily(session, event)
    evening = datetime(PAST_DAY.year, PAST_DAY.month, PAST_DAY.day, 9, tzinfo=UTC)
    event.published_version = 1
    event.published_at = evening - timedelta(days=14)

    # A few companies did not come: staff marked them, and their meetings were cancelled.
    suppliers_met = sorted({m.participant_b_id for m in meetings})
    no_shows = set(rng.sample(suppliers_met, k=round(NO_SHOW_SHARE * len(suppliers_met))))
    for participant in event.participants:
        if participant.id in no_shows:
            participant.day_status = DayStatus.NO_SHOW.value
        elif any(participant.id in (m.participant_a_id, m.participant_b_id) for m in meetings):
            participant.day_status = DayStatus.CHECKED_IN.value
    held = []
    for meeting in meetings:
        if meeting.participant_b_id in no_shows:
            meeting.status = MeetingStatus.CANCELLED
            meeting.version += 1
        else:
            held.append(meeting)

    with_meetings = sorted({p for m in held for p in (m.participant_a_id, m.participant_b_id)})
    answering = set(rng.sample(with_meetings, k=round(ANSWER_SHARE * len(with_meetings))))
    # Orders came in the weeks after the fair; some reports give no month. (A generator
    # of its own, so the rest of the demo is as before the months were reported.)
    months = random.Random(seed + 1)
    reports: list[MeetingOutcome] = []
    for meeting in held:
        if rng.random() < NOT_HELD_SHARE:  # a supplier stuck in another meeting, say
            side = meeting.participant_a
            if side.id in answering:
                reports.append(MeetingOutcome(
                    event_id=meeting.event_id, meeting_id=meeting.id, participant_id=side.id,
                    slot_id=meeting.slot_id, took_place=False, next_steps=[],
                    note="先方が時間に来られなかった",
                ))
            continue
        prospect = _pick(rng, PROSPECTS)
        steps = [step.value for step, chance in STEP_CHANCES[prospect].items()
                 if rng.random() < chance]
        amount = (rng.randrange(30, 800) * 10_000) if NextStep.ORDER.value in steps else None
        month = months.choice(ORDER_MONTHS) if NextStep.ORDER.value in steps else None
        for side in (meeting.participant_a, meeting.participant_b):
            if side.id not in answering:
                continue
            # The two sides mostly agree; now and then one sees it a notch differently.
            own = prospect if rng.random() < 0.8 else _pick(rng, PROSPECTS)
            if own is Prospect.NONE:
                reports.append(_report(rng, meeting, side, own, [], None))
            else:
                reports.append(_report(rng, meeting, side, own, steps, amount, month))
    session.add_all(reports)
    session.add_all(_survey_answers(rng, event, no_shows))
    session.flush()
    return event


def _survey_answers(rng: random.Random, event: Event, no_shows: set[int]) -> list[FairFeedback]:
    """Answers to the fair survey from about two thirds of the companies that came."""
    came = sorted(p.id for p in event.participants if p.id not in no_shows)
    answering = sorted(rng.sample(came, k=round(SURVEY_SHARE * len(came))))
    answers = []
    for participant_id in answering:
        level = rng.choices([v for v, _ in SATISFACTION_WEIGHTS],
                            weights=[w for _, w in SATISFACTION_WEIGHTS])[0]
        join_again = rng.choices([JoinAgain.YES.value, JoinAgain.PERHAPS.value,
                                  JoinAgain.NO.value, None],
                                 weights=JOIN_AGAIN_BY_LEVEL[level])[0]
        answers.append(FairFeedback(
            event_id=event.id, participant_id=participant_id, satisfaction=level,
            join_again=join_again, comment=rng.choice(COMMENTS[level]),
        ))
    return answers
