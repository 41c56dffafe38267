"""Accounts on the site: everyone's "My account", and the organizers' "Accounts".

My account: one's name and language, and a new password (the current one required).
Accounts (organizers only): the list, adding an organizer or staff account, changing
its details and role, a new password for someone who forgot theirs, deactivating and
reactivating. A generated password is shown once, in the answer to the form that made
it: it is not stored in clear, not put in the session cookie, not logged.
"""

from __future__ import annotations

import secrets
from typing import Any

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from flask_login import current_user, login_required, login_user
from flask_wtf import FlaskForm
from wtforms import (
    EmailField,
    HiddenField,
    PasswordField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    ValidationError,
)
from wtforms.validators import DataRequired, Email, Length

from scheduler import users
from scheduler.errors import DomainError
from scheduler.models import Role, User
from web.auth import organizer_required
from web.database import get_session
from web.form_fields import typed_email
from web.i18n import safe_next, translate_error
from web.participant_access import check_rate

bp = Blueprint("accounts", __name__)

ROLE_LABELS = {
    Role.ORGANIZER: lazy_gettext("Organizer"),
    Role.STAFF: lazy_gettext("Staff"),
}
# Each language is named in itself, as on the language switch.
LANGUAGE_NAMES = {"ja": "日本語", "en": "English"}
ACTION_LABELS = {
    "account.create": lazy_gettext("Account added"),
    "account.update": lazy_gettext("Details changed"),
    "account.deactivate": lazy_gettext("Deactivated"),
    "account.reactivate": lazy_gettext("Reactivated with a new password"),
    "account.password_reset": lazy_gettext("Password reset by an organizer"),
    "account.password_change": lazy_gettext("Password changed by its owner"),
    "account.profile": lazy_gettext("Name or language changed by its owner"),
}
FIELD_LABELS = {
    "email": lazy_gettext("E-mail"),
    "name": lazy_gettext("Full name"),
    "role": lazy_gettext("Role"),
    "locale": lazy_gettext("Language"),
}


def _language_choices() -> list[SelectChoice]:
    return [
        SelectChoice(code, LANGUAGE_NAMES.get(code, code))
        for code in current_app.config["LANGUAGES"]
    ]


def _role_choices() -> list[SelectChoice]:
    # Staff first: most accounts an organizer adds are the day's volunteers.
    return [
        SelectChoice(Role.STAFF.value, ROLE_LABELS[Role.STAFF]),
        SelectChoice(Role.ORGANIZER.value, ROLE_LABELS[Role.ORGANIZER]),
    ]


def _password_length(form: FlaskForm, field: PasswordField) -> None:
    if field.data and len(field.data) < users.MIN_PASSWORD_LENGTH:
        raise ValidationError(
            _("The password must have at least %(min)s characters.", min=users.MIN_PASSWORD_LENGTH)
        )


# --------------------------------------------------------------------------- forms


