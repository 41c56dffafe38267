"""Company profiles and buyers' needs: the service rules and the participant's pages."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler import profiles
from scheduler.errors import DeadlinePassed, NotFound, PermissionDenied, ValidationFailed
from scheduler.models import AuditEntry, Need, Phase, User
from tests.participant_fair import make_fair, read_in_english


@pytest.fixture(autouse=True)
def _english(client: FlaskClient) -> None:
    read_in_english(client)


@pytest.fixture
def fair(db_session: Session):
    fair = make_fair(db_session)
    db_session.commit()
    return fair


# --------------------------------------------------------------------------- service


def test_update_profile_stores_codes_tags_and_confirms(db_session: Session, fair) -> None:
    supplier = fair.supplier
    profiles.update_profile(
        db_session,
        supplier,
        profiles.ProfileData(
            technologies=["machining.turning", "machining.5axis", "machining.turning"],
            tags=profiles.split_tags("アルミ、試作, 短納期；アルミ、５軸、5軸、ﾀﾞｲｶｽﾄ"),
            certifications=["iso9001", "ＩＳＯ２２０００"],
            lot_sizes=["mass"],
            strengths="段取り替えが速い",
        ),
    )
    organization = supplier.organization
    assert organization.technologies == ["machining.turning", "machining.5axis"]
    # Widths folded as search folds them: full-width digits, half-width kana.
    assert organization.tags == ["アルミ", "試作", "短納期", "5軸", "ダイカスト"]
    assert organization.certifications == ["iso9001", "ＩＳＯ２２０００"]
    assert organization.lot_sizes == ["mass"]
    assert supplier.profile_confirmed_at is not None
    entry = db_session.scalars(
        select(AuditEntry).where(AuditEntry.action == "profile.update")
    ).one()
    assert "strengths" in entry.details["changed"]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (profiles.ProfileData(name="  "), "name"),
        (profiles.ProfileData(technologies=["machining"]), "technologies"),
        (profiles.ProfileData(prefecture="静岡"), "prefecture"),
        (profiles.ProfileData(website="javascript:alert(1)"), "website"),
        (profiles.ProfileData(lot_sizes=["huge"]), "lot_sizes"),
        (profiles.ProfileData(description="長" * 5001), "description"),
        (profiles.ProfileData(name="山田板金（有）"), "name"),  # another company's name
    ],
)
def test_update_profile_rejects_bad_input(
    db_session: Session, fair, data: profiles.ProfileData, field: str
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        profiles.update_profile(db_session, fair.supplier, data)
    assert caught.value.field == field


def test_a_name_twin_in_another_legal_form_is_another_company(
    db_session: Session, fair
) -> None:
    """山田板金有限会社 is in the directory: 山田板金株式会社 is a different company, and
    the organizer may give that name to this one; 山田板金（有） or 山田板金 is the same."""
    organizer = User(email="org@example.jp", name="主催", password_hash="x", role="organizer")
    db_session.add(organizer)
    db_session.flush()
    for taken in ("山田板金", "㈲山田板金"):
        with pytest.raises(ValidationFailed):
            profiles.update_profile(db_session, fair.supplier, profiles.ProfileData(name=taken),
                                    user_id=organizer.id)
    organization = profiles.update_profile(
        db_session, fair.supplier, profiles.ProfileData(name="山田板金株式会社"),
        user_id=organizer.id)
    assert organization.name == "山田板金株式会社"


def test_a_keyword_too_long_is_named(db_session: Session, fair) -> None:
    long_one = "超精密" * 30
    data = profiles.ProfileData(name="テスト精工", tags=["アルミ", long_one, "試作"])
    with pytest.raises(ValidationFailed) as caught:
        profiles.update_profile(db_session, fair.supplier, data)
    assert caught.value.field == "tags"
    # The field holds many keywords: the message says the limit is per keyword, and which.
    assert f"at most {profiles.MAX_TAG_LENGTH} characters" in caught.value.message
    assert long_one[:20] in caught.value.message and "アルミ" not in caught.value.message


@pytest.mark.parametrize("phase", [Phase.SCHEDULING, Phase.PUBLISHED, Phase.CLOSED])
def test_profile_is_locked_after_the_preferences_phase(
    db_session: Session, fair, organizer: User, phase: str
) -> None:
    fair.event.phase = phase
    with pytest.raises(DeadlinePassed):
        profiles.update_profile(db_session, fair.supplier, profiles.ProfileData(city="静岡市"))
    with pytest.raises(DeadlinePassed):
        profiles.confirm_profile(db_session, fair.supplier)
    with pytest.raises(DeadlinePassed):
        profiles.add_need(db_session, fair.buyer, profiles.NeedData(title="x"))
    # The organizer may still correct a profile on someone's behalf (audited with the user).
    profiles.update_profile(
        db_session, fair.supplier, profiles.ProfileData(city="静岡市"), user_id=organizer.id
    )
    assert fair.supplier.organization.city == "静岡市"


def test_needs_crud_only_on_own_needs(db_session: Session, fair) -> None:
    need = profiles.add_need(
        db_session, fair.buyer,
        profiles.NeedData(title="樹脂ケース", technologies=["plastics_rubber.injection"],
                          lot_size="mass", published=False),
    )
    assert need.participant_id == fair.buyer.id and need.published is False
    profiles.update_need(db_session, fair.buyer, need.id, profiles.NeedData(title="樹脂カバー"))
    assert need.title == "樹脂カバー"
    with pytest.raises(NotFound):
        profiles.update_need(db_session, fair.other_buyer, need.id, profiles.NeedData(title="x"))
    with pytest.raises(NotFound):
        profiles.delete_need(db_session, fair.other_buyer, need.id)
    with pytest.raises(PermissionDenied):
        profiles.add_need(db_session, fair.supplier, profiles.NeedData(title="x"))
    with pytest.raises(ValidationFailed) as caught:
        profiles.add_need(db_session, fair.buyer, profiles.NeedData(title=""))
    assert caught.value.field == "title"
    profiles.delete_need(db_session, fair.buyer, need.id)
    assert db_session.get(Need, need.id) is None


# --------------------------------------------------------------------------- pages


def test_supplier_saves_profile_with_technology_codes(
    client: FlaskClient, db_session: Session, fair
) -> None:
    url = f"/p/{fair.supplier.access_token}/profile"
    page = client.get(url).get_data(as_text=True)
    assert "5-axis machining" in page and 'value="machining.5axis" checked' in page
    response = client.post(url, data={
        "name": "ＡＢＣ精工株式会社", "prefecture": "静岡県", "employees": "１２０",
        "technologies": ["machining.turning", "joining.tig"], "tags": "アルミ、チタン",
        "certifications": ["iso9001"], "certifications_other": "エコステージ",
        "lot_sizes": ["prototype"], "strengths": "<script>alert(1)</script>",
    })
    assert response.status_code == 302
    db_session.expire_all()
    organization = fair.supplier.organization
    assert organization.technologies == ["machining.turning", "joining.tig"]
    assert organization.employees == 120
    assert organization.tags == ["アルミ", "チタン"]
    assert organization.certifications == ["iso9001", "エコステージ"]
    page = client.get(url).get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page


def test_other_certifications_keep_japanese_brackets_and_fold_letters_and_digits(
    client: FlaskClient, db_session: Session, fair
) -> None:
    """QA: 「ＩＳＯ１４００１（取得予定）」 came back as 「ISO14001(取得予定)」, half-width
    brackets in Japanese text; letters and digits are still folded, and the same
    certification typed twice in other widths is kept once."""
    url = f"/p/{fair.supplier.access_token}/profile"
    response = client.post(url, data={
        "name": "ＡＢＣ精工株式会社", "prefecture": "静岡県",
        "technologies": ["machining.turning"],
        "certifications_other": "ＩＳＯ１４００１（取得予定）、ISO14001(取得予定)、ｴｺｽﾃｰｼﾞ",
    })
    assert response.status_code == 302
    db_session.expire_all()
    assert fair.supplier.organization.certifications == ["ISO14001（取得予定）", "エコステージ"]
    page = client.get(url).get_data(as_text=True)
    assert 'value="ISO14001（取得予定）, エコステージ"' in page  # read in English


def test_keywords_come_back_joined_as_the_reader_writes_lists(
    client: FlaskClient, db_session: Session, fair
) -> None:
    """QA: "aerospace, automotive, 短納期" came back in the English form as
    "aerospace、automotive、短納期"; in Japanese the form joins them with 、."""
    url = f"/p/{fair.supplier.access_token}/profile"
    response = client.post(url, data={
        "name": "ＡＢＣ精工株式会社", "prefecture": "静岡県",
        "technologies": ["machining.turning"], "tags": "aerospace, automotive, 短納期",
        "certifications_other": "Nadcap、エコステージ",
    })
    assert response.status_code == 302
    db_session.expire_all()
    assert fair.supplier.organization.tags == ["aerospace", "automotive", "短納期"]
    page = client.get(url).get_data(as_text=True)
    assert 'value="aerospace, automotive, 短納期"' in page
    assert 'value="Nadcap, エコステージ"' in page
    client.post("/language", data={"lang": "ja"})
    page = client.get(url).get_data(as_text=True)
    assert 'value="aerospace、automotive、短納期"' in page
    assert 'value="Nadcap、エコステージ"' in page
    # Saved again as shown, nothing changes.
    client.post(url, data={
        "name": "ＡＢＣ精工株式会社", "prefecture": "静岡県",
        "technologies": ["machining.turning"], "tags": "aerospace、automotive、短納期",
    })
    db_session.expire_all()
    assert fair.supplier.organization.tags == ["aerospace", "automotive", "短納期"]


def test_profile_form_keeps_typed_values_on_error(client: FlaskClient, fair) -> None:
    response = client.post(f"/p/{fair.supplier.access_token}/profile", data={
        "name": "", "city": "浜松市中央区😀", "technologies": ["machining.edm"],
        "website": "not a url",
    })
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "浜松市中央区😀" in page
    assert 'value="machining.edm" checked' in page
    assert "has-error" in page


def test_every_profile_error_shows_on_the_first_submit(client: FlaskClient, fair) -> None:
    """The web address is checked with the other fields, not in a second round after
    they are fixed."""
    page = client.post(
        f"/p/{fair.supplier.access_token}/profile",
        data={"name": "", "employees": "-5", "website": "ftp:/bad url"},
        headers={"Accept-Language": "en"},
    ).get_data(as_text=True)
    assert page.count('class="field-error"') >= 3 or page.count("has-error") >= 3
    assert "Please enter a web address starting with http:// or https://." in page
    assert 'value="ftp:/bad url"' in page


def test_profile_page_is_read_only_after_the_phase(
    client: FlaskClient, db_session: Session, fair
) -> None:
    fair.event.phase = Phase.SCHEDULING
    db_session.commit()
    url = f"/p/{fair.supplier.access_token}/profile"
    page = client.get(url).get_data(as_text=True)
    assert "can no longer be changed" in page and "<fieldset disabled>" in page
    response = client.post(url, data={"name": "別名"})
    assert response.status_code == 403
    db_session.expire_all()
    assert fair.supplier.organization.name == "ＡＢＣ精工株式会社"


def test_buyer_manages_needs_through_pages(client: FlaskClient, db_session: Session, fair) -> None:
    base = f"/p/{fair.buyer.access_token}"
    page = client.get(f"{base}/profile").get_data(as_text=True)
    assert "アルミ筐体の試作" in page and "What we buy" in page
    response = client.post(f"{base}/needs/new", data={
        "title": "ハーネス加工", "technologies": ["electronics.harness"], "lot_size": "mass",
        "published": "y",
    })
    assert response.status_code == 302
    need = db_session.scalars(select(Need).where(Need.title == "ハーネス加工")).one()
    assert need.technologies == ["electronics.harness"]
    client.post(f"{base}/needs/{need.id}/edit", data={"title": "ハーネス組立"})
    db_session.expire_all()
    assert need.title == "ハーネス組立" and need.published is False
    # Another buyer cannot reach this need, and a supplier has no need pages at all.
    other = f"/p/{fair.other_buyer.access_token}"
    assert client.get(f"{other}/needs/{need.id}/edit").status_code == 404
    assert client.post(f"{other}/needs/{need.id}/delete").status_code == 404
    assert client.get(f"/p/{fair.supplier.access_token}/needs/new").status_code == 404
    assert client.post(f"{base}/needs/{need.id}/delete").status_code == 302
    assert db_session.scalar(select(Need).where(Need.id == need.id)) is None


def test_home_asks_to_confirm_the_profile_and_confirming_sets_the_date(
    client: FlaskClient, db_session: Session, fair
) -> None:
    base = f"/p/{fair.supplier.access_token}"
    assert "The profile is up to date" in client.get(f"{base}/").get_data(as_text=True)
    assert client.post(f"{base}/profile/confirm").status_code == 302
    db_session.expire_all()
    assert fair.supplier.profile_confirmed_at is not None
    assert "The profile is up to date" not in client.get(f"{base}/").get_data(as_text=True)


def test_home_asks_a_buyer_without_needs_for_them(client: FlaskClient, fair) -> None:
    """Suppliers search and are suggested buyers by their needs."""
    without = client.get(f"/p/{fair.other_buyer.access_token}/").get_data(as_text=True)
    assert 'data-test="add-needs"' in without
    with_needs = client.get(f"/p/{fair.buyer.access_token}/").get_data(as_text=True)
    assert 'data-test="add-needs"' not in with_needs


def test_organizer_edits_a_profile_on_its_behalf_after_the_lock(
    client: FlaskClient, db_session: Session, logged_in: User, fair
) -> None:
    fair.event.phase = Phase.SCHEDULING
    db_session.commit()
    url = f"/events/{fair.event.id}/participants/{fair.supplier.id}/profile"
    assert 'value="machining.5axis" checked' in client.get(url).get_data(as_text=True)
    response = client.post(url, data={"name": "ＡＢＣ精工株式会社", "city": "磐田市",
                                      "prefecture": "", "technologies": ["machining.5axis"]})
    assert response.status_code == 302
    db_session.expire_all()
    assert fair.supplier.organization.city == "磐田市"
    entry = db_session.scalars(
        select(AuditEntry).where(AuditEntry.action == "profile.update")
    ).one()
    assert entry.user_id == logged_in.id and entry.participant_id == fair.supplier.id


def test_staff_cannot_edit_profiles(client: FlaskClient, auth, staff, fair) -> None:
    auth.login(email="staff@example.jp")
    url = f"/events/{fair.event.id}/participants/{fair.supplier.id}/profile"
    assert client.get(url).status_code == 403


def test_the_profile_says_whom_to_ask_to_change_the_contact(
    client: FlaskClient, db_session: Session, fair
) -> None:
    """The contact person and e-mail are not on the form: the page names them and says
    that the organizer changes them."""
    url = f"/p/{fair.supplier.access_token}/profile"
    page = client.get(url).get_data(as_text=True)
    note = page.split('data-test="contact-note"', 1)[1].split("</p>", 1)[0]
    assert "ＡＢＣ精工株式会社 担当" in note and "abc@example.jp" in note
    assert "please ask the organizer: fair@example.jp" in note
    assert 'name="email"' not in page  # not changeable here, hence the note
    fair.event.contact_email = ""
    db_session.commit()
    note = client.get(url).get_data(as_text=True).split('data-test="contact-note"', 1)[1]
    assert "please ask the organizer." in note.split("</p>", 1)[0]


def test_a_website_typed_without_https_is_saved_as_an_address(
    client: FlaskClient, db_session: Session, fair
) -> None:
    response = client.post(f"/p/{fair.supplier.access_token}/profile", data={
        "name": "ＡＢＣ精工株式会社", "prefecture": "静岡県",
        "website": "ｗｗｗ．abc-seiko.example.jp",
    })
    assert response.status_code == 302, response.get_data(as_text=True)
    db_session.expire_all()
    assert fair.supplier.organization.website == "https://www.abc-seiko.example.jp"


def test_a_stale_profile_change_after_the_phase_is_refused_once(
    client: FlaskClient, db_session: Session, fair
) -> None:
    url = f"/p/{fair.supplier.access_token}/profile"
    fair.event.phase = Phase.SCHEDULING
    db_session.commit()
    page = client.post(url, data={"name": "別名"}, headers={"Referer": f"http://localhost{url}"},
                       follow_redirects=True).get_data(as_text=True)
    assert page.count("Profiles can no longer be changed") == 1
    assert 'class="flash flash-error"' in page
    db_session.expire_all()
    assert fair.supplier.organization.name == "ＡＢＣ精工株式会社"
