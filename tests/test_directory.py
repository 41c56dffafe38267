"""The directory: Japanese-aware keyword search, filters, and what each side may see."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from scheduler.directory import DirectoryFilters, bigrams, normalize_text, search
from scheduler.models import ParticipantRole, ParticipantStatus
from tests.participant_fair import add_company, make_fair, read_in_english


@pytest.fixture(autouse=True)
def _english(client: FlaskClient) -> None:
    read_in_english(client)


@pytest.fixture
def fair(db_session: Session):
    fair = make_fair(db_session)
    add_company(
        db_session, fair.event, "浜名湖切削加工株式会社", ParticipantRole.SUPPLIER,
        email="hamana@example.jp", code="S003", prefecture="静岡県",
        technologies=["machining.turning"], lot_sizes=["mass"],
    )
    add_company(
        db_session, fair.event, "鋳物のかたち合同会社", ParticipantRole.SUPPLIER,
        email="imono@example.jp", code="S004", prefecture="北海道",
        description="砂型鋳造による試作品", technologies=["casting_forging.sand_casting"],
    )
    db_session.commit()
    return fair


ABC, HAMANA, YAMADA, IMONO = (
    "ＡＢＣ精工株式会社", "浜名湖切削加工株式会社", "山田板金有限会社", "鋳物のかたち合同会社"
)


def names(entries) -> list[str]:
    return [e.organization.name for e in entries]


def test_normalize_text_folds_widths_case_and_kana() -> None:
    assert normalize_text("ＡＢＣ精工") == "abc精工"
    assert normalize_text("ｶﾅ") == normalize_text("カナ") == normalize_text("かな")
    assert bigrams("切削加工") == {"切削", "削加", "加工"}
    assert bigrams("5軸 加工") == {"5軸", "加工"}  # a space separates runs
    assert bigrams("鋳") == {"鋳"}


def test_full_width_name_found_by_ascii_query(db_session: Session, fair) -> None:
    entries = search(db_session, fair.event, ParticipantRole.BUYER, "abc")
    assert names(entries) == ["ＡＢＣ精工株式会社"]


def test_half_width_kana_found_by_full_width_query(db_session: Session, fair) -> None:
    # The kana is stored half-width (ｴｰﾋﾞｰｼｰｾｲｺｳ); both hiragana and katakana find it.
    assert names(search(db_session, fair.event, ParticipantRole.BUYER, "セイコウ")) == [
        "ＡＢＣ精工株式会社"
    ]
    assert names(search(db_session, fair.event, ParticipantRole.BUYER, "せいこう")) == [
        "ＡＢＣ精工株式会社"
    ]


def test_kanji_bigram_finds_machining_suppliers(db_session: Session, fair) -> None:
    found = names(search(db_session, fair.event, ParticipantRole.BUYER, "切削"))
    # One by its name, the other by its description and its technology's field label 切削加工.
    assert set(found) == {"浜名湖切削加工株式会社", "ＡＢＣ精工株式会社"}
    assert "山田板金有限会社" not in found


def test_ranking_by_matched_share(db_session: Session, fair) -> None:
    entries = search(db_session, fair.event, ParticipantRole.BUYER, "アルミ 試作")
    assert entries[0].organization.name == "ＡＢＣ精工株式会社"  # both words
    assert entries[0].score == 1.0
    # 試作 alone is one bigram of three, but a whole word of the query: shown, ranked lower.
    assert names(entries)[1:] == ["鋳物のかたち合同会社"]
    assert entries[1].score == pytest.approx(1 / 3)
    assert search(db_session, fair.event, ParticipantRole.BUYER, "アルファ 試験") == []


def test_an_english_word_is_looked_for_whole(db_session: Session, fair) -> None:
    """QA: "turning" found 140 of 160 companies: the bigrams "in" and "ng" of every
    "Machining" made up half of it. A Latin word must now occur as it is typed."""
    def found(query: str) -> set[str]:
        return set(names(search(db_session, fair.event, ParticipantRole.BUYER, query)))

    assert found("turning") == {HAMANA}
    assert found("TURN") == {HAMANA}  # case and a word's beginning
    assert found("machining") == {ABC, HAMANA}
    assert found("casting") == {IMONO}
    assert found("ｃａｓｔｉｎｇ") == {IMONO}  # full-width letters, as typed on a Japanese keyboard
    assert found("string") == set()  # its bigrams are all in "casting" and "Turning"
    # Mixed queries: an English word and a Japanese one, each a word of the query.
    assert found("turning 鋳物") == {HAMANA, IMONO}
    # A name typed whole finds it written apart (review: "ISO9001" missed "ISO 9001").
    assert found("sandcasting") == found("sand-casting") == {IMONO}


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (DirectoryFilters(technology="machining"), {ABC, HAMANA}),
        (DirectoryFilters(technology="machining.5axis"), {ABC}),
        (DirectoryFilters(location="静岡県"), {ABC, HAMANA}),
        (DirectoryFilters(location="region:chubu"),
         {ABC, HAMANA, YAMADA}),
        (DirectoryFilters(location="region:hokkaido"), {IMONO}),
        (DirectoryFilters(certification="iso14001"), {YAMADA}),
        (DirectoryFilters(lot_size="mass"), {YAMADA, HAMANA}),
        (DirectoryFilters(technology="machining", lot_size="mass"), {HAMANA}),
    ],
)
def test_filters(db_session: Session, fair, filters: DirectoryFilters, expected: set) -> None:
    assert set(names(search(db_session, fair.event, ParticipantRole.BUYER, "", filters))) == (
        expected
    )


def test_each_side_sees_the_other_approved_side_only(db_session: Session, fair) -> None:
    fair.other_supplier.status = ParticipantStatus.PENDING
    db_session.commit()
    assert "山田板金有限会社" not in names(search(db_session, fair.event, ParticipantRole.BUYER))
    buyers = search(db_session, fair.event, ParticipantRole.SUPPLIER)
    assert set(names(buyers)) == {"発注重工株式会社", "ビー電機株式会社"}
    assert len(search(db_session, fair.event, None)) == 5  # organizers: both sides


def test_unpublished_needs_are_not_searchable_by_participants(db_session: Session, fair) -> None:
    fair.need.published = False
    fair.need.title = "極秘の筐体"
    db_session.commit()
    assert search(db_session, fair.event, ParticipantRole.SUPPLIER, "極秘") == []
    assert names(search(db_session, fair.event, None, "極秘")) == ["発注重工株式会社"]


def test_directory_pages(client: FlaskClient, logged_in, fair) -> None:
    page = client.get(f"/p/{fair.buyer.access_token}/directory?q=ａｂｃ").get_data(as_text=True)
    assert "ＡＢＣ精工株式会社" in page and "山田板金有限会社" not in page
    detail = client.get(f"/p/{fair.buyer.access_token}/directory/{fair.supplier.id}")
    text = detail.get_data(as_text=True)
    assert detail.status_code == 200 and "アルミの切削加工" in text
    assert "abc@example.jp" not in text and fair.supplier.access_token not in text
    # The same side, or a participant of no concern, is not a counterpart.
    assert client.get(
        f"/p/{fair.buyer.access_token}/directory/{fair.other_buyer.id}"
    ).status_code == 404
    organizer = client.get(f"/events/{fair.event.id}/directory?role=buyer&q=アルミ")
    assert "発注重工株式会社" in organizer.get_data(as_text=True)
    assert client.get(f"/events/{fair.event.id}/directory/{fair.buyer.id}").status_code == 200



def test_lists_on_a_profile_use_the_readers_separator(client: FlaskClient, fair) -> None:
    url = f"/p/{fair.buyer.access_token}/directory/{fair.supplier.id}"
    client.post("/language", data={"lang": "ja"})
    japanese = client.get(url).get_data(as_text=True)
    assert "試作、小ロット" in japanese
    client.post("/language", data={"lang": "en"})
    english = client.get(url).get_data(as_text=True)
    assert "Prototype, Small lot" in english and "、" not in english.split("<main")[1]


def test_demo_fair_pages_render_for_both_sides(
    client: FlaskClient, db_session: Session, logged_in
) -> None:
    from scheduler.demo import generate_demo
    from scheduler.models import Phase

    event = generate_demo(db_session, seed=7, buyers=3, suppliers=12, phase=Phase.PREFERENCES)
    db_session.commit()
    buyer = next(p for p in event.participants if p.role == ParticipantRole.BUYER)
    supplier = next(p for p in event.participants if p.role == ParticipantRole.SUPPLIER)
    for participant, counterpart in ((buyer, supplier), (supplier, buyer)):
        base = f"/p/{participant.access_token}"
        for path in ("/", "/profile", "/directory", f"/directory/{counterpart.id}"):
            assert client.get(base + path).status_code == 200, path
    listing = client.get(f"{base}/directory").get_data(as_text=True)
    assert buyer.organization.name in listing  # the supplier sees the buyers
    # A label and its value: a full-width colon in Japanese, ": " in English.
    client.post("/language", data={"lang": "ja"})
    listing = client.get(f"{base}/directory").get_data(as_text=True)
    assert "ニーズ：" in listing and "ニーズ: " not in listing
    client.post("/language", data={"lang": "en"})
    assert "Needs: " in client.get(f"{base}/directory").get_data(as_text=True)
    assert client.get(f"/events/{event.id}/directory?q=加工").status_code == 200


def test_a_certification_stored_twice_is_listed_once(
    client: FlaskClient, db_session: Session, fair
) -> None:
    """QA: the demo's buyers stored ISO 14001 twice and their page said so twice."""
    fair.supplier.organization.certifications = ["iso9001", "iso14001", "iso14001"]
    db_session.commit()
    page = client.get(f"/p/{fair.buyer.access_token}/directory/{fair.supplier.id}")
    text = page.get_data(as_text=True)
    assert text.count("ISO 14001") == 1 and "ISO 9001, ISO 14001<" in text


def test_no_demo_company_has_a_certification_twice(db_session: Session) -> None:
    from scheduler.demo import generate_demo

    event = generate_demo(db_session, seed=2027, buyers=32, suppliers=20)
    for participant in event.participants:
        codes = participant.organization.certifications
        assert len(codes) == len(set(codes)), participant.organization.name


def test_a_companys_size_reads_as_a_number_of_people(
    client: FlaskClient, db_session: Session, fair
) -> None:
    fair.supplier.organization.employees = 3600
    db_session.commit()
    url = f"/p/{fair.buyer.access_token}/directory/{fair.supplier.id}"
    assert "<dd>3,600 employees</dd>" in client.get(url).get_data(as_text=True)
    client.post("/language", data={"lang": "ja"})
    assert "<dd>3,600名</dd>" in client.get(url).get_data(as_text=True)
