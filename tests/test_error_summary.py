"""The error summary above a form sent back with mistakes (GOV.UK's pattern): one link per
field at fault, "Label: message", to an element of the page, in the order of the page;
the form's own errors first, as text."""

from __future__ import annotations

import re

import pytest
from flask import Flask, get_template_attribute
from flask.testing import FlaskClient
from flask_wtf import FlaskForm
from sqlalchemy.orm import Session
from wtforms import HiddenField, RadioField, SelectChoice, StringField
from wtforms.validators import DataRequired, InputRequired

from scheduler import profiles
from tests.participant_fair import make_fair, read_in_english

SUMMARY = re.compile(r'<div class="form-errors error-summary"[^>]*>(.*?)</div>', re.S)
LINK = re.compile(r'<li><a href="#([^"]+)">(.*?)</a></li>', re.S)


@pytest.fixture
def fair(db_session: Session):
    fair = make_fair(db_session)
    db_session.commit()
    return fair


def _summary_links(page: str) -> list[tuple[str, str]]:
    """The summary's links as (target id, text), after checking that each target is one
    element of the page, below the summary, and that they follow the page's order."""
    found = SUMMARY.search(page)
    assert found is not None, "no error summary"
    links = LINK.findall(found[1])
    positions = []
    for target, _text in links:
        assert page.count(f'id="{target}"') == 1, target
        positions.append(page.index(f'id="{target}"'))
    assert all(p > found.end() for p in positions)
    assert positions == sorted(positions), "the summary is not in the order of the page"
    return links


PROFILE_ERRORS = {"name": "", "website": "not a web address", "strengths": "長" * 5001}
PROFILE_SUMMARY = {
    "ja": [
        ("name", "会社名：入力してください。"),
        ("website", "ウェブサイト：http:// または https:// で始まる URL を入力してください。"),
        ("strengths", "強み・他社との違い：5000 文字以内で入力してください。"),
    ],
    "en": [
        ("name", "Company name: This field is required."),
        ("website", "Website: Please enter a web address starting with http:// or https://."),
        ("strengths",
         "Strengths and differences from others: Field cannot be longer than 5000 characters."),
    ],
}


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_the_profile_lists_each_mistake_as_a_link_to_its_field(
    client: FlaskClient, fair, lang: str
) -> None:
    assert profiles.MAX_TEXT_LENGTH == 5000
    if lang == "en":
        read_in_english(client)
    response = client.post(
        f"/p/{fair.supplier.access_token}/profile",
        data={"prefecture": "静岡県", "city": "浜松市", **PROFILE_ERRORS},
    )
    page = response.get_data(as_text=True)
    assert _summary_links(page) == PROFILE_SUMMARY[lang]
    heading = {"ja": "強調表示された項目を修正してください。",
               "en": "Please correct the highlighted fields."}[lang]
    assert re.search(rf'<h2 class="error-summary-title" id="error-summary-title">{heading}</h2>',
                     page)
    assert 'data-entries="3"' in page  # more than one: the script focuses the summary
    # Everything else as before: the error at each field, named by it, the typed values.
    assert 'aria-describedby="strengths-err"' in page and 'id="website-err"' in page
    assert 'value="not a web address"' in page and "浜松市" in page


def test_a_wrong_checkbox_group_links_to_its_fieldset(client: FlaskClient, fair) -> None:
    read_in_english(client)
    page = client.post(
        f"/p/{fair.supplier.access_token}/profile",
        data={"name": "ＡＢＣ精工株式会社", "prefecture": "静岡県", "website": "x y",
              "lot_sizes": ["huge"]},
    ).get_data(as_text=True)
    links = _summary_links(page)
    assert [target for target, _text in links] == ["website", "lot_sizes"]
    assert links[1][1].startswith("Lot sizes: ")
    fieldset = re.search(r'<fieldset [^>]*id="lot_sizes"[^>]*>', page)
    assert fieldset is not None and 'aria-invalid="true"' in fieldset[0]


REGISTRATION = {
    "company": "株式会社　新星ファクトリー", "role": "supplier", "prefecture": "静岡県",
    "contact_name": "新星 一郎", "email": "ichiro@shinsei.example.jp",
}
REGISTRATION_SUMMARY = {
    "ja": [
        ("role-0", "参加区分：いずれかを選んでください。"),
        ("company", "会社名：入力してください。"),
        ("email", "メールアドレス：メールアドレスの形式が正しくありません。"),
    ],
    "en": [
        ("role-0", "We take part as: Please choose one."),
        ("company", "Company name: This field is required."),
        ("email", "E-mail: Invalid email address."),
    ],
}


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_registration_lists_its_mistakes_in_the_order_of_the_page(
    client: FlaskClient, fair, lang: str
) -> None:
    """The role is asked first on the page (it is declared after the company's name)."""
    if lang == "en":
        read_in_english(client)
    data = {**REGISTRATION, "company": "", "email": "not an address"}
    del data["role"]
    page = client.post(f"/e/{fair.event.slug}/register", data=data).get_data(as_text=True)
    assert _summary_links(page) == REGISTRATION_SUMMARY[lang]
    assert 'id="role-0"' in page and 'aria-describedby="role-errors"' in page


def test_one_mistake_gives_a_summary_of_one(client: FlaskClient, fair) -> None:
    read_in_english(client)
    page = client.post(
        f"/e/{fair.event.slug}/register", data={**REGISTRATION, "email": "nope"}
    ).get_data(as_text=True)
    assert _summary_links(page) == [("email", "E-mail: Invalid email address.")]
    assert 'data-entries="1"' in page  # the script focuses the field itself


class _Sample(FlaskForm):
    class Meta:
        csrf = False

    token = HiddenField(validators=[DataRequired("The page expired.")])
    kind = RadioField("Kind", choices=[SelectChoice("a", "A")],
                      validators=[InputRequired("Choose.")])
    name = StringField("Name", validators=[DataRequired("Type it.")])


def test_the_form_s_own_and_hidden_errors_come_first_as_text(app: Flask) -> None:
    with app.test_request_context("/", method="POST", data={"name": ""}):
        form = _Sample()
        assert not form.validate()
        form.form_errors.append("Saved by someone else meanwhile.")
        summary = get_template_attribute("_forms.html", "error_summary")
        page = str(summary(form, labels={"name": "Name (first)"}, id="sample", level=3))
    items = re.findall(r"<li>(.*?)</li>", page, re.S)
    assert items == [
        "Saved by someone else meanwhile.",
        "The page expired.",
        '<a href="#kind-0">Kind：Choose.</a>',  # a page in Japanese: a full-width colon
        '<a href="#name">Name (first)：Type it.</a>',
    ]
    assert 'id="sample" role="alert" tabindex="-1" aria-labelledby="sample-title"' in page
    assert '<h3 class="error-summary-title" id="sample-title">' in page


def test_a_form_without_mistakes_has_no_summary(client: FlaskClient, fair) -> None:
    page = client.get(f"/p/{fair.supplier.access_token}/profile").get_data(as_text=True)
    assert "error-summary" not in page
