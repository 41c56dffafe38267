"""Log in and out (organizers and staff); role checks for views."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField
from wtforms.validators import DataRequired, Email

from scheduler.models import Role
from scheduler.users import authenticate, normalize_email
from web.database import get_session
from web.form_fields import typed_email
from web.i18n import safe_next
from web.participant_access import check_rate

bp = Blueprint("auth", __name__, url_prefix="/auth")


class LoginForm(FlaskForm):
    # A pasted address often carries a space or a line break at either end.
    email = EmailField(
        lazy_gettext("E-mail"),
        validators=[DataRequired(), Email()],
        filters=[typed_email],
    )
    password = PasswordField(lazy_gettext("Password"), validators=[DataRequired()])
    remember = BooleanField(lazy_gettext("Keep me logged in on this device"))


@bp.route("/login", methods=["GET", "POST"])
def login():  # type: ignore[no-untyped-def]
    form = LoginForm()
    if form.validate_on_submit():
        email = normalize_email(form.email.data or "")
        # Guessing passwords: after LOGIN_FAILURE_LIMIT wrong tries from one address for
        # one account, that account's form refuses from there for a while (429).
        check_rate("login-failure", "LOGIN_FAILURE_LIMIT", count=False, key=email)
        user = authenticate(get_session(), email, form.password.data or "")
        if user is None:
            check_rate("login-failure", "LOGIN_FAILURE_LIMIT", key=email)
            form.password.errors.append(_("The e-mail or the password is not right."))
        else:
            # Whoever was logged in here before (and their "keep me logged in" cookie)
            # is logged out first: the session's user and the cookie's never differ.
            logout_user()
            login_user(user, remember=bool(form.remember.data))
            return redirect(safe_next(request.args.get("next")) or url_for("main.index"))
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
@login_required
def logout():  # type: ignore[no-untyped-def]
    logout_user()
    flash(_("You have logged out."), "info")
    return redirect(url_for("auth.login"))


def roles_required(*roles: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Only logged-in accounts with one of ``roles`` may open the view (others get 403)."""

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        @login_required
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


organizer_required = roles_required(Role.ORGANIZER)
staff_required = roles_required(Role.ORGANIZER, Role.STAFF)
