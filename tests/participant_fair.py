"""A tiny hand-made fair for the participant-facing tests: named companies whose
profiles the tests search and compare, each with a contact person."""

from __future__ import annotations

from dataclasses import dataclass

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from scheduler.models import (
    Attendance,
    Event,
    Need,
    Organization,
    Participant,
    ParticipantRole,
    Person,
    Phase,
)
from scheduler.names import company_name_key


@dataclass
class Fair:
    event: Event
    buyer: Participant
    other_buyer: Participant
    supplier: Participant
    other_supplier: Participant
    need: Need


def add_company(
    session: Session,
    event: Event,
    name: str,
    role: str,
    *,
    email: str,
    code: str = "",
    **profile: object,
) -> Participant:
    """A company in the directory, registered in ``event`` with a contact person."""
    organization = Organization(name=name, name_key=company_name_key(name), **profile)
    person = Person(organization=organization, name=f"{name} 担当", email=email, phone="03-0000")
    participant = Participant(event=event, organization=organization, role=role, code=code)
    session.add_all([organization, person, participant])
    session.add(Attendance(participant=participant, person=person, is_contact=True))
    session.flush()
    return participant


def make_fair(session: Session, *, phase: str = Phase.REGISTRATION, slug: str = "fair") -> Fair:
    """Two buyers and two suppliers in one event; the first buyer has one need."""
    event = Event(name="テスト商談会", slug=slug, phase=phase, contact_email="fair@example.jp")
    session.add(event)
    session.flush()
    buyer = add_company(
        session, event, "発注重工株式会社", ParticipantRole.BUYER, email="buyer@example.jp",
        code="B001", prefecture="愛知県", what_we_buy="アルミ切削部品",
    )
    other_buyer = add_company(
        session, event, "ビー電機株式会社", ParticipantRole.BUYER, email="b2@example.jp",
        code="B002", prefecture="東京都",
    )
    supplier = add_company(
        session, event, "ＡＢＣ精工株式会社", ParticipantRole.SUPPLIER, email="abc@example.jp",
        code="S001", name_kana="ｴｰﾋﾞｰｼｰｾｲｺｳ", prefecture="静岡県", city="浜松市",
        description="アルミの切削加工と試作が得意です。", technologies=["machining.5axis"],
        certifications=["iso9001"], lot_sizes=["prototype", "small_lot"],
    )
    other_supplier = add_company(
        session, event, "山田板金有限会社", ParticipantRole.SUPPLIER, email="yamada@example.jp",
        code="S002", name_kana="ヤマダバンキン", prefecture="岐阜県",
        description="薄板の曲げとレーザー切断。", technologies=["sheet_metal.bending"],
        certifications=["iso14001"], lot_sizes=["mass"],
    )
    need = Need(participant=buyer, title="アルミ筐体の試作", technologies=["machining.5axis"],
                material="A5052", lot_size="prototype", description="秘密ではない説明")
    session.add(need)
    session.flush()
    return Fair(event, buyer, other_buyer, supplier, other_supplier, need)


def read_in_english(client: FlaskClient) -> None:
    """Choose English with the language switch, so tests can read the pages' messages."""
    response = client.post("/language", data={"lang": "en", "next": "/"})
    assert response.status_code == 302
