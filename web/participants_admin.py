"""Organizer pages for an event's participants: list, add/edit by hand, import, export.

An import is two steps: the upload is checked and kept in the instance folder under
a random token (never in the cookie), the preview shows what would happen to every
row, and only the confirmation writes. The file is deleted after the import.
"""

from __future__ import annotations

import io
import json
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import get_locale, lazy_gettext, ngettext
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload
from wtforms import SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired

from scheduler.errors import Conflict, NotFound, ValidationFailed
from scheduler.i18n import N_
from scheduler.models import (
    Attendance,
    Event,
    Organization,
    Participant,
    ParticipantRole,
    ParticipantStatus,
    Person,
)
from scheduler.names import search_key
from scheduler.participant_export import (
    export_csv,
    export_xlsx,
    rows_to_fix_csv,
    template_xlsx,
)
from scheduler.participant_import import (
    COLUMNS,
    DEFAULT_MAX_ROWS,
    FIX_HEADERS,
    REQUIRED_KEYS,
    TITLE_ROWS_MAX,
    ImportPreview,
    Issue,
    RowAction,
    apply_import,
    code_for_new_role,
    code_holder,
    code_sort_key,
    contact_of,
    entry_cells,
    joined,
    preview_import,
    save_entry,
    validate_entry,
)
from scheduler.vocabulary import PREFECTURES
from web.auth import organizer_required, staff_required
from web.database import get_session
from web.filters import label_colon, list_separator
from web.form_fields import TextAreaField, typed_phone
from web.i18n import translate_error
from web.pagination import back_to, paginate

bp = Blueprint("participants_admin", __name__, url_prefix="/events/<int:event_id>/participants")

ROLE_LABELS = {ParticipantRole.BUYER: lazy_gettext("Buyer"),
               ParticipantRole.SUPPLIER: lazy_gettext("Supplier")}
ACTION_LABELS = {
    RowAction.CREATE: lazy_gettext("New company"),
    RowAction.REUSE: lazy_gettext("Company from the directory"),
    RowAction.UPDATE: lazy_gettext("Update"),
    RowAction.UNCHANGED: lazy_gettext("No change"),
    RowAction.DUPLICATE: lazy_gettext("Duplicate"),
}
UPLOAD_SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx")
DEFAULT_MAX_UPLOAD_BYTES = 5 * 1024 * 1024
UPLOAD_LIFETIME_SECONDS = 24 * 3600
_TOKEN = re.compile(r"[A-Za-z0-9_-]{20,64}")


def issue_text(issue: Issue) -> str:
    """An import issue in the user's language (its message is an English msgid; a list
    parameter is written with the language's own separator: 、 in Japanese)."""
    if not issue.params:
        return _(issue.message)
    return _(issue.message, **joined(issue.params, list_separator()))


@bp.context_processor
def _template_helpers() -> dict[str, object]:
    return {"issue_text": issue_text, "role_labels": ROLE_LABELS, "action_labels": ACTION_LABELS,
            "prefectures": PREFECTURES}


def _event(event_id: int) -> Event:
    event = get_session().get(Event, event_id)
    if event is None:
        raise NotFound(N_("This event does not exist."))
    return event


# --------------------------------------------------------------------------- list


#: Rows on one page of the participants list (a 950-company fair has 19 pages).
PER_PAGE = 50


@dataclass(frozen=True, slots=True)
class _ListRow:
    """What the list filters, counts and sorts on, without loading the companies."""

    id: int
    role: str
    status: str
    code: str
    name: str
    name_kana: str

    @property
    def sort_key(self) -> tuple[bool, tuple[bool, tuple[str | int, ...]], int]:
        """Buyers first, then by code in its natural order (S2, S10, S100, S1000)."""
        return (self.role != ParticipantRole.BUYER, code_sort_key(self.code or ""), self.id)


def _list_rows(session: Session, event: Event) -> list[_ListRow]:
    """Every participant of ``event`` with its company's names, in one query."""
    return [
        _ListRow(*row)
        for row in session.execute(
            select(Participant.id, Participant.role, Participant.status, Participant.code,
                   Organization.name, Organization.name_kana)
            .join(Organization, Organization.id == Participant.organization_id)
            .where(Participant.event_id == event.id)
        )
    ]


