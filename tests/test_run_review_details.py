"""Why a requested pair was left out, on the run review page: in the reader's language,
with company names and local times, never the solver's English or its slot ids."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from scheduler import run_review
from scheduler.models import Event, ScheduleRun, User
from solver.model.prepared import prepare
from solver.problem import Meeting, Schedule
from solver.problem_io import problem_from_dict, schedule_from_dict, schedule_to_dict
from solver.reasons import explain_unscheduled
from tests.stored_runs import fixed_schedule, review_event, run_page, stored_run

NAMES = {
    "B1": "東海精工株式会社",
    "B2": "駿河電機株式会社",
    "B3": "富士化成株式会社",
    "B4": "浜松機工株式会社",
    "B5": "清水工業株式会社",
    "S1": "株式会社アルファ精密",
    "S2": "有限会社ベータ製作所",
    "S3": "株式会社ガンマ技研",
    "S4": "デルタ工業株式会社",
    "S5": "株式会社イプシロン",
    "S6": "ゼータ金属株式会社",
    "S7": "株式会社エータ",
    "S8": "シータ樹脂株式会社",
}


def _problem() -> dict:
    """Three morning slots (ids that mean nothing to people); each buyer hosts a table.

    B1–S2: B1 already has its one meeting (at_maximum). B2–S4: the only slot B2 can
    make is taken by S3 (out_competed). B3–S5: no slot both can make. B4–S7: B4 may
    hold two meetings at once but has one table, taken by S6 (no_table). B5–S8: both
    free all morning, nothing scheduled (out_competed, the rest scores higher).
    """
    slots = [
        {"id": f"d0s0{i}", "start": f"2027-02-17T{h}:00+09:00", "end": f"2027-02-17T{h}:25+09:00"}
        for i, h in ((1, "10"), (2, "11"), (3, "12"))
    ]
    people = {key: {"id": key, "name": name} for key, name in NAMES.items()}
    people["B1"]["max_meetings"] = 1
    people["B2"]["available"] = ["d0s02"]
    people["B3"]["available"] = ["d0s01"]
    people["S5"]["available"] = ["d0s03"]
    people["B4"]["parallel"] = 2
    people["S7"]["available"] = ["d0s01"]
    for key, person in people.items():
        person["role"] = "buyer" if key.startswith("B") else "supplier"
    pairs = [
        ("B1", "S1", 5), ("B1", "S2", 4), ("B2", "S3", 6), ("B2", "S4", 3),
        ("B3", "S5", 5), ("B4", "S6", 5), ("B4", "S7", 4), ("B5", "S8", 2),
    ]
    return {
        "format": "matchfair-problem/1",
        "event": {"name": "テスト商談会", "timezone": "Asia/Tokyo"},
        "slots": slots,
        "tables": [{"id": f"T{i}", "host": f"B{i}"} for i in range(1, 6)],
        "participants": list(people.values()),
        "pairs": [{"a": a, "b": b, "weight": w} for a, b, w in pairs],
    }


MEETINGS = [
    Meeting("B1", "S1", "d0s01", "T1"),
    Meeting("B2", "S3", "d0s02", "T2"),
    Meeting("B4", "S6", "d0s01", "T4"),
]


def _result(problem: dict) -> dict:
    """The schedule as the solver stores it."""
    return schedule_to_dict(fixed_schedule(problem, MEETINGS, objective=15, bound=40))


@pytest.fixture
def event(db_session: Session) -> Event:
    return review_event(db_session)


@pytest.fixture
def run(db_session: Session, event: Event) -> ScheduleRun:
    problem = _problem()
    schedule = fixed_schedule(problem, MEETINGS, objective=15, bound=40)
    return stored_run(db_session, event, problem, schedule)


def _reasons(run: ScheduleRun) -> dict[frozenset[str], str]:
    return {
        frozenset((u.a, u.b)): u.reason for u in schedule_from_dict(run.result).unscheduled
    }


def test_the_solver_gives_the_reasons_the_details_are_written_for(run: ScheduleRun) -> None:
    assert _reasons(run) == {
        frozenset(("B1", "S2")): "at_maximum",
        frozenset(("B2", "S4")): "out_competed",
        frozenset(("B3", "S5")): "no_common_slot",
        frozenset(("B4", "S7")): "no_table",
        frozenset(("B5", "S8")): "out_competed",
    }


def test_details_name_companies_and_local_times(
    db_session: Session, event: Event, run: ScheduleRun
) -> None:
    details = run_review.unscheduled_details(
        event, problem_from_dict(run.problem), schedule_from_dict(run.result)
    )
    english = {pair: detail.message for pair, detail in details.items() if detail}
    assert english == {
        frozenset(("B1", "S2")): "東海精工株式会社 already has its maximum of 1 meetings.",
        frozenset(("B2", "S4")): (
            "駿河電機株式会社 is already booked in every slot both could use: "
            "11:00 株式会社ガンマ技研."
        ),
        frozenset(("B3", "S5")): "No time slot suits both companies.",
        frozenset(("B4", "S7")): (
            "Both are free at 10:00, but every table they may use is taken."
        ),
        frozenset(("B5", "S8")): (
            "Both are free at 10:00, 11:00, 12:00, but the schedule as a whole scores "
            "higher with other meetings."
        ),
    }


def test_slots_of_several_days_show_the_date(
    db_session: Session, event: Event, run: ScheduleRun
) -> None:
    problem = _problem()
    problem["slots"][1]["start"] = "2027-02-18T11:00:00+09:00"
    problem["slots"][1]["end"] = "2027-02-18T11:25:00+09:00"
    details = run_review.unscheduled_details(
        event, problem_from_dict(problem), schedule_from_dict(_result(problem))
    )
    assert details[frozenset(("B2", "S4"))].message.endswith("2/18 11:00 株式会社ガンマ技研.")


def _b5_s8_said_at_maximum(run: ScheduleRun, extra: list[dict] | None = None) -> dict:
    """The run's result with B5–S8 left out "at its maximum" (nobody is), plus ``extra``."""
    result = dict(run.result)
    stats = dict(result["stats"])
    stats["unscheduled"] = [
        {**item, "reason": "at_maximum"} if {item["a"], item["b"]} == {"B5", "S8"} else item
        for item in stats["unscheduled"]
    ] + (extra or [])
    result["stats"] = stats
    return result


