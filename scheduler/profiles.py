"""Company profiles and buyers' needs, edited by participants through their secret links.

A profile belongs to the :class:`Organization`, which persists across events, so a
region's directory grows fair by fair. When a company registers for another fair,
its participant's ``profile_confirmed_at`` is empty until someone confirms or
updates the profile for that fair.

Profiles can be edited during the registration and preferences phases; after that
the directory and the suggestions are fixed for scheduling. Services only flush;
the caller commits.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler import audit
from scheduler.db import utcnow
from scheduler.errors import DeadlinePassed, NotFound, PermissionDenied, ValidationFailed
from scheduler.i18n import N_
from scheduler.models import Event, Need, Organization, Participant, ParticipantRole, Phase
from scheduler.names import called_alike, company_name_key
from scheduler.vocabulary import CERTIFICATIONS, LOT_SIZES, PREFECTURES, TECHNOLOGIES

#: Phases in which participants may change their profile and needs.
PROFILE_PHASES = frozenset({Phase.REGISTRATION, Phase.PREFERENCES})


def profile_editable(event: Event) -> bool:
    """Whether participants of ``event`` may change their profile now."""
    return event.phase in PROFILE_PHASES


def check_profile_editable(event: Event) -> None:
    """Raise :class:`DeadlinePassed` once profiles are fixed for scheduling."""
    if not profile_editable(event):
        raise DeadlinePassed(
            N_(
                "Profiles can no longer be changed: the preferences phase has ended. "
                "Please contact the organizer if something must be corrected."
            )
        )


def confirm_profile(
    session: Session,
    participant: Participant,
    *,
    user_id: int | None = None,
    now: datetime | None = None,
) -> None:
    """Record that the company's profile is up to date for this event."""
    check_profile_editable(participant.event)
    participant.profile_confirmed_at = now or utcnow()
    session.flush()
    audit.record(
        session,
        "profile.confirm",
        event_id=participant.event_id,
        user_id=user_id,
        participant_id=participant.id,
        target=participant.organization,
    )


# --------------------------------------------------------------------------- profile