def _people_names(session: Session, event: Event) -> dict[int, list[str]]:
    """Each participant's attendees as "name kana", in one query (for the search)."""
    names: dict[int, list[str]] = {}
    for participant_id, name, kana in session.execute(
        select(Attendance.participant_id, Person.name, Person.name_kana)
        .join(Person, Person.id == Attendance.person_id)
        .join(Participant, Participant.id == Attendance.participant_id)
        .where(Participant.event_id == event.id)
        .order_by(Attendance.id)
    ):
        names.setdefault(participant_id, []).append(f"{name} {kana}")
    return names


def _load_shown(session: Session, ids: list[int]) -> list[Participant]:
    """The page's participants with what their rows show, in the order of ``ids``."""
    if not ids:
        return []
    loaded = {
        p.id: p
        for p in session.scalars(
            select(Participant).where(Participant.id.in_(ids))
            .options(selectinload(Participant.organization),
                     selectinload(Participant.attendances).selectinload(Attendance.person))
        )
    }
    return [loaded[i] for i in ids if i in loaded]


@bp.get("")
@staff_required
def index(event_id: int):  # type: ignore[no-untyped-def]
    """The event's participants, filtered by role and searched by name, kana, code or
    contact, a page at a time (the links keep the search and the role)."""
    session = get_session()
    event = _event(event_id)
    rows = _list_rows(session, event)
    # The counts are of companies taking part; a registration waiting for approval,
    # declined or withdrawn is listed (marked) but not counted.
    taking_part = [r for r in rows if r.status == ParticipantStatus.APPROVED]
    counts = {role: sum(1 for r in taking_part if r.role == role) for role in ParticipantRole}
    role = request.args.get("role", "")
    query = request.args.get("q", "").strip()
    shown = [r for r in rows if not role or r.role == role]
    if query:
        needle = search_key(query)
        people = _people_names(session, event)
        shown = [r for r in shown if needle in search_key(" ".join(
            [r.code, r.name, r.name_kana, *people.get(r.id, ())]))]
    shown.sort(key=lambda r: r.sort_key)
    page = paginate(shown, PER_PAGE)
    return render_template("participants_admin/index.html", event=event, page=page,
                           participants=_load_shown(session, [r.id for r in page.items]),
                           counts=counts, total=len(taking_part), role=role, query=query,
                           contact_of=contact_of)


# --------------------------------------------------------------------------- by hand


class ParticipantForm(FlaskForm):
    """One participant; the import's validation checks every value (one-row import)."""

    company = StringField(lazy_gettext("Company name"), validators=[DataRequired()])
    company_kana = StringField(lazy_gettext("Company name (kana)"))
    role = SelectField(lazy_gettext("Role"), choices=[
        SelectChoice(ParticipantRole.BUYER.value, lazy_gettext("Buyer (発注企業)")),
        SelectChoice(ParticipantRole.SUPPLIER.value, lazy_gettext("Supplier (受注企業)")),
    ])
    code = StringField(lazy_gettext("Code"),
                       description=lazy_gettext("Left blank, the next free code (B001, S001…) "
                                                "is given."))
    department = StringField(lazy_gettext("Department"))
    prefecture = StringField(lazy_gettext("Prefecture"))
    city = StringField(lazy_gettext("City"))
    industry = StringField(lazy_gettext("Industry"))
    employees = StringField(lazy_gettext("Employees"))
    website = StringField(lazy_gettext("Website"))
    technologies = TextAreaField(
        lazy_gettext("Technologies"),
        description=lazy_gettext("Separated by 、 or commas. Names from the technology list are "
                                 "recognised; others are kept as free tags."))
    certifications = StringField(lazy_gettext("Certifications"),
                                 description=lazy_gettext("Separated by 、 or commas."))
    contact_name = StringField(lazy_gettext("Contact person"))
    contact_kana = StringField(lazy_gettext("Contact person (kana)"))
    email = StringField(lazy_gettext("E-mail"))
    phone = StringField(lazy_gettext("Phone"), filters=[typed_phone])
    max_meetings = StringField(lazy_gettext("Meetings at most"),
                               description=lazy_gettext("Blank: the event's default."))
    desks = StringField(lazy_gettext("Parallel desks"), default="1")

    def cells(self) -> dict[str, str]:
        """The form's values by column key, as an import row."""
        return {name: str(self[name].data or "") for name in _FORM_KEYS}


