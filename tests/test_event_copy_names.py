"""The name suggested for a copy, and a copy named like another event."""

from __future__ import annotations

import html
from datetime import date, time, timedelta

import pytest
from sqlalchemy import func, select

from scheduler import event_copy, event_setup
from scheduler.db import utcnow
from scheduler.errors import ValidationFailed
from scheduler.models import Event

NEXT_YEAR = utcnow().date().year + 1


@pytest.fixture
def english(client, logged_in):
    """The organizer, logged in, reading the pages in English (the messages checked)."""
    assert client.post("/language", data={"lang": "en"}).status_code == 302
    return logged_in


def _event(session, name: str, day: date | None = None, slug: str | None = None) -> Event:
    event = event_setup.create_event(session, name=name, slug=slug)
    if day is not None:
        event_setup.save_day(
            session, event, event_setup.DayPlan(date=day, start=time(10, 0), end=time(12, 0))
        )
    session.commit()
    return event


@pytest.mark.parametrize(
    ("name", "day", "first_day", "suggested"),
    [
        # a 年度 counts from April: a fair in February is in the year before's
        (
            "令和8年度 ものづくり商談会",
            date(2026, 10, 7),
            date(2027, 10, 6),
            "令和9年度 ものづくり商談会",
        ),
        ("令和8年度 冬の商談会", date(2027, 2, 10), date(2028, 2, 9), "令和9年度 冬の商談会"),
        ("令和8年度 商談会", date(2026, 10, 7), date(2028, 2, 9), "令和9年度 商談会"),
        ("令和9年 新春商談会", date(2027, 1, 20), date(2028, 1, 19), "令和10年 新春商談会"),
        ("令和８年度 商談会", date(2026, 6, 3), date(2027, 6, 2), "令和９年度 商談会"),
        ("令和元年度 商談会", date(2019, 6, 5), date(2020, 6, 3), "令和2年度 商談会"),
        # the Western year as the era's: 年度 by fiscal year, else the calendar year
        ("2026年度 冬の商談会", date(2027, 2, 10), date(2028, 2, 9), "2027年度 冬の商談会"),
        (
            "2026年度（令和8年度）商談会",
            date(2026, 9, 1),
            date(2027, 9, 7),
            "2027年度（令和9年度）商談会",
        ),
        (
            "ものづくり商談会 2027 秋",
            date(2027, 10, 6),
            date(2028, 10, 4),
            "ものづくり商談会 2028 秋",
        ),
        # a year typed in full width moves too, and stays in full width
        ("東京展示会２０２７", date(2027, 6, 2), date(2028, 5, 31), "東京展示会２０２８"),
        # no year to move: a copy says so
        ("再利用テスト", date(2027, 6, 2), date(2028, 5, 31), "再利用テスト（コピー）"),
        (
            "Buyers meet suppliers",
            date(2027, 6, 2),
            date(2028, 5, 31),
            "Buyers meet suppliers (copy)",
        ),
        # the copy in the same year: moving the year changes nothing
        ("商談会 2028 春", date(2028, 4, 12), date(2028, 10, 4), "商談会 2028 春（コピー）"),
    ],
)
def test_the_suggested_name_moves_the_year_or_says_copy(
    db_session, name, day, first_day, suggested
) -> None:
    source = _event(db_session, name, day)
    assert event_copy.suggest_name(source, first_day) == suggested
    assert suggested != name


def test_an_event_without_days_suggests_a_copy_of_its_name(db_session) -> None:
    source = _event(db_session, "再利用テスト")
    assert event_copy.suggest_name(source, None) == "再利用テスト（コピー）"
    long = _event(db_session, "長" * 200, slug="long-name")
    assert event_copy.suggest_name(long, None) == "長" * 195 + "（コピー）"


def test_the_copy_page_suggests_a_name_of_its_own(client, english, db_session) -> None:
    source = _event(db_session, "再利用テスト", date(NEXT_YEAR, 6, 2), slug="reuse-test")
    body = client.get(f"/events/{source.id}/copy").get_data(as_text=True)
    assert 'value="再利用テスト（コピー）"' in body
    assert 'id="same-name"' not in body and 'name="same_name_ok"' not in body


def test_a_name_another_event_has_is_refused_unless_kept_on_purpose(
    client, english, db_session
) -> None:
    source = _event(db_session, "再利用テスト", date(NEXT_YEAR, 6, 2), slug="reuse-test")
    data = {
        "name": "再利用テスト",  # the source's own name
        "slug": "reuse-test-copy",
        "first_day": date(NEXT_YEAR + 1, 6, 1).isoformat(),
        "action": "copy",
    }

    refused = client.post(f"/events/{source.id}/copy", data=data)

    body = refused.get_data(as_text=True)
    assert refused.status_code == 200
    name_field = body.split('name="name"')[1].split('name="slug"')[0]
    assert "Another event is already called 再利用テスト" in name_field
    assert 'name="same_name_ok"' in name_field and "Use this name anyway" in name_field
    assert db_session.scalar(select(func.count(Event.id))) == 1

    kept = client.post(f"/events/{source.id}/copy", data=data | {"same_name_ok": "y"})

    assert kept.status_code == 302
    db_session.expire_all()
    assert db_session.scalars(select(Event.name).order_by(Event.id)).all() == [
        "再利用テスト",
        "再利用テスト",
    ]


def test_the_preview_warns_of_a_name_in_use(client, english, db_session) -> None:
    source = _event(db_session, "Buyers meet suppliers", date(NEXT_YEAR, 6, 2), slug="bms")
    _event(db_session, "Buyers Meet Suppliers (copy)", slug="bms-copy")
    preview = client.post(
        f"/events/{source.id}/copy",
        data={
            "name": "buyers  meet suppliers (copy)",
            "first_day": date(NEXT_YEAR + 1, 6, 1).isoformat(),
            "action": "preview",
        },
    )
    body = preview.get_data(as_text=True)
    warning = body.split('id="same-name"')[1].split("</p>")[0]
    assert html.escape("Another event is already called Buyers Meet Suppliers (copy)") in warning


def test_the_service_refuses_a_taken_name(db_session) -> None:
    source = _event(db_session, "再利用テスト", date(NEXT_YEAR, 6, 2), slug="reuse-test")
    first_day = date(NEXT_YEAR, 6, 2) + timedelta(days=364)
    with pytest.raises(ValidationFailed) as caught:
        event_copy.copy_event(db_session, source, name="再利用テスト", slug="", first_day=first_day)
    assert caught.value.field == "name"
    db_session.rollback()
    copy = event_copy.copy_event(
        db_session, source, name="再利用テスト", slug="", first_day=first_day, same_name_ok=True
    )
    assert copy.name == source.name


def test_names_differing_only_in_kana_or_width_are_the_same_name(db_session) -> None:
    """Final review: "ものづくり商談会" and "モノヅクリ商談会" were told apart."""
    from scheduler.event_copy import event_named

    existing = _event(db_session, "ものづくり商談会", date(NEXT_YEAR, 6, 2), slug="mono")
    assert event_named(db_session, "モノヅクリ商談会") is existing
    assert event_named(db_session, "ﾓﾉﾂﾞｸﾘ商談会") is existing  # half-width kana
    assert event_named(db_session, "ものづくり展示会") is None
