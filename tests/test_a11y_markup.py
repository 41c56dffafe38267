"""Accessibility markup (QA a11y): what a screen reader is told about fields, hints and
errors, the skip link, and which field gets the cursor first."""

from __future__ import annotations

import re

from flask import Flask, get_template_attribute
from flask.testing import FlaskClient
from flask_wtf import FlaskForm
from sqlalchemy.orm import Session
from wtforms import BooleanField, SelectChoice, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, InputRequired

from scheduler.models import Event, User
from tests.conftest import AuthActions
from tests.published_fair import published_fair


def _tag(page: str, attr: str, value: str) -> str:
    """The one opening tag on the page with attr="value"."""
    found = re.findall(rf'<[a-z]+\b[^>]*\b{attr}="{re.escape(value)}"[^>]*>', page)
    assert len(found) == 1, found
    return found[0]


class _Sample(FlaskForm):
    class Meta:
        csrf = False

    agree = BooleanField("Agree", validators=[InputRequired("Tick it.")], description="Why.")
    plain = BooleanField("Plain", description="A plain hint.")
    size = SelectField(
        "Size",
        choices=[SelectChoice("", "-"), SelectChoice("s", "S")],
        validators=[DataRequired("Pick.")],
    )
    name = StringField("Name", description="As on the card.")
    bare = StringField("Bare")
    technologies = SelectMultipleField("Technologies", choices=[SelectChoice("a", "A")])


def _render_sample(app: Flask) -> str:
    with app.test_request_context("/", method="POST", data={"name": "x", "technologies": "zz"}):
        form = _Sample()
        assert not form.validate()
        field = get_template_attribute("_forms.html", "field")
        return "".join(
            str(field(getattr(form, n))) for n in ("agree", "plain", "size", "name", "bare")
        )


def test_every_errored_control_is_invalid_and_names_its_error_and_hint(app: Flask) -> None:
    page = _render_sample(app)
    agree = _tag(page, "id", "agree")  # a BooleanField: the checkbox inside its label
    assert 'aria-invalid="true"' in agree and 'aria-describedby="agree-err agree-hint"' in agree
    assert 'id="agree-err"' in page and '<small class="hint" id="agree-hint">Why.</small>' in page
    plain = _tag(page, "id", "plain")
    assert 'aria-invalid="false"' in plain and 'aria-describedby="plain-hint"' in plain
    size = _tag(page, "id", "size")  # a select
    assert 'aria-invalid="true"' in size and 'aria-describedby="size-err"' in size
    name = _tag(page, "id", "name")  # no error: the hint alone
    assert 'aria-invalid="false"' in name and 'aria-describedby="name-hint"' in name
    bare = _tag(page, "id", "bare")
    assert "aria-describedby" not in bare and 'id="bare-hint"' not in page


def test_a_flat_checkbox_list_with_an_error_is_an_invalid_group_naming_it(app: Flask) -> None:
    with app.test_request_context("/", method="POST", data={"technologies": "zz"}):
        form = _Sample()
        form.validate()
        page = str(get_template_attribute("portal/_choices.html", "checkboxes")(form.technologies))
    group = _tag(page, "class", "field has-error")
    assert group.startswith("<fieldset")
    assert 'aria-invalid="true"' in group and 'aria-describedby="technologies-err"' in group
    assert '<ul class="errors" id="technologies-err">' in page


def test_hints_of_the_shared_forms_are_linked(client: FlaskClient, logged_in: User) -> None:
    page = client.get("/events/new").get_data(as_text=True)
    slug = _tag(page, "id", "slug")
    assert 'aria-describedby="slug-hint"' in slug and 'id="slug-hint"' in page


def test_login_puts_the_cursor_on_email_only_on_a_fresh_form(
    client: FlaskClient, organizer: User, auth: AuthActions
) -> None:
    fresh = client.get("/auth/login").get_data(as_text=True)
    assert "autofocus" in _tag(fresh, "id", "email")
    wrong = auth.login(password="not the password").get_data(as_text=True)
    assert "autofocus" not in wrong  # the script puts it on the password, which is wrong
    password = _tag(wrong, "id", "password")
    assert 'aria-invalid="true"' in password and 'aria-describedby="password-err"' in password


def test_walk_in_form_with_errors_has_no_fixed_autofocus_and_a_named_picker(
    client: FlaskClient, db_session: Session, auth: AuthActions, staff: User
) -> None:
    fair: Event = published_fair(db_session)
    assert auth.login("staff@example.jp").status_code == 302
    url = f"/events/{fair.id}/day/walk-in"
    fresh = client.get(url).get_data(as_text=True)
    assert "autofocus" in _tag(fresh, "id", "company")
    assert '<fieldset class="field choice-groups"' in fresh
    assert re.search(
        r'<fieldset class="field choice-groups">\s*<legend class="field-label">', fresh
    )
    sent = client.post(
        url, data={"company": "", "role": "supplier", "contact_name": "x", "technologies": "nope"}
    ).get_data(as_text=True)
    assert "autofocus" not in sent
    group = _tag(sent, "class", "field choice-groups has-error")
    assert group.startswith("<fieldset")
    assert 'aria-invalid="true"' in group and 'aria-describedby="technologies-err"' in group
    assert '<ul class="errors" id="technologies-err">' in sent


def test_skip_link_main_target_script_and_the_brand_in_japanese(client: FlaskClient) -> None:
    client.post("/language", data={"lang": "en"})
    page = client.get("/auth/login").get_data(as_text=True)
    body = page.split("<body", 1)[1].split(">", 1)[1].lstrip()
    assert body.startswith('<a class="skip-link" href="#main">Skip to content</a>')
    assert '<main id="main" class="container" tabindex="-1">' in page
    assert 'src="/static/js/focus-errors.js"' in page
    assert '<html lang="en">' in page
    assert '<span class="brand-ja" lang="ja">商談会</span>' in page