def test_a_reason_whose_facts_are_gone_has_no_detail(
    db_session: Session, event: Event, run: ScheduleRun
) -> None:
    no_such_pair = {"a": "B9", "b": "S9", "reason": "no_table", "detail": "English only"}
    result = _b5_s8_said_at_maximum(run, [no_such_pair])
    details = run_review.unscheduled_details(
        event, problem_from_dict(run.problem), schedule_from_dict(result)
    )
    assert details[frozenset(("B5", "S8"))] is None  # nobody is at a maximum
    assert details[frozenset(("B9", "S9"))] is None


def test_a_started_day_and_a_break_cap_are_explained(
    db_session: Session, event: Event
) -> None:
    problem = _problem()
    problem["now"] = "2027-02-17T10:30:00+09:00"  # S7 can make only 10:00, now past
    problem["participants"][4]["available"] = ["d0s01", "d0s03"]  # B5 is away at 11:00
    problem["pairs"].append({"a": "B5", "b": "S6", "weight": 1})
    problem["max_breaks"] = 0
    parsed = problem_from_dict(problem)
    meetings = [Meeting("B1", "S1", "d0s01", "T1"), Meeting("B5", "S6", "d0s01", "T5")]
    schedule = Schedule(
        status="FEASIBLE", objective=0, bound=0, solve_seconds=0.0, meetings=meetings,
        unscheduled=explain_unscheduled(prepare(parsed), meetings),
    )
    reasons = {frozenset((u.a, u.b)): u.reason for u in schedule.unscheduled}
    details = run_review.unscheduled_details(event, parsed, schedule)
    assert reasons[frozenset(("B4", "S7"))] == "no_common_slot"
    assert details[frozenset(("B4", "S7"))].message == (
        "No time slot that has not started yet suits both companies."
    )
    # S8 could meet B5 at noon only: B5 would then wait through 11:00 (no waits allowed).
    assert reasons[frozenset(("B5", "S8"))] == "out_competed"
    assert details[frozenset(("B5", "S8"))].message == (
        "清水工業株式会社 would have more than 0 waits between meetings in every free slot "
        "both could use."
    )


