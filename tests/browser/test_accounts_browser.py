"""The evening before the fair an organizer gives a volunteer a staff account from the
site; the volunteer picks their own password; after the fair the account is taken away."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.models import AuditEntry, User
from tests.browser.conftest import SCREENSHOTS
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def _log_in(tab, live_server: str, email: str, password: str) -> None:  # type: ignore[no-untyped-def]
    tab.goto(f"{live_server}/auth/login")
    tab.fill("input[name=email]", email)
    tab.fill("input[name=password]", password)
    tab.click("main button[type=submit]")
    tab.wait_for_url(f"{live_server}/")


def test_organizer_gives_a_volunteer_an_account_and_takes_it_away(
    browser, page, live_server: str, organizer: User, db_session: Session
) -> None:
    _log_in(page, live_server, "org@example.jp", PASSWORD)
    page.click("header a[href='/accounts/']")
    page.wait_for_url(f"{live_server}/accounts/")
    page.click("main a[href='/accounts/new']")
    page.fill("input[name=name]", "ボランティア 一郎")
    page.fill("input[name=email]", "volunteer1@example.jp")
    assert page.input_value("select[name=role]") == "staff"  # the usual case first
    assert page.is_checked("input[name=password_choice][value=generate]")
    page.click("main button.primary[type=submit]")
    password = page.inner_text("#new-password").strip()
    assert re.fullmatch(r"[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}", password)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "accounts_password_shown.png"), full_page=True)

    # The same e-mail again: refused, and what was typed is still there.
    page.click("a[href='/accounts/new']")
    page.fill("input[name=name]", "ボランティア 二郎")
    page.fill("input[name=email]", "Volunteer1@example.jp")
    page.click("main button.primary[type=submit]")
    assert page.locator("#email-err").count() == 1
    assert page.input_value("input[name=name]") == "ボランティア 二郎"
    assert page.input_value("input[name=email]") == "Volunteer1@example.jp"
    assert page.locator("#new-password").count() == 0
    page.screenshot(path=str(SCREENSHOTS / "accounts_new_duplicate.png"), full_page=True)

    # The volunteer logs in on their phone and chooses their own password.
    context = browser.new_context(locale="ja-JP", viewport={"width": 390, "height": 844})
    context.set_default_timeout(10_000)
    phone = context.new_page()
    try:
        _log_in(phone, live_server, "volunteer1@example.jp", password)
        assert phone.locator("header a[href='/accounts/']").count() == 0  # staff
        phone.click("header a.who")
        phone.wait_for_url(f"{live_server}/account")
        phone.fill("input[name=password-current_password]", password)
        phone.fill("input[name=password-new_password]", "my own secret words")
        phone.fill("input[name=password-confirm_password]", "my own secret words")
        phone.click("form[action='/account/password'] button[type=submit]")
        phone.wait_for_selector(".flash-success")  # and still logged in here
        assert phone.url == f"{live_server}/account"
        phone.screenshot(path=str(SCREENSHOTS / "accounts_my_account_phone.png"), full_page=True)

        # After the fair: the organizer deactivates it from the list (confirming).
        page.goto(f"{live_server}/accounts/")
        account = db_session.scalar(select(User).where(User.email == "volunteer1@example.jp"))
        page.once("dialog", lambda dialog: dialog.accept())
        page.click(f"form[action='/accounts/{account.id}/deactivate'] button")
        page.wait_for_selector(f"#account-{account.id} .badge.err")

        # The phone is logged out at its next click.
        phone.reload()
        assert "/auth/login" in phone.url
        page.click(f"#account-{account.id} a[href='/accounts/{account.id}']")
        page.wait_for_url(f"{live_server}/accounts/{account.id}")
        assert page.locator("#history li").count() == 3
        assert page.locator(f"form[action='/accounts/{account.id}/reactivate']").count() == 1
        page.screenshot(path=str(SCREENSHOTS / "accounts_show_deactivated.png"), full_page=True)
    finally:
        context.close()

    db_session.expire_all()
    account = db_session.get(User, account.id)
    assert not account.active
    actions = db_session.scalars(
        select(AuditEntry.action)
        .where(AuditEntry.target_type == "User", AuditEntry.target_id == account.id)
        .order_by(AuditEntry.id)
    ).all()
    assert actions == ["account.create", "account.password_change", "account.deactivate"]