_FORM_KEYS = ("company", "company_kana", "role", "code", "department", "prefecture", "city",
              "industry", "employees", "website", "technologies", "certifications",
              "contact_name", "contact_kana", "email", "phone", "max_meetings", "desks")


def _show_error(form: FlaskForm, key: str | None, message: str) -> None:
    target = form[key] if key and key in form else None
    if target is not None:
        target.errors = [*target.errors, message]
    else:
        form.form_errors.append(message)


@bp.route("/new", methods=["GET", "POST"])
@bp.route("/<int:participant_id>/edit", methods=["GET", "POST"])
@organizer_required
def edit(event_id: int, participant_id: int | None = None):  # type: ignore[no-untyped-def]
    """Add a participant by hand, or edit one (company, role, contact person)."""
    session = get_session()
    event = _event(event_id)
    participant = None
    if participant_id is not None:
        participant = session.get(Participant, participant_id)
        if participant is None or participant.event_id != event.id:
            abort(404)
    form = ParticipantForm()
    if request.method == "GET" and participant is not None:
        for key, value in entry_cells(participant).items():
            form[key].data = value
        form.role.data = participant.role
    # The cells as the form showed them, to tell what the organizer changed.
    shown = entry_cells(participant) if participant is not None else {}
    if form.validate_on_submit():
        cells = form.cells()
        if participant is not None:
            # Only the role changed: S003 becomes the next free buyer's code, as a blank
            # code cell does (the code's letter names the role).
            cells["code"] = code_for_new_role(participant, cells["code"], cells["role"])
        entry, errors, notes = validate_entry(cells)
        for issue in errors:
            _show_error(form, issue.key, issue_text(issue))
        holder = code_holder(session, event, entry.code) if entry.code else None
        if holder is not None and holder is not participant:
            # With the other mistakes, not on the next submit once they are fixed.
            errors.append(Issue(N_("The code %(code)s is already used by %(name)s."),
                                {"code": entry.code, "name": holder.organization.name},
                                key="code"))
            _show_error(form, "code", issue_text(errors[-1]))
        old_code = participant.code if participant is not None else ""
        if not errors:
            try:
                saved = save_entry(session, event, entry, participant=participant,
                                   user_id=current_user.id)
            except ValidationFailed as error:
                _show_error(form, error.field, translate_error(error))
            else:
                session.commit()
                # Notes on what was changed: a keyword kept as a tag was said on every
                # save of the form, whatever was edited (QA).
                for issue in notes:
                    if not issue.key or cells.get(issue.key) != shown.get(issue.key):
                        flash(issue_text(issue), "warning")
                if old_code and saved.code != old_code:
                    flash(_("The code changes from %(old)s to %(new)s: what was printed with "
                            "%(old)s (link slips, schedules) shows the old code.",
                            old=old_code, new=saved.code), "warning")
                flash(_("%(name)s was saved.", name=saved.organization.name), "success")
                back = back_to(url_for(".index", event_id=event.id))
                if back is not None:  # the page of the list the row was edited from
                    return redirect(f"{back}#participant-{saved.id}")
                return redirect(url_for(".index", event_id=event.id))
    return render_template("participants_admin/form.html", event=event, form=form,
                           participant=participant,
                           back=back_to(url_for(".index", event_id=event.id)))


# --------------------------------------------------------------------------- import


class UploadForm(FlaskForm):
    file = FileField(lazy_gettext("Participant list (CSV or Excel .xlsx)"),
                     validators=[FileRequired(lazy_gettext("Choose a file to upload."))])


