"""Suggestions on a fixed small directory: the right counterparts first, with reasons."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler import preferences, suggestions
from scheduler.db import utcnow
from scheduler.models import Need, Phase, SuggestionShown
from tests.participant_fair import add_company, make_fair


@pytest.fixture
def fair(db_session: Session):
    """The participant fair plus a third supplier that fits only by field and text."""
    fair = make_fair(db_session, phase=Phase.PREFERENCES)
    fair.turner = add_company(
        db_session, fair.event, "旋盤工業株式会社", "supplier", email="t@example.jp", code="S003",
        description="鉄の旋盤加工。量産対応。", technologies=["machining.turning"],
        lot_sizes=["mass"],
    )
    fair.need.description = "ISO 9001 認証のある会社を希望。アルミの試作"
    fair.need.material = "アルミ A5052"
    db_session.commit()
    return fair


def test_fitting_supplier_ranks_first_with_reasons_naming_the_technology(db_session, fair) -> None:
    [group] = suggestions.suggestions_by_need(db_session, fair.buyer)
    ranked = [s.counterpart.id for s in group.suggestions]
    assert ranked[0] == fair.supplier.id
    assert fair.other_supplier.id not in ranked  # sheet metal, steel, mass: no fit
    best = group.suggestions[0]
    assert best.reasons[0] == "5軸加工"
    assert {"アルミ", "試作", "ISO 9001"} <= set(best.reasons)
    assert best.score > group.suggestions[-1].score or len(ranked) == 1


def test_reasons_follow_the_viewers_language(db_session, fair) -> None:
    [group] = suggestions.suggestions_by_need(db_session, fair.buyer, locale="en")
    assert "5-axis machining" in group.suggestions[0].reasons
    assert "Prototype" in group.suggestions[0].reasons


def test_same_field_earns_partial_credit(db_session, fair) -> None:
    score_turner, reasons = suggestions.score_fit(fair.need, fair.turner.organization)
    score_sheet, _ = suggestions.score_fit(fair.need, fair.other_supplier.organization)
    assert "切削加工" in reasons  # the field, not the technology
    assert score_turner > score_sheet


def test_mirror_view_shows_suppliers_the_buyers_whose_needs_fit(db_session, fair) -> None:
    found = suggestions.suggestions_for(db_session, fair.supplier)
    assert [s.counterpart.id for s in found] == [fair.buyer.id]
    assert found[0].need.id == fair.need.id
    assert suggestions.suggestions_for(db_session, fair.other_supplier) == []
    fair.need.published = False  # suppliers never see unpublished needs
    assert suggestions.suggestions_for(db_session, fair.supplier) == []


def test_counterparts_already_asked_are_not_suggested(db_session, fair) -> None:
    preferences.request_meeting(db_session, fair.buyer, fair.supplier.id, level=2)
    ranked = [s.counterpart.id for s in suggestions.suggestions_for(db_session, fair.buyer)]
    assert fair.supplier.id not in ranked


def test_shown_suggestions_are_recorded_once(db_session, fair) -> None:
    shown = suggestions.suggestions_for(db_session, fair.buyer)
    first = utcnow() - timedelta(hours=1)
    assert suggestions.record_shown(db_session, fair.buyer, shown, now=first) == len(shown)
    assert suggestions.record_shown(db_session, fair.buyer, shown) == 0
    rows = db_session.scalars(select(SuggestionShown)).all()
    assert len(rows) == len(shown)
    row = next(r for r in rows if r.suggested_id == fair.supplier.id)
    assert row.first_shown_at == first
    assert row.need_id == fair.need.id and "5軸加工" in row.reasons


def test_conversion_counts_requests_that_followed(db_session, fair) -> None:
    shown = suggestions.suggestions_for(db_session, fair.buyer)
    suggestions.record_shown(db_session, fair.buyer, shown, now=utcnow() - timedelta(minutes=5))
    supplier_view = suggestions.suggestions_for(db_session, fair.supplier)
    suggestions.record_shown(db_session, fair.supplier, supplier_view,
                             now=utcnow() - timedelta(minutes=5))
    assert suggestions.is_suggested(db_session, fair.buyer, fair.supplier.id)
    preferences.request_meeting(db_session, fair.buyer, fair.supplier.id, level=3,
                                source="suggestion")
    report = {row.role: row for row in suggestions.conversion_report(db_session, fair.event)}
    buyers, suppliers_ = report["buyer"], report["supplier"]
    assert (buyers.viewers, buyers.shown, buyers.followed, buyers.one_click) == (
        1, len(shown), 1, 1)
    assert buyers.rate == pytest.approx(1 / len(shown))
    assert (suppliers_.shown, suppliers_.followed, suppliers_.rate) == (1, 0, 0.0)
    # A request made later through the directory also follows the suggestion.
    preferences.request_meeting(db_session, fair.supplier, fair.buyer.id, level=2)
    report = {row.role: row for row in suggestions.conversion_report(db_session, fair.event)}
    assert (report["supplier"].followed, report["supplier"].one_click) == (1, 0)


def test_buyer_without_needs_gets_no_suggestions(db_session, fair) -> None:
    assert suggestions.suggestions_for(db_session, fair.other_buyer) == []
    db_session.add(Need(participant=fair.other_buyer, title="板金の曲げ加工",
                        technologies=["sheet_metal.bending"], lot_size="mass"))
    db_session.flush()
    db_session.refresh(fair.other_buyer)
    found = suggestions.suggestions_for(db_session, fair.other_buyer)
    assert found[0].counterpart.id == fair.other_supplier.id
    assert "曲げ加工" in found[0].reasons
