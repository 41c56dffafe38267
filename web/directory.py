"""The directory of an event's companies for organizers and staff, and the search form
that participants' directory page shares (``web/portal.py``)."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request
from flask_babel import get_locale, lazy_gettext
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict
from wtforms import Form, SearchField, SelectChoice, SelectField

from scheduler import directory
from scheduler.directory import REGION_PREFIX, REGIONS, DirectoryFilters, prefecture_label
from scheduler.errors import NotFound
from scheduler.i18n import N_
from scheduler.models import Event, Participant, ParticipantRole, ParticipantStatus
from scheduler.vocabulary import CERTIFICATIONS, LOT_SIZES, PREFECTURES, technologies_by_field
from web.auth import staff_required
from web.database import get_session
from web.pagination import Page, back_to, current_path, paginate
from web.participant_access import ROLE_LABELS

bp = Blueprint("directory", __name__, url_prefix="/events/<int:event_id>/directory")


class DirectorySearchForm(Form):
    """The directory's search and filters (a GET form: nothing to protect with CSRF)."""

    q = SearchField(lazy_gettext("Keywords"))
    technology = SelectField(lazy_gettext("Technology"), validate_choice=False)
    location = SelectField(lazy_gettext("Region"), validate_choice=False)
    certification = SelectField(lazy_gettext("Certification"), validate_choice=False)
    lot_size = SelectField(lazy_gettext("Lot size"), validate_choice=False)
    role = SelectField(lazy_gettext("Role"), validate_choice=False)

    def __init__(self, formdata: MultiDict[str, str], *, with_role: bool) -> None:
        super().__init__(formdata)
        locale = str(get_locale() or "ja")
        anything = SelectChoice("", "—")
        technology: list[SelectChoice] = [anything]
        for group in technologies_by_field():
            technology.append(SelectChoice(group.code, group.label(locale)))
            technology += [
                SelectChoice(term.code, "\u3000" + term.label(locale))
                for term in group.technologies
            ]
        self.technology.choices = technology
        self.location.choices = [
            anything,
            *(
                SelectChoice(REGION_PREFIX + code, en if locale.startswith("en") else ja)
                for code, (ja, en, _) in REGIONS.items()
            ),
            *(SelectChoice(p, prefecture_label(p, locale)) for p in PREFECTURES),
        ]
        self.certification.choices = [
            anything, *(SelectChoice(t.code, t.label(locale)) for t in CERTIFICATIONS)
        ]
        self.lot_size.choices = [
            anything, *(SelectChoice(t.code, t.label(locale)) for t in LOT_SIZES)
        ]
        if with_role:
            self.role.choices = [
                anything, *(SelectChoice(r.value, ROLE_LABELS[r]) for r in ParticipantRole)
            ]
        else:
            del self.role

    def filters(self) -> DirectoryFilters:
        return DirectoryFilters(
            technology=self.technology.data or "",
            location=self.location.data or "",
            certification=self.certification.data or "",
            lot_size=self.lot_size.data or "",
            role=self.role.data or "" if "role" in self else "",
        )


#: Companies on one page of the directory (800 suppliers make 27 pages).
PER_PAGE = 30


def run_search(
    session: Session, event: Event, viewer_role: str | None
) -> tuple[DirectorySearchForm, Page[directory.DirectoryEntry]]:
    """The search form from the query string and the page of results it asks for; the
    page's links keep the search and the filters."""
    form = DirectorySearchForm(request.args, with_role=viewer_role is None)
    entries = directory.search(session, event, viewer_role, form.q.data or "", form.filters())
    return form, paginate(entries, PER_PAGE)


@bp.app_template_global()
def directory_back() -> str | None:
    """The directory page (search, filters, page number) a profile was opened from, to
    return to it; None when the profile was reached another way."""
    listing = current_path().rsplit("/", 1)[0]  # …/directory/<id> → …/directory
    return back_to(listing)


def _event(event_id: int) -> Event:
    event = get_session().get(Event, event_id)
    if event is None:
        raise NotFound(N_("This event does not exist."))
    return event


@bp.get("")
@staff_required
def index(event_id: int):  # type: ignore[no-untyped-def]
    """Both sides of the event's directory, with all needs, for organizers and staff."""
    event = _event(event_id)
    form, entries = run_search(get_session(), event, None)
    return render_template(
        "directory/index.html", event=event, form=form, entries=entries, portal=False,
        locale=str(get_locale() or "ja"),
    )


@bp.get("/<int:participant_id>")
@staff_required
def show(event_id: int, participant_id: int):  # type: ignore[no-untyped-def]
    """One company's profile as the directory shows it (all needs, for organizers)."""
    event = _event(event_id)
    participant = get_session().get(Participant, participant_id)
    if participant is None or participant.event_id != event.id:
        abort(404)
    entry = directory.entry_of(participant, include_unpublished=True)
    return render_template(
        "directory/show.html", event=event, entry=entry, portal=False,
        locale=str(get_locale() or "ja"),
        pending=participant.status != ParticipantStatus.APPROVED,
    )