def _uploads_dir() -> Path:
    configured = current_app.config.get("INSTANCE_UPLOADS")
    path = Path(configured) if configured else Path(current_app.instance_path) / "uploads"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _clear_old_uploads() -> None:
    """Delete uploads and lists of left-out rows older than their lifetime (they hold
    contact details, so they are not kept longer than needed)."""
    cutoff = time.time() - UPLOAD_LIFETIME_SECONDS
    for old in _uploads_dir().glob("import-*"):
        if old.stat().st_mtime < cutoff:
            old.unlink(missing_ok=True)


def _store_upload(event_id: int, filename: str, data: bytes) -> str:
    """Keep the file until the organizer confirms; old abandoned uploads are cleared."""
    folder = _uploads_dir()
    _clear_old_uploads()
    token = secrets.token_urlsafe(24)
    (folder / f"import-{token}.bin").write_bytes(data)
    meta = {"event_id": event_id, "filename": filename, "user_id": current_user.id}
    (folder / f"import-{token}.json").write_text(json.dumps(meta, ensure_ascii=False))
    return token


def _load_upload(event_id: int, token: str) -> tuple[str, bytes] | None:
    if not _TOKEN.fullmatch(token):
        return None
    folder = _uploads_dir()
    try:
        meta: dict[str, Any] = json.loads((folder / f"import-{token}.json").read_text())
        data = (folder / f"import-{token}.bin").read_bytes()
    except (OSError, ValueError):
        return None
    if meta.get("event_id") != event_id:
        return None
    return str(meta.get("filename", "")), data


def _discard_upload(token: str) -> None:
    if _TOKEN.fullmatch(token):
        for suffix in (".bin", ".json"):
            (_uploads_dir() / f"import-{token}{suffix}").unlink(missing_ok=True)


def _max_rows() -> int:
    return int(current_app.config.get("IMPORT_MAX_ROWS", DEFAULT_MAX_ROWS))


def _check_upload(form: UploadForm) -> tuple[str, bytes] | None:
    """The uploaded file's name and bytes, or None with the problem shown on the form."""
    upload = form.file.data
    filename = (upload.filename or "").strip()
    if not filename.lower().endswith(UPLOAD_SUFFIXES):
        form.file.errors.append(_("Please upload a CSV file (.csv) or an Excel workbook (.xlsx)."))
        return None
    limit = int(current_app.config.get("IMPORT_MAX_BYTES", DEFAULT_MAX_UPLOAD_BYTES))
    data = upload.read(limit + 1)
    if len(data) > limit:
        form.file.errors.append(_("The file is larger than %(mb)s MB.",
                                  mb=round(limit / 1024 / 1024, 1)))
        return None
    if filename.lower().endswith(".xlsx") and not data.startswith(b"PK\x03\x04"):
        form.file.errors.append(_("This file is not an Excel workbook (.xlsx), although its "
                                  "name says so."))
        return None
    return filename, data


@bp.route("/import", methods=["GET", "POST"])
@organizer_required
def upload(event_id: int):  # type: ignore[no-untyped-def]
    """Upload a CSV/XLSX file; a readable one is kept under a token and previewed."""
    event = _event(event_id)
    form = UploadForm()
    if form.validate_on_submit():
        checked = _check_upload(form)
        if checked is not None:
            filename, data = checked
            preview = preview_import(get_session(), event, data, filename, max_rows=_max_rows())
            if preview.file_errors:
                form.file.errors.extend(issue_text(i) for i in preview.file_errors)
            else:
                token = _store_upload(event.id, filename, data)
                return redirect(url_for(".preview", event_id=event.id, token=token))
    return render_template(
        "participants_admin/import.html",
        event=event,
        form=form,
        max_rows=_max_rows(),
        title_rows=TITLE_ROWS_MAX,
        optional_columns=_optional_columns(),
    )


def _optional_columns() -> list[tuple[str, str]]:
    """Each optional column's Japanese header and an English name the import accepts."""
    return [
        (column.header, next((a for a in column.aliases if a.isascii()), ""))
        for column in COLUMNS
        if column.key not in REQUIRED_KEYS
    ]