class ProfileForm(FlaskForm):
    name = StringField(lazy_gettext("Full name"), validators=[DataRequired(), Length(max=200)])
    locale = SelectField(lazy_gettext("Language"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, prefix="profile", **kwargs)
        self.locale.choices = _language_choices()


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField(lazy_gettext("Current password"), validators=[DataRequired()])
    new_password = PasswordField(
        lazy_gettext("New password"), validators=[DataRequired(), _password_length]
    )
    confirm_password = PasswordField(
        lazy_gettext("New password again"), validators=[DataRequired()]
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, prefix="password", **kwargs)

    def validate_confirm_password(self, field: PasswordField) -> None:
        if self.new_password.data and field.data != self.new_password.data:
            raise ValidationError(_("The two new passwords are not the same."))


class AccountForm(FlaskForm):
    """An account's details as an organizer edits them."""

    name = StringField(lazy_gettext("Full name"), validators=[DataRequired(), Length(max=200)])
    email = EmailField(
        lazy_gettext("E-mail"),
        validators=[DataRequired(), Email(), Length(max=254)],
        filters=[typed_email],
    )
    role = SelectField(lazy_gettext("Role"))
    locale = SelectField(lazy_gettext("Language"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.role.choices = _role_choices()
        self.locale.choices = _language_choices()

    def details(self) -> users.AccountDetails:
        return users.AccountDetails(
            email=self.email.data or "",
            name=self.name.data or "",
            role=self.role.data or "",
            locale=self.locale.data or "",
        )


class NewAccountForm(AccountForm):
    password_choice = RadioField(
        lazy_gettext("Password"),
        choices=[
            SelectChoice("generate", lazy_gettext("Generate one (shown once on the next page)")),
            SelectChoice("typed", lazy_gettext("Type one")),
        ],
        default="generate",
    )
    # A new random value each time the empty form is opened, recorded with the account
    # it adds: the same value again is this form sent again (a reload of the page that
    # showed the password), not a second try with an e-mail already taken.
    attempt = HiddenField()
    # No Optional(): it would end the checks below, which need the password choice.
    password = PasswordField(lazy_gettext("Password"), validators=[_password_length])
    confirm_password = PasswordField(lazy_gettext("Password again"))

    def validate_password(self, field: PasswordField) -> None:
        if self.password_choice.data == "typed" and not field.data:
            raise ValidationError(_("Type the password, or choose to have one generated."))

    def validate_confirm_password(self, field: PasswordField) -> None:
        if self.password_choice.data == "typed" and field.data != self.password.data:
            raise ValidationError(_("The two passwords are not the same."))

    def new_account(self) -> users.NewAccount:
        details = self.details()
        return users.NewAccount(
            email=details.email,
            name=details.name,
            role=details.role,
            locale=details.locale,
            password=self.password.data if self.password_choice.data == "typed" else None,
            attempt=(self.attempt.data or "")[:64],
        )


def _field_error(
    form: FlaskForm, error: DomainError, aliases: dict[str, str] | None = None
) -> None:
    """Show a service's error next to the field it names (or above the form)."""
    message = translate_error(error)
    name = (aliases or {}).get(error.field or "", error.field)
    target = getattr(form, name, None) if name else None
    if target is not None and hasattr(target, "errors"):
        target.errors = [*target.errors, message]
    else:
        form.form_errors.append(message)


def _shown_once(account: User, password: str, reason: str) -> Response:
    """The page that shows a generated password, the one time it is ever shown."""
    response = make_response(
        render_template(
            "accounts/password.html",
            account=account,
            password=password,
            reason=reason,
            login_url=url_for("auth.login", _external=True),
            role_labels=ROLE_LABELS,
        )
    )
    # Not kept by the browser or a proxy: Back or a shared computer must not show it again.
    response.headers["Cache-Control"] = "no-store"
    return response


# --------------------------------------------------------------------------- my account


def _me() -> User:
    """The logged-in user itself, not Flask-Login's proxy (services and the audit log
    record the object's type and id)."""
    return current_user._get_current_object()  # type: ignore[no-any-return]


def _render_mine(profile_form: ProfileForm, password_form: PasswordChangeForm) -> str:
    return render_template(
        "accounts/mine.html",
        profile_form=profile_form,
        password_form=password_form,
        role_labels=ROLE_LABELS,
        min_length=users.MIN_PASSWORD_LENGTH,
    )


@bp.route("/account", methods=["GET", "POST"])
@login_required
def mine():  # type: ignore[no-untyped-def]
    form = ProfileForm(obj=current_user)
    if form.validate_on_submit():
        db = get_session()
        try:
            users.update_profile(
                db, _me(), name=form.name.data or "", locale=form.locale.data or ""
            )
        except DomainError as error:
            db.rollback()
            _field_error(form, error)
        else:
            db.commit()
            # The new language from this page on (the session keeps the one it began with).
            session["lang"] = current_user.locale
            flash(_("Your details were saved."), "success")
            return redirect(url_for("accounts.mine"))
    return _render_mine(form, PasswordChangeForm(formdata=None))


@bp.post("/account/password")
@login_required
def change_password():  # type: ignore[no-untyped-def]
    form = PasswordChangeForm()
    if form.validate_on_submit():
        db = get_session()
        # Trying current passwords here is guessing a password as on the login form,
        # and counts against the same limit for the account.
        email = current_user.email
        check_rate("login-failure", "LOGIN_FAILURE_LIMIT", count=False, key=email)
        try:
            users.change_own_password(
                db,
                _me(),
                current_password=form.current_password.data or "",
                new_password=form.new_password.data or "",
            )
        except DomainError as error:
            db.rollback()
            if error.field == "current_password":
                check_rate("login-failure", "LOGIN_FAILURE_LIMIT", key=email)
            _field_error(form, error)
        else:
            db.commit()
            # The new password ended every session of the account, this one too: log this
            # one in again with the new id (and renew "keep me logged in" if it was on).
            remember_cookie = current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token")
            login_user(_me(), remember=remember_cookie in request.cookies)
            flash(
                _(
                    "Your password was changed. You stay logged in here; on other devices "
                    "the account was logged out."
                ),
                "success",
            )
            return redirect(url_for("accounts.mine"))
    return _render_mine(ProfileForm(formdata=None, obj=current_user), form)


# --------------------------------------------------------------------------- accounts


@bp.get("/accounts/")
@organizer_required
def index():  # type: ignore[no-untyped-def]
    accounts = users.list_accounts(get_session())
    return render_template(
        "accounts/index.html",
        accounts=accounts,
        role_labels=ROLE_LABELS,
        language_names=LANGUAGE_NAMES,
    )


@bp.route("/accounts/new", methods=["GET", "POST"])
@organizer_required
def create():  # type: ignore[no-untyped-def]
    form = NewAccountForm()
    if request.method == "GET":
        form.locale.data = current_user.locale if current_user.locale in LANGUAGE_NAMES else "ja"
        form.attempt.data = secrets.token_urlsafe(12)
    if form.validate_on_submit():
        db = get_session()
        try:
            account, generated = users.add_account(db, form.new_account(), actor=_me())
        except DomainError as error:
            db.rollback()
            again = users.added_by_this_form(db, form.email.data or "", form.attempt.data or "")
            if again is not None:
                # The same form sent again (a reload of the page that showed the
                # password): the account exists, the password is not shown twice.
                flash(
                    _(
                        "You added the account of %(email)s a moment ago; its password "
                        "was shown once then. If it was not noted down, give it a new "
                        "one with “Reset password”.",
                        email=again.email,
                    ),
                    "info",
                )
                return redirect(url_for("accounts.show", user_id=again.id))
            _field_error(form, error)
        else:
            db.commit()
            if generated is not None:
                return _shown_once(account, generated, "created")
            flash(
                _(
                    "The account of %(name)s was added with the password you typed.",
                    name=account.name,
                ),
                "success",
            )
            return redirect(url_for("accounts.index"))
    return render_template("accounts/new.html", form=form, min_length=users.MIN_PASSWORD_LENGTH)


def _load(user_id: int) -> User:
    return users.get_account(get_session(), user_id)


def _render_show(account: User, form: AccountForm) -> str:
    db = get_session()
    return render_template(
        "accounts/show.html",
        account=account,
        form=form,
        history=users.account_history(db, account),
        password_version=users.password_version(account),
        role_labels=ROLE_LABELS,
        language_names=LANGUAGE_NAMES,
        action_labels=ACTION_LABELS,
        field_labels=FIELD_LABELS,
    )


@bp.route("/accounts/<int:user_id>", methods=["GET", "POST"])
@organizer_required
def show(user_id: int):  # type: ignore[no-untyped-def]
    account = _load(user_id)
    form = AccountForm(obj=account)
    if account.id == current_user.id:
        # One's own role is not for oneself to change (another organizer can).
        form.role.render_kw = {"disabled": True}
        if request.method == "POST":
            form.role.data = account.role
    if form.validate_on_submit():
        db = get_session()
        try:
            changes = users.update_account(db, account, form.details(), actor=_me())
        except DomainError as error:
            db.rollback()
            _field_error(form, error)
        else:
            db.commit()
            if changes:
                flash(_("The account of %(name)s was saved.", name=account.name), "success")
            else:
                flash(_("Nothing was changed."), "info")
            return redirect(url_for("accounts.show", user_id=account.id))
    return _render_show(account, form)


def _back(account: User) -> Any:
    return redirect(
        safe_next(request.form.get("next")) or url_for("accounts.show", user_id=account.id)
    )


@bp.post("/accounts/<int:user_id>/deactivate")
@organizer_required
def deactivate(user_id: int):  # type: ignore[no-untyped-def]
    account = _load(user_id)
    db = get_session()
    # Refusals (oneself, the last organizer) go through web.errors: rolled back, flashed.
    if users.deactivate_account(db, account, actor=_me()):
        db.commit()
        flash(
            _(
                "The account of %(name)s was deactivated: it can no longer log in, and "
                "where it was logged in it is logged out.",
                name=account.name,
            ),
            "success",
        )
    else:
        flash(_("The account of %(name)s was already deactivated.", name=account.name), "info")
    return _back(account)


@bp.post("/accounts/<int:user_id>/reactivate")
@organizer_required
def reactivate(user_id: int):  # type: ignore[no-untyped-def]
    account = _load(user_id)
    db = get_session()
    # The page's form always sends the version: a request without one is not that form.
    password = users.reactivate_account(
        db, account, actor=_me(), seen_version=request.form.get("version", "")
    )
    if password is None:
        flash(_("The account of %(name)s is already active.", name=account.name), "info")
        return _back(account)
    db.commit()
    return _shown_once(account, password, "reactivated")


@bp.post("/accounts/<int:user_id>/reset-password")
@organizer_required
def reset_password(user_id: int):  # type: ignore[no-untyped-def]
    account = _load(user_id)
    db = get_session()
    password = users.reset_password(
        db, account, actor=_me(), seen_version=request.form.get("version", "")
    )
    db.commit()
    return _shown_once(account, password, "reset")
