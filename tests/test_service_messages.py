"""Service messages that used to be English only or to embed an English sentence (the
demo generator, an unreadable CSV file, a schedule that breaks a rule) are whole msgids
with parameters, shown in the reader's language."""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from scheduler import demo, event_setup, publishing
from scheduler.errors import Conflict, DomainError, ValidationFailed
from scheduler.models import Event, RunStatus, ScheduleRun
from scheduler.participant_import import preview_import
from solver.problem import Meeting, Schedule
from solver.problem_io import schedule_to_dict
from web.i18n import translate_error
from web.participants_admin import issue_text


@pytest.fixture
def japanese(app: Flask) -> Iterator[None]:
    with app.test_request_context(headers={"Accept-Language": "ja"}):
        yield


@pytest.fixture
def event(db_session: Session) -> Event:
    event = event_setup.create_event(db_session, name="テスト商談会")
    db_session.commit()
    return event


def _japanese_only(text: str) -> None:
    """Japanese text: no English sentence left in it."""
    for english in ("the ", " a ", "field limit", "rule", "cannot", "demo"):
        assert english not in text


# --------------------------------------------------------------------------- demo


def test_a_demo_without_buyers_is_refused_in_japanese(
    db_session: Session, japanese: None
) -> None:
    with pytest.raises(ValidationFailed) as error:
        demo.generate_demo(db_session, buyers=0, suppliers=3)
    assert error.value.field == "buyers"
    assert error.value.message == "A demo fair needs at least one buyer and one supplier."
    assert translate_error(error.value) == (
        "デモ用の商談会には、バイヤーとサプライヤーが少なくとも1社ずつ必要です。"
    )


def test_running_out_of_demo_names_is_said_in_japanese(
    monkeypatch: pytest.MonkeyPatch, japanese: None
) -> None:
    monkeypatch.setattr(demo, "PLACE_STEMS", (("東", "ひがし", "higashi"),))
    names = demo._Names()
    rng = random.Random(1)
    stems, types = [("東海", "とうかい", "tokai")], [("精機", "せいき", "seiki")]
    names.company(rng, stems, types)
    names.company(rng, stems, types)  # 東東海精機: the combined stems are used up now
    with pytest.raises(ValidationFailed) as error:
        names.company(rng, stems, types)
    assert error.value.params == {"count": 2}
    text = translate_error(error.value)
    assert text == (
        "デモ用の企業名が 2 社で足りなくなりました。バイヤーとサプライヤーの数を減らしてください。"
    )


# --------------------------------------------------------------------------- import


def test_a_csv_cell_over_the_limit_is_reported_by_row_in_japanese(
    db_session: Session, event: Event, japanese: None
) -> None:
    data = ("会社名,区分\n株式会社テスト,サプライヤー\n" + "あ" * 140_000 + ",サプライヤー\n")
    preview = preview_import(db_session, event, data.encode(), "participants.csv")
    assert len(preview.file_errors) == 1
    issue = preview.file_errors[0]
    assert issue.params == {"row": 3, "limit": 131072}
    assert "field limit" not in issue.text() and "Row 3 of the CSV file" in issue.text()
    text = issue_text(issue)
    assert text == "CSV ファイルの 3 行目に 131072 文字を超えるセルがあるため、読み込めません。"


# --------------------------------------------------------------------------- publishing


def _broken_run(session: Session, event: Event) -> ScheduleRun:
    """A finished run whose only meeting is in a slot one side cannot make (rule 2)."""
    problem = {
        "format": "matchfair-problem/1",
        "slots": [
            {"id": "d0s01", "start": "2027-02-17T10:00:00+09:00",
             "end": "2027-02-17T10:25:00+09:00"},
            {"id": "d0s02", "start": "2027-02-17T10:30:00+09:00",
             "end": "2027-02-17T10:55:00+09:00"},
        ],
        "participants": [
            {"id": "B001", "role": "buyer", "name": "東海精工株式会社", "available": ["d0s02"]},
            {"id": "S001", "role": "supplier", "name": "株式会社アルファ精密"},
        ],
        "pairs": [{"a": "B001", "b": "S001", "weight": 5}],
    }
    schedule = Schedule(
        status="FEASIBLE", objective=5, bound=5, solve_seconds=0.1,
        meetings=[Meeting("B001", "S001", "d0s01")],
    )
    run = ScheduleRun(
        event_id=event.id, status=RunStatus.SUCCEEDED, parameters={}, problem=problem,
        result=schedule_to_dict(schedule), progress=[], objective=5, bound=5,
    )
    session.add(run)
    session.commit()
    return run


def _refusal(session: Session, event: Event, run: ScheduleRun) -> DomainError:
    with pytest.raises(Conflict) as error:
        publishing.publish_run(session, event, run)
    return error.value


def test_a_schedule_breaking_a_rule_is_refused_in_the_organizers_terms(
    db_session: Session, event: Event, japanese: None, caplog: pytest.LogCaptureFixture
) -> None:
    run = _broken_run(db_session, event)
    error = _refusal(db_session, event, run)
    assert error.params == {"count": 1}
    assert "not available" in error.message and "d0s01" not in error.message
    assert translate_error(error) == (
        "この実行結果のスケジュールは公開できません。参加できない時間枠に商談がある企業、"
        "または上限を超える数の商談がある企業があります（問題の件数：1）。"
        "新しく実行して、その結果を公開してください。"
    )
    # The checker's own words (English, with ids) are kept for whoever reads the log.
    assert "rule 2" in caplog.text and "d0s01" in caplog.text
    assert event.published_version == 0


def test_every_rule_of_the_checker_has_its_own_message(
    db_session: Session, event: Event, japanese: None
) -> None:
    run = _broken_run(db_session, event)
    result = dict(run.result)
    result["meetings"] = [{"a": "B001", "b": "S001", "slot": "d0s02", "table": "T9"}]
    run.result = result
    db_session.commit()
    error = _refusal(db_session, event, run)  # rule 4: a table in a problem without tables
    assert error.msgid == publishing._BROKEN_RULE["4"]
    text = translate_error(error)
    assert "使えないテーブル" in text
    _japanese_only(text)
    assert set(publishing._BROKEN_RULE) == {str(n) for n in range(1, 9)}