def _preview_for(event: Event, token: str) -> ImportPreview:
    """The preview of the uploaded file; when it is gone (imported, cancelled, expired),
    back to the upload page with a word why."""
    stored = _load_upload(event.id, token)
    if stored is None:
        flash(_("The uploaded file is no longer available. Please upload it again."), "error")
        abort(redirect(url_for(".upload", event_id=event.id)))
    filename, data = stored
    return preview_import(get_session(), event, data, filename, max_rows=_max_rows())


@bp.get("/import/<token>")
@organizer_required
def preview(event_id: int, token: str):  # type: ignore[no-untyped-def]
    """What importing the uploaded file would do, row by row; nothing is written."""
    event = _event(event_id)
    result = _preview_for(event, token)
    return render_template("participants_admin/preview.html", event=event, preview=result,
                           token=token, counts=result.counts())


@bp.post("/import/<token>")
@organizer_required
def confirm(event_id: int, token: str):  # type: ignore[no-untyped-def]
    """Import all rows, or only the valid ones (``mode=valid``), then delete the file."""
    session = get_session()
    event = _event(event_id)
    result_preview = _preview_for(event, token)
    only_valid = request.form.get("mode") == "valid"
    try:
        result = apply_import(session, event, result_preview, only_valid=only_valid,
                              user_id=current_user.id)
    except (ValidationFailed, Conflict) as error:
        session.rollback()
        flash(_("Nothing was imported: %(reason)s", reason=translate_error(error)), "error")
        return redirect(url_for(".preview", event_id=event.id, token=token))
    session.commit()
    _discard_upload(token)
    flash(_("Imported: %(created)s new companies, %(reused)s from the directory, %(updated)s "
            "updated, %(unchanged)s unchanged.", created=result.created, reused=result.reused,
            updated=result.updated, unchanged=result.unchanged), "success")
    if result.skipped:
        flash(ngettext("%(num)d row with errors was not imported.",
                       "%(num)d rows with errors were not imported.", result.skipped), "warning")
        # The preview and its file are gone once imported: the rows left out are kept
        # (for the upload's lifetime) to list them and to download them for correction.
        _store_left_out(event.id, token, result_preview)
        return redirect(url_for(".left_out", event_id=event.id, token=token))
    return redirect(url_for(".index", event_id=event.id))


def _issue_record(issue: Issue) -> dict[str, Any]:
    return {"message": issue.message, "params": dict(issue.params), "header": issue.header}


def _rows_to_fix(preview: ImportPreview) -> dict[str, Any]:
    """The rows with errors of a preview, as stored JSON: every column of the file, in its
    order and under its header, also those the import does not read (the organizer's
    notes must come back with the rows). Only the two columns the app adds to a file of
    rows to fix are left out: the download writes them anew."""
    headers = preview.headers
    errors = preview.error_rows
    width = max([len(headers), *(len(row.raw) for row in errors)])
    kept = [i for i in range(width) if i >= len(headers) or headers[i] not in FIX_HEADERS]
    key_at = {headers.index(header): key for key, header in preview.columns.items()}
    return {
        "filename": preview.filename,
        "headers": [headers[i] if i < len(headers) else "" for i in kept],
        "rows": [
            {"number": row.number,
             "cells": [row.raw[i] if i < len(row.raw) else "" for i in kept],
             "bad": [n for n, i in enumerate(kept) if key_at.get(i) in row.error_keys()],
             "errors": [_issue_record(issue) for issue in row.errors]}
            for row in errors
        ],
    }


def _left_out_path(token: str) -> Path:
    return _uploads_dir() / f"import-{token}-left-out.json"


def _store_left_out(event_id: int, token: str, preview: ImportPreview) -> None:
    record = {"event_id": event_id, **_rows_to_fix(preview)}
    _left_out_path(token).write_text(json.dumps(record, ensure_ascii=False, default=str))


def _load_left_out(event_id: int, token: str) -> dict[str, Any]:
    """The rows an import left out, or 404 (unknown, another event's, or expired)."""
    if not _TOKEN.fullmatch(token):
        abort(404)
    _clear_old_uploads()
    try:
        record: dict[str, Any] = json.loads(_left_out_path(token).read_text())
    except (OSError, ValueError):
        abort(404)
    if record.get("event_id") != event_id:
        abort(404)
    return record