MAX_TAGS = 30
MAX_TAG_LENGTH = 50
MAX_TEXT_LENGTH = 5000
_TAG_SEPARATORS = re.compile(r"[,、，;；\n]+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(slots=True)
class ProfileData:
    """A profile as submitted. ``None`` means "not on this form": the stored value stays."""

    name: str | None = None
    name_kana: str | None = None
    department: str | None = None  # the participant's (a buyer's department), not the company's
    prefecture: str | None = None
    city: str | None = None
    industry: str | None = None
    employees: int | None = None
    website: str | None = None
    description: str | None = None
    strengths: str | None = None
    technologies: list[str] | None = None
    tags: list[str] | None = None
    equipment: str | None = None
    materials: str | None = None
    certifications: list[str] | None = None
    lot_sizes: list[str] | None = None
    what_we_buy: str | None = None
    set_employees: bool = field(default=False)  # employees=None with this flag clears it


def split_tags(text: str, *, keep_punctuation: bool = False) -> list[str]:
    """Free tags typed as one line: separated by commas, 、, semicolons or new lines.

    Widths are folded (NFKC) as search folds them: "５軸" and "5軸" are one keyword,
    shown the same way in match reasons. ``keep_punctuation``: Japanese brackets and
    punctuation stay as typed (a certification written out in a sentence's style,
    「ＩＳＯ１４００１（取得予定）」 → 「ISO14001（取得予定）」); letters, digits and spaces
    are still folded."""
    tags: list[str] = []
    for raw in _TAG_SEPARATORS.split(text):
        folded = (
            _fold_outside_punctuation(raw)
            if keep_punctuation
            else unicodedata.normalize("NFKC", raw)
        )
        tag = " ".join(folded.split())
        if tag and _tag_key(tag) not in {_tag_key(t) for t in tags}:
            tags.append(tag)
    return tags


def _tag_key(tag: str) -> str:
    """Two tags alike by this are one (widths and case aside)."""
    return unicodedata.normalize("NFKC", tag).casefold()


# Full-width punctuation that Japanese text keeps full-width (NFKC would make "（" "(").
_JAPANESE_PUNCTUATION = re.compile(r"([（）「」『』【】〔〕［］｛｝〈〉《》。・：！？～]+)")


def _fold_outside_punctuation(text: str) -> str:
    """``text`` NFKC-folded except its Japanese punctuation (in runs, so that a
    half-width kana keeps its voicing mark)."""
    parts = _JAPANESE_PUNCTUATION.split(text)
    return "".join(
        part if index % 2 else unicodedata.normalize("NFKC", part)
        for index, part in enumerate(parts)
    )


def typed_line_breaks(value: str) -> str:
    """``value`` with each line break as LF: browsers send a textarea's as CRLF (old
    Macs' as CR) but count and show it as one character."""
    return value.replace("\r\n", "\n").replace("\r", "\n")


def typed_text(value: str | None) -> str:
    """Text from a form as stored: line breaks as LF (browsers send a textarea's as
    CRLF, so an unchanged field compares equal and keeps its length), NFC (a Mac sends
    decomposed kana), no control characters, trimmed."""
    text = typed_line_breaks(value or "")
    return _CONTROL.sub("", unicodedata.normalize("NFC", text)).strip()


def _clean(value: str, field_name: str, max_length: int) -> str:
    text = typed_text(value)
    if len(text) > max_length:
        raise ValidationFailed(
            N_("This is too long: at most %(n)d characters."),
            field=field_name,
            params={"n": max_length},
        )
    return text


def _same(stored: Any, submitted: Any) -> bool:
    """Whether a submitted profile value is what is stored (lists in any order: a form
    sends its checkboxes in page order, an import stored them in its own)."""
    if isinstance(stored, list) and isinstance(submitted, list):
        return sorted(map(str, stored)) == sorted(map(str, submitted))
    return bool(stored == submitted)


def _clean_tag(tag: str) -> str:
    """One keyword, widths folded; too long, it is named (the limit is per keyword)."""
    text = _CONTROL.sub("", unicodedata.normalize("NFKC", tag)).strip()
    if len(text) > MAX_TAG_LENGTH:
        raise ValidationFailed(
            N_("Each keyword can have at most %(n)d characters; this one is longer: %(tag)s"),
            field="tags",
            params={"n": MAX_TAG_LENGTH, "tag": text[:20] + "…"},
        )
    return text


def _known(codes: list[str], known: set[str], field_name: str) -> list[str]:
    unknown = [c for c in codes if c not in known]
    if unknown:
        raise ValidationFailed(
            N_("Unknown choice: %(value)s."), field=field_name, params={"value": unknown[0]}
        )
    return list(dict.fromkeys(codes))


# A host with a dot, an optional port and path, and no scheme: "www.abc.co.jp/company".
_BARE_HOST = re.compile(r"[^\s/:@]+\.[^\s/:@]+(:\d+)?(/\S*)?")


def organization_named(
    session: Session, name: str, *, other_than: int | None = None
) -> Organization | None:
    """The directory's company called ``name``: the same name key (spaces, width, a
    missing legal form aside) and no other legal form — 株式会社 X is X, not 有限会社 X
    (:func:`scheduler.names.legal_form`). Of several, one stating the same form, then
    the oldest."""
    query = select(Organization).where(Organization.name_key == company_name_key(name))
    if other_than is not None:
        query = query.where(Organization.id != other_than)
    found = called_alike(name, session.scalars(query.order_by(Organization.id)), _name_of)
    return found[0] if found else None


def _name_of(organization: Organization) -> str:
    return organization.name


def web_address_as_typed(value: str) -> str:
    """A website as people type it, made an address: full-width letters and symbols from
    a Japanese keyboard become ASCII (NFKC), spaces at either end go, and a bare host
    ("abc-seiko.example.jp", "www.….co.jp") gets ``https://``. Anything else is left
    as it is, for :func:`is_web_address` to refuse."""
    text = unicodedata.normalize("NFKC", value or "").strip()
    if text and "://" not in text and _BARE_HOST.fullmatch(text):
        return "https://" + text
    return text


def is_web_address(value: str) -> bool:
    """A company website as the profile accepts it: http:// or https://, then a host
    with a dot. Forms check it with the other fields (``web.form_fields.WebAddress``)."""
    return re.match(r"https?://[^\s/]+\.[^\s]+$", value.strip()) is not None


def _validated(data: ProfileData) -> dict[str, Any]:
    """The organization's new values, checked; raises :class:`ValidationFailed`."""
    values: dict[str, Any] = {}
    lengths = {"name": 200, "name_kana": 200, "city": 100, "industry": 100, "website": 300}
    for name, limit in lengths.items():
        value = getattr(data, name)
        if value is not None and name == "website":
            value = web_address_as_typed(value)  # before its length is checked
        if value is not None:
            values[name] = _clean(value, name, limit)
    if "name" in values and not values["name"]:
        raise ValidationFailed(N_("Please enter the company name."), field="name")
    website = values.get("website", "")
    if website and not is_web_address(website):
        raise ValidationFailed(
            N_("Please enter a web address starting with http:// or https://."), field="website"
        )
    for name in ("description", "strengths", "equipment", "materials", "what_we_buy"):
        value = getattr(data, name)
        if value is not None:
            values[name] = _clean(value, name, MAX_TEXT_LENGTH)
    if data.prefecture is not None:
        if data.prefecture and data.prefecture not in PREFECTURES:
            raise ValidationFailed(
                N_("Please choose a prefecture from the list."), field="prefecture"
            )
        values["prefecture"] = data.prefecture
    if data.employees is not None or data.set_employees:
        if data.employees is not None and not 0 <= data.employees <= 10_000_000:
            raise ValidationFailed(
                N_("Please enter a number of employees of 0 or more."), field="employees"
            )
        values["employees"] = data.employees
    if data.technologies is not None:
        values["technologies"] = _known(data.technologies, set(TECHNOLOGIES), "technologies")
    if data.lot_sizes is not None:
        values["lot_sizes"] = _known(data.lot_sizes, {t.code for t in LOT_SIZES}, "lot_sizes")
    if data.certifications is not None:
        # Known codes, plus certifications outside the list as the company wrote them.
        known = {t.code for t in CERTIFICATIONS}
        certifications = [c for c in data.certifications if c in known]
        for other in data.certifications:
            if other not in known:
                text = _clean(other, "certifications_other", 100)
                if text and text not in certifications:
                    certifications.append(text)
        values["certifications"] = certifications
    if data.tags is not None:
        tags = [_clean_tag(t) for t in data.tags]
        if len(tags) > MAX_TAGS:
            raise ValidationFailed(
                N_("At most %(n)d tags, please."), field="tags", params={"n": MAX_TAGS}
            )
        values["tags"] = [t for t in tags if t]
    return values


def update_profile(
    session: Session,
    participant: Participant,
    data: ProfileData,
    *,
    user_id: int | None = None,
    now: datetime | None = None,
) -> Organization:
    """Change the company profile of ``participant`` and confirm it for this event.

    Raises :class:`DeadlinePassed` outside the profile phases (unless an organizer
    edits: ``user_id`` given) and :class:`ValidationFailed` naming the field.
    """
    if user_id is None:
        check_profile_editable(participant.event)
    organization = participant.organization
    values = _validated(data)
    if "name" in values:
        key = company_name_key(values["name"])
        twin = organization_named(session, values["name"], other_than=organization.id)
        if twin is not None:
            raise ValidationFailed(
                N_(
                    "Another company in the directory is called %(name)s. Please contact "
                    "the organizer if this is your company."
                ),
                field="name",
                params={"name": twin.name},
            )
        values["name_key"] = key
    changed = {
        name: value
        for name, value in values.items()
        if not _same(getattr(organization, name), value)
    }
    if changed and user_id is None and not participant.company_edit_allowed:
        raise ValidationFailed(
            N_(
                "%(name)s is in the directory from earlier fairs, and the organizer has not "
                "yet confirmed that you are its contact, so its company profile cannot be "
                "changed from this link. Please ask the organizer; your department can be "
                "saved."
            ),
            params={"name": organization.name},
        )
    for name, value in changed.items():
        setattr(organization, name, value)
    if data.department is not None:
        department = _clean(data.department, "department", 200)
        if department != participant.department:
            changed["department"] = department
            participant.department = department
    participant.profile_confirmed_at = now or utcnow()
    session.flush()
    audit.record(
        session,
        "profile.update",
        event_id=participant.event_id,
        user_id=user_id,
        participant_id=participant.id,
        target=organization,
        details={"changed": sorted(changed)},
    )
    return organization


# --------------------------------------------------------------------------- needs


@dataclass(slots=True)
class NeedData:
    """A buyer's need (発注ニーズ) as submitted."""

    title: str
    technologies: list[str] = field(default_factory=list)
    material: str = ""
    lot_size: str = ""
    timing: str = ""
    description: str = ""
    published: bool = True


def _need_values(data: NeedData) -> dict[str, Any]:
    title = _clean(data.title, "title", 200)
    if not title:
        raise ValidationFailed(N_("Please give the need a title."), field="title")
    lot_size = data.lot_size or ""
    if lot_size and lot_size not in {t.code for t in LOT_SIZES}:
        raise ValidationFailed(
            N_("Unknown choice: %(value)s."), field="lot_size", params={"value": lot_size}
        )
    return {
        "title": title,
        "technologies": _known(data.technologies, set(TECHNOLOGIES), "technologies"),
        "material": _clean(data.material, "material", 200),
        "lot_size": lot_size,
        "timing": _clean(data.timing, "timing", 100),
        "description": _clean(data.description, "description", MAX_TEXT_LENGTH),
        "published": bool(data.published),
    }


def _check_buyer(participant: Participant, user_id: int | None) -> None:
    if participant.role != ParticipantRole.BUYER:
        raise PermissionDenied(N_("Only buyers publish needs."))
    if user_id is None:
        check_profile_editable(participant.event)


def get_need(session: Session, participant: Participant, need_id: int) -> Need:
    """One of ``participant``'s own needs; :class:`NotFound` for anyone else's."""
    need = session.get(Need, need_id)
    if need is None or need.participant_id != participant.id:
        raise NotFound(N_("This need does not exist."))
    return need


def add_need(
    session: Session, participant: Participant, data: NeedData, *, user_id: int | None = None
) -> Need:
    """Add a need to a buyer's list (profile phases only, unless an organizer adds it)."""
    _check_buyer(participant, user_id)
    need = Need(participant=participant, **_need_values(data))
    session.add(need)
    session.flush()
    audit.record(
        session,
        "need.create",
        event_id=participant.event_id,
        user_id=user_id,
        participant_id=participant.id,
        target=need,
    )
    return need


def update_need(
    session: Session,
    participant: Participant,
    need_id: int,
    data: NeedData,
    *,
    user_id: int | None = None,
) -> Need:
    """Change one of the buyer's own needs."""
    _check_buyer(participant, user_id)
    need = get_need(session, participant, need_id)
    values = _need_values(data)
    changed = sorted(name for name, value in values.items() if getattr(need, name) != value)
    for name, value in values.items():
        setattr(need, name, value)
    session.flush()
    audit.record(
        session,
        "need.update",
        event_id=participant.event_id,
        user_id=user_id,
        participant_id=participant.id,
        target=need,
        details={"changed": changed},
    )
    return need


def delete_need(
    session: Session, participant: Participant, need_id: int, *, user_id: int | None = None
) -> None:
    """Delete one of the buyer's own needs (with the proposals made for it)."""
    _check_buyer(participant, user_id)
    need = get_need(session, participant, need_id)
    audit.record(
        session,
        "need.delete",
        event_id=participant.event_id,
        user_id=user_id,
        participant_id=participant.id,
        target=need,
        details={"title": need.title},
    )
    session.delete(need)
    session.flush()