def _unmet_texts(page: str) -> list[str]:
    items = re.findall(r'<li class="unmet">(.*?)</li>', page, re.S)
    why = re.search(r'<ul class="why-none">(.*?)</ul>', page, re.S)
    return [*items, *([why.group(1)] if why else [])]


def test_the_page_shows_the_details_in_japanese(
    client: FlaskClient, logged_in: User, event: Event, run: ScheduleRun
) -> None:
    page = run_page(client, event, run, "ja")
    assert "東海精工株式会社 はすでに商談数の上限（1 件）に達しています。" in page
    assert (
        "双方が参加できる時間枠はすべて 駿河電機株式会社 の商談で埋まっています："
        "11:00 株式会社ガンマ技研"
    ) in page
    assert "双方の都合が合う時間枠がありません。" in page
    assert "10:00 は双方とも空いていますが、使えるテーブルがすべて埋まっています。" in page
    texts = _unmet_texts(page)
    assert len(texts) == 11  # five pairs, both sides, and the list of those without a meeting
    for text in texts:
        assert "d0s0" not in text
        for english in ("already has", "booked", "free in", "maximum", "slot", "table"):
            assert english not in text


def test_the_page_shows_the_details_in_english(
    client: FlaskClient, logged_in: User, event: Event, run: ScheduleRun
) -> None:
    page = run_page(client, event, run, "en")
    assert "東海精工株式会社 already has its maximum of 1 meetings." in page
    assert "Both are free at 10:00, but every table they may use is taken." in page
    assert all("d0s0" not in text for text in _unmet_texts(page))


def test_without_a_recomputable_fact_the_page_shows_the_reason_alone(
    client: FlaskClient, logged_in: User, event: Event, run: ScheduleRun, db_session: Session
) -> None:
    run.result = _b5_s8_said_at_maximum(run)
    db_session.commit()
    page = run_page(client, event, run, "ja")
    row = re.search(r'<tr id="participant-S8".*?</tr>', page, re.S)
    assert row is not None
    unmet = re.search(r'<li class="unmet">(.*?)</li>', row.group(0), re.S)
    assert unmet is not None
    assert "商談数の上限に達している" in unmet.group(1) and "(" not in unmet.group(1)
    assert "already has" not in page


def test_the_summary_counts_meetings_and_requested_pairs_apart(
    db_session: Session, event: Event
) -> None:
    """QA F8: a pair only a rule sets (weight 0) is a meeting, not a requested pair met;
    the problem's pairs are the requested ones and those; a score at its bound is proven."""
    problem = _problem()
    problem["pairs"].append({"a": "B3", "b": "S4", "weight": 0, "must": True})
    meetings = [*MEETINGS, Meeting("B3", "S4", "d0s01", "T3")]
    run = stored_run(
        db_session, event, problem, fixed_schedule(problem, meetings, objective=40, bound=40)
    )
    summary = run_review.summarize(run)
    assert summary is not None
    assert (summary.meetings, summary.fulfilled, summary.requested, summary.pairs) == (4, 3, 8, 9)
    assert summary.unrequested == 1 and summary.proven_best and not summary.edited
    review = run_review.review(db_session, event, run)
    assert review is not None
    by_key = {p.key: p for p in review.participants}
    assert by_key["B3"].requested == 1 and len(by_key["B3"].meetings) == 1
    run.objective = 39
    assert not run_review.summarize(run).proven_best