def _problems_text(errors: list[dict[str, Any]]) -> str:
    """A row's problems in one cell, each after its column (「メール：…」 in Japanese)."""
    texts = [
        f"{e['header']}{label_colon()}{issue_text(Issue(e['message'], e['params']))}"
        if e["header"] else issue_text(Issue(e["message"], e["params"]))
        for e in errors
    ]
    joined_texts = ""
    for text in texts:
        # A Japanese sentence ends with 。 and the next follows it as it is.
        if joined_texts and not joined_texts.endswith("。"):
            joined_texts += "; "
        joined_texts += text
    return joined_texts


def _fix_download(record: dict[str, Any]):  # type: ignore[no-untyped-def]
    """The rows of ``record`` as CSV to correct and upload again."""
    data = rows_to_fix_csv(
        record["headers"],
        [(row["number"], row["cells"], _problems_text(row["errors"])) for row in record["rows"]],
    )
    stem = Path(record["filename"]).stem or "participants"
    return send_file(io.BytesIO(data), mimetype="text/csv", as_attachment=True,
                     download_name=f"{stem}-to-fix.csv")


@bp.get("/import/<token>/left-out")
@organizer_required
def left_out(event_id: int, token: str):  # type: ignore[no-untyped-def]
    """After importing only the valid rows: every row left out, why, and a file to fix."""
    event = _event(event_id)
    record = _load_left_out(event.id, token)
    rows = [
        {**row, "problems": [
            (e["header"], issue_text(Issue(e["message"], e["params"]))) for e in row["errors"]
        ]}
        for row in record["rows"]
    ]
    return render_template("participants_admin/left_out.html", event=event, token=token,
                           record=record, rows=rows)


@bp.get("/import/<token>/left-out.csv")
@organizer_required
def left_out_csv(event_id: int, token: str):  # type: ignore[no-untyped-def]
    return _fix_download(_load_left_out(_event(event_id).id, token))


@bp.get("/import/<token>/errors.csv")
@organizer_required
def errors_csv(event_id: int, token: str):  # type: ignore[no-untyped-def]
    """From the preview: the rows with errors as CSV, to correct before importing."""
    event = _event(event_id)
    result = _preview_for(event, token)
    return _fix_download(_rows_to_fix(result))


@bp.post("/import/<token>/cancel")
@organizer_required
def cancel(event_id: int, token: str):  # type: ignore[no-untyped-def]
    """Drop the uploaded file without importing it."""
    _event(event_id)
    _discard_upload(token)
    flash(_("The import was cancelled; nothing was written."), "info")
    return redirect(url_for(".index", event_id=event_id))


# --------------------------------------------------------------------------- export


def _language() -> str:
    """The reader's language, which an export's headers and roles are written in."""
    return str(get_locale() or "ja")


@bp.get("/export.csv")
@organizer_required
def export_as_csv(event_id: int):  # type: ignore[no-untyped-def]
    """The participants taking part as CSV (UTF-8 with BOM), in the import's layout."""
    event = _event(event_id)
    return send_file(io.BytesIO(export_csv(get_session(), event, _language())),
                     mimetype="text/csv", as_attachment=True,  # Werkzeug adds the charset
                     download_name=f"participants-{event.slug}.csv")


@bp.get("/export.xlsx")
@organizer_required
def export_as_xlsx(event_id: int):  # type: ignore[no-untyped-def]
    """The participants taking part as an Excel workbook, in the import's layout."""
    event = _event(event_id)
    return send_file(
        io.BytesIO(export_xlsx(get_session(), event, _language())),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        as_attachment=True, download_name=f"participants-{event.slug}.xlsx")


@bp.get("/import/template.xlsx")
@organizer_required
def import_template(event_id: int):  # type: ignore[no-untyped-def]
    """An empty participant list to fill in and import (for a first list): the export's
    columns in the reader's language, drop-down lists, and a guide to every column."""
    _event(event_id)
    return send_file(
        io.BytesIO(template_xlsx(_language(), _, max_rows=_max_rows())),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        as_attachment=True, download_name="participants-template.xlsx")
