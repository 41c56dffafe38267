"""Needs first (the Japanese fair's own workflow): proposal sheets and their screening.

Buyers publish needs (発注ニーズ) before the fair. A supplier applies to one need
with a proposal sheet (商談シート): what it offers for that need, relevant results,
equipment, and optionally one attachment (a PDF catalogue or a PNG/JPEG image).
The buyer screens the sheets (書類選考) and accepts each with a level or declines
it with an optional note; the supplier may withdraw a sheet until it is decided.

A sheet is a request to that buyer: it creates the supplier→buyer
:class:`~scheduler.models.Interest` (source ``proposal``) and counts toward the
supplier's request cap once per buyer, however many of that buyer's needs it
applies to. The buyer's decision sets the buyer→supplier interest (source
``proposal``): accepted with the highest level it gave any of the supplier's sheets,
declined only when it declined them all — a decline removes the pair. Where the
buyer requested that supplier itself, its request stands for it instead: a sheet
accepted at a higher level raises it, nothing lowers or declines it. So does the
buyer's answer to the supplier's own meeting request (screening, while that request
stands and screening is on): a sheet turned down is about one need and leaves an
accepted meeting as the buyer answered it, note and all; only accepting a sheet
changes a declined answer (to accepted, without the decline's stale note).

Attachments are checked by their first bytes, not their name, and stored under
the uploads folder with a random name; only the buyer of the need, the supplier
itself and organizers may download them (the web layer serves them).
"""

from __future__ import annotations

import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from scheduler import audit
from scheduler.db import utcnow
from scheduler.errors import Conflict, NotFound, ValidationFailed
from scheduler.i18n import N_
from scheduler.models import (
    Interest,
    Need,
    Participant,
    ParticipantRole,
    ParticipantStatus,
    Proposal,
    ProposalStatus,
)
from scheduler.preferences import (
    HIGH,
    PROPOSAL_SOURCE,
    REQUEST_SOURCES,
    SCREENING_SOURCE,
    check_cap,
    check_level,
    check_open,
    clean_note,
    interest_between,
    lock_requests,
)

#: Default size limit of an attachment (the app's ``PROPOSAL_MAX_BYTES`` overrides it).
DEFAULT_MAX_ATTACHMENT_BYTES = 5 * 1024 * 1024
MAX_TEXT_LENGTH = 5000
ATTACHMENT_FOLDER = "proposals"

#: Accepted attachment types: (magic bytes at the start, MIME type, stored extension).
ATTACHMENT_TYPES: tuple[tuple[bytes, str, str], ...] = (
    (b"%PDF-", "application/pdf", ".pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
)
_NAME_SUFFIXES = {
    "application/pdf": (".pdf",),
    "image/png": (".png",),
    "image/jpeg": (".jpg", ".jpeg"),
}
#: Sheets that count toward the request cap: a declined sheet frees its place.
ACTIVE_STATUSES = (ProposalStatus.SUBMITTED, ProposalStatus.ACCEPTED)
#: Sheets that keep the supplier's interest in the buyer (a decision can still change).
STANDING_STATUSES = (*ACTIVE_STATUSES, ProposalStatus.DECLINED)


@dataclass(slots=True)
class ProposalData:
    """A proposal sheet as submitted; ``level`` is the supplier's own interest in the buyer."""

    offer: str
    track_record: str = ""
    equipment: str = ""
    level: int = HIGH


@dataclass(frozen=True, slots=True)
class Attachment:
    """An uploaded file: the name the supplier gave it and its bytes."""

    filename: str
    content: bytes


def sniff_type(content: bytes) -> tuple[str, str] | None:
    """(MIME type, extension) of a PDF, PNG or JPEG by its first bytes, else None."""
    for magic, mime, extension in ATTACHMENT_TYPES:
        if content.startswith(magic):
            return mime, extension
    return None


def check_attachment(attachment: Attachment, max_bytes: int) -> tuple[str, str]:
    """(MIME type, extension) of an acceptable attachment; :class:`ValidationFailed` otherwise.

    The name must end in the extension of what the bytes really are, so a ".pdf"
    that is really an image or a program is refused, and so is an empty file.
    """
    if len(attachment.content) > max_bytes:
        raise ValidationFailed(
            N_("The file is larger than %(mb)s MB."),
            field="attachment",
            params={"mb": round(max_bytes / 1024 / 1024, 1)},
        )
    sniffed = sniff_type(attachment.content)
    name = attachment.filename.lower().strip()
    if sniffed is None or not name.endswith(_NAME_SUFFIXES[sniffed[0]]):
        raise ValidationFailed(
            N_("Please attach a PDF, PNG or JPEG file; this file is not one of those."),
            field="attachment",
        )
    return sniffed


def _display_name(filename: str, extension: str) -> str:
    """The original file name without any folder part, safe to offer as a download name."""
    name = PurePosixPath(filename.replace("\\", "/")).name
    name = "".join(ch for ch in unicodedata.normalize("NFC", name)
                   if unicodedata.category(ch)[0] != "C").strip()
    return (name or f"attachment{extension}")[:200]


def _clean_text(value: str, field_name: str) -> str:
    text = "".join(
        ch for ch in unicodedata.normalize("NFC", value or "")
        if ch in "\n\t" or unicodedata.category(ch) != "Cc"
    ).strip()
    if len(text) > MAX_TEXT_LENGTH:
        raise ValidationFailed(
            N_("This is too long: at most %(n)d characters."),
            field=field_name,
            params={"n": MAX_TEXT_LENGTH},
        )
    return text


# --------------------------------------------------------------------------- needs


def published_needs(session: Session, supplier: Participant) -> list[Need]:
    """The published needs of the approved buyers in ``supplier``'s event, by buyer code."""
    return list(
        session.scalars(
            select(Need)
            .join(Participant, Participant.id == Need.participant_id)
            .where(
                Participant.event_id == supplier.event_id,
                Participant.role == ParticipantRole.BUYER,
                Participant.status == ParticipantStatus.APPROVED,
                Need.published.is_(True),
            )
            .options(selectinload(Need.participant).selectinload(Participant.organization))
            .order_by(Participant.code, Participant.id, Need.id)
        )
    )


def need_for_supplier(session: Session, supplier: Participant, need_id: int) -> Need:
    """A published need ``supplier`` may apply to, else :class:`NotFound`."""
    if supplier.role != ParticipantRole.SUPPLIER or supplier.status != ParticipantStatus.APPROVED:
        raise NotFound(N_("This need does not exist."))
    need = session.get(Need, need_id)
    if (
        need is None
        or not need.published
        or need.participant.event_id != supplier.event_id
        or need.participant.role != ParticipantRole.BUYER
        or need.participant.status != ParticipantStatus.APPROVED
    ):
        raise NotFound(N_("This need does not exist."))
    return need


def proposal_of(session: Session, supplier: Participant, need_id: int) -> Proposal | None:
    """``supplier``'s sheet for the need, if it made one (withdrawn ones too)."""
    return session.scalar(
        select(Proposal).where(Proposal.need_id == need_id, Proposal.supplier_id == supplier.id)
    )


# --------------------------------------------------------------------------- the supplier


def submit_proposal(
    session: Session,
    supplier: Participant,
    need_id: int,
    data: ProposalData,
    attachment: Attachment | None = None,
    *,
    uploads_dir: Path,
    max_bytes: int = DEFAULT_MAX_ATTACHMENT_BYTES,
    user_id: int | None = None,
    now: datetime | None = None,
) -> Proposal:
    """Apply to a need with a proposal sheet, or change a sheet not yet decided.

    A withdrawn sheet is submitted again. A new attachment replaces the old one.
    Raises :class:`DeadlinePassed` outside the request period, :class:`NotFound`
    for a need the supplier cannot see, :class:`Conflict` once the buyer decided,
    and :class:`ValidationFailed` (field named) for bad text, file or the cap.
    """
    check_open(supplier.event, user_id, now)
    need = need_for_supplier(session, supplier, need_id)
    buyer = need.participant
    offer = _clean_text(data.offer, "offer")
    if not offer:
        raise ValidationFailed(N_("Please describe what you offer for this need."),
                               field="offer")
    values = {
        "offer": offer,
        "track_record": _clean_text(data.track_record, "track_record"),
        "equipment": _clean_text(data.equipment, "equipment"),
    }
    level = check_level(data.level)
    checked = check_attachment(attachment, max_bytes) if attachment is not None else None
    # The cap is checked and the sheet saved under the supplier's lock, as a request
    # is; the sheet is read afresh under it (the buyer may have just decided on it).
    lock_requests(session, supplier)
    proposal = proposal_of(session, supplier, need.id)
    if proposal is not None:
        session.refresh(proposal)
    if proposal is not None and proposal.status in (
        ProposalStatus.ACCEPTED, ProposalStatus.DECLINED
    ):
        raise Conflict(N_("The buyer has already decided on this proposal sheet."))
    check_cap(session, supplier, buyer.id)
    created = proposal is None
    if proposal is None:
        proposal = Proposal(event_id=supplier.event_id, need_id=need.id, supplier_id=supplier.id)
        session.add(proposal)
    for name, value in values.items():
        setattr(proposal, name, value)
    proposal.status = ProposalStatus.SUBMITTED
    if level is not None:
        proposal.supplier_level = level
    proposal.level = 0
    proposal.buyer_note = ""
    proposal.decided_at = None
    if attachment is not None and checked is not None:
        _remove_file(uploads_dir, proposal.attachment_path)
        mime, extension = checked
        relative = f"{ATTACHMENT_FOLDER}/{secrets.token_hex(16)}{extension}"
        target = uploads_dir / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(attachment.content)
        proposal.attachment_path = relative
        proposal.attachment_name = _display_name(attachment.filename, extension)
        proposal.attachment_type = mime
        proposal.attachment_size = len(attachment.content)
    session.flush()
    _sync_supplier_interest(session, supplier, buyer, level)
    audit.record(
        session, "proposal.submit" if created else "proposal.update",
        event_id=supplier.event_id, user_id=user_id, participant_id=supplier.id,
        target=proposal, details={"need": need.id, "attachment": bool(proposal.attachment_path)},
    )
    return proposal


def _sync_supplier_interest(
    session: Session, supplier: Participant, buyer: Participant, level: int | None
) -> None:
    """The supplier→buyer interest that its sheets stand for.

    Created (source ``proposal``) with ``level`` while a sheet to this buyer stands
    (not withdrawn), removed when none is left. A direct request of the supplier stays as
    it is: the sheet adds nothing the request does not already say.
    """
    interest = interest_between(session, supplier.id, buyer.id, fresh=True)
    if interest is not None and interest.source in REQUEST_SOURCES:
        return
    standing = session.scalars(
        select(Proposal.supplier_level)
        .join(Need, Need.id == Proposal.need_id)
        .where(
            Proposal.supplier_id == supplier.id,
            Need.participant_id == buyer.id,
            Proposal.status.in_(STANDING_STATUSES),
        )
    ).all()
    if not standing:
        if interest is not None and interest.source == PROPOSAL_SOURCE:
            session.delete(interest)
            session.flush()
        return
    if interest is None:
        # Created again (after a request of its own ended): at the level the supplier
        # gave with its sheets, not a guess.
        stated = max((lv for lv in standing if lv), default=None)
        interest = Interest(
            event_id=supplier.event_id, from_participant_id=supplier.id,
            to_participant_id=buyer.id, source=PROPOSAL_SOURCE, level=level or stated or HIGH,
        )
        session.add(interest)
    else:
        interest.source = PROPOSAL_SOURCE
        interest.declined = False
        if level is not None:
            interest.level = level
    session.flush()


def withdraw_proposal(
    session: Session,
    supplier: Participant,
    proposal_id: int,
    *,
    uploads_dir: Path,
    user_id: int | None = None,
    now: datetime | None = None,
) -> Proposal:
    """Withdraw one's own sheet before the buyer decides (its attachment is deleted)."""
    check_open(supplier.event, user_id, now)
    lock_requests(session, supplier)
    proposal = session.get(Proposal, proposal_id, populate_existing=True)
    if proposal is None or proposal.supplier_id != supplier.id:
        raise NotFound(N_("This proposal sheet does not exist."))
    if proposal.status != ProposalStatus.SUBMITTED:
        raise Conflict(N_("Only a proposal sheet not yet decided can be withdrawn."))
    proposal.status = ProposalStatus.WITHDRAWN
    _remove_file(uploads_dir, proposal.attachment_path)
    proposal.attachment_path = ""
    proposal.attachment_name = ""
    proposal.attachment_type = ""
    proposal.attachment_size = 0
    session.flush()
    _sync_supplier_interest(session, supplier, proposal.need.participant, None)
    audit.record(
        session, "proposal.withdraw", event_id=supplier.event_id, user_id=user_id,
        participant_id=supplier.id, target=proposal,
    )
    return proposal


def proposals_of_supplier(session: Session, supplier: Participant) -> list[Proposal]:
    """The supplier's own sheets (withdrawn ones too), newest first."""
    return list(
        session.scalars(
            select(Proposal)
            .where(Proposal.supplier_id == supplier.id)
            .options(selectinload(Proposal.need).selectinload(Need.participant)
                     .selectinload(Participant.organization))
            .order_by(Proposal.id.desc())
        )
    )


# --------------------------------------------------------------------------- the buyer


def proposals_for_buyer(session: Session, buyer: Participant) -> list[tuple[Need, list[Proposal]]]:
    """Each of the buyer's needs with the sheets received (not withdrawn), oldest first."""
    result = []
    for need in buyer.needs:
        sheets = session.scalars(
            select(Proposal)
            .join(Participant, Participant.id == Proposal.supplier_id)
            .where(
                Proposal.need_id == need.id,
                Proposal.status != ProposalStatus.WITHDRAWN,
                Participant.status == ParticipantStatus.APPROVED,
            )
            .options(selectinload(Proposal.supplier).selectinload(Participant.organization))
            .order_by(Proposal.id)
        ).all()
        result.append((need, list(sheets)))
    return result


def buyer_proposal(session: Session, buyer: Participant, proposal_id: int) -> Proposal:
    """A sheet sent to one of ``buyer``'s needs (not withdrawn), else :class:`NotFound`."""
    proposal = session.get(Proposal, proposal_id)
    if (
        proposal is None
        or proposal.need.participant_id != buyer.id
        or proposal.status == ProposalStatus.WITHDRAWN
        or proposal.supplier.status != ParticipantStatus.APPROVED
    ):
        raise NotFound(N_("This proposal sheet does not exist."))
    return proposal


def decide_proposal(
    session: Session,
    buyer: Participant,
    proposal_id: int,
    *,
    accept: bool,
    level: int = HIGH,
    note: str = "",
    user_id: int | None = None,
    now: datetime | None = None,
) -> Proposal:
    """Screen a sheet (書類選考): accept with a level, or decline, with an optional note.

    The decision can be changed until the deadline. It sets the buyer→supplier
    interest (source ``proposal``): accepted at the highest level over the
    supplier's accepted sheets, declined when none is accepted and one is declined.
    A request the buyer made itself to this supplier stays its own
    (:func:`_sync_buyer_interest`).
    """
    check_open(buyer.event, user_id, now)
    proposal = buyer_proposal(session, buyer, proposal_id)
    if accept:
        level = check_level(level)
    note = clean_note(note)
    # Both sides' interests are written: under both locks, so neither side's own
    # request made at the same moment meets a row it did not read.
    lock_requests(session, buyer, proposal.supplier)
    session.refresh(proposal)
    if proposal.status == ProposalStatus.WITHDRAWN:
        raise NotFound(N_("This proposal sheet does not exist."))
    proposal.buyer_note = note
    proposal.status = ProposalStatus.ACCEPTED if accept else ProposalStatus.DECLINED
    proposal.level = level if accept else 0
    proposal.decided_at = now or utcnow()
    session.flush()
    _sync_buyer_interest(session, buyer, proposal.supplier)
    # The application itself stands for the supplier's side, even if the supplier
    # withdrew a direct request meanwhile.
    _sync_supplier_interest(session, proposal.supplier, buyer, None)
    audit.record(
        session, "proposal.accept" if accept else "proposal.decline",
        event_id=buyer.event_id, user_id=user_id, participant_id=buyer.id, target=proposal,
        details={"supplier": proposal.supplier_id, "level": proposal.level},
    )
    return proposal


def _sync_buyer_interest(session: Session, buyer: Participant, supplier: Participant) -> None:
    """The buyer→supplier interest that its decisions on the supplier's sheets stand for.

    Accepted at the highest level given any of the supplier's sheets, declined when
    none is accepted and one is declined; nothing while no sheet is decided. A
    request the buyer made itself (:data:`REQUEST_SOURCES`) says more than a sheet:
    it stays the buyer's own, listed and counted as such. An accepted sheet may only
    raise its level; a lower level or a declined sheet leaves it as it is (the buyer
    asked for this supplier, whatever it thought of one sheet). The buyer's screening
    answer to the supplier's standing request is kept alike (:func:`buyer_answer`),
    except that an accepted sheet turns a declined answer into an accepted pair.
    Otherwise the interest says what the sheets do, without a note (their notes are
    on the sheets).
    """
    decided = session.scalars(
        select(Proposal)
        .join(Need, Need.id == Proposal.need_id)
        .where(
            Proposal.supplier_id == supplier.id,
            Need.participant_id == buyer.id,
            Proposal.status.in_((ProposalStatus.ACCEPTED, ProposalStatus.DECLINED)),
        )
    ).all()
    if not decided:
        return
    accepted = [p.level for p in decided if p.status == ProposalStatus.ACCEPTED]
    interest = interest_between(session, buyer.id, supplier.id, fresh=True)
    standing = interest is not None and buyer_answer(
        session, buyer, supplier, interest=interest
    ) is not None
    if interest is not None and standing and not interest.declined:
        if accepted and max(accepted) > interest.level:
            interest.level = max(accepted)
            session.flush()
        return
    if interest is not None and standing and not accepted:
        return  # declined the supplier's request and its sheets alike: the answer says it
    if interest is None:
        interest = Interest(
            event_id=buyer.event_id, from_participant_id=buyer.id,
            to_participant_id=supplier.id, source=PROPOSAL_SOURCE,
        )
        session.add(interest)
    interest.source = PROPOSAL_SOURCE
    interest.declined = not accepted
    interest.level = max(accepted) if accepted else 0
    # The sheets carry the buyer's notes; a note left from an answer this replaces (an
    # accepting "Looking forward…") must not be shown beside "Declined", nor the reason
    # of a decline beside "Accepted".
    interest.note = ""
    session.flush()


def buyer_answer(
    session: Session, buyer: Participant, supplier: Participant, *,
    interest: Interest | None = None,
) -> Interest | None:
    """The buyer's own word on the pair that its decisions on sheets do not overturn.

    Its own request to the supplier, or its screening answer to the supplier's meeting
    request while that request stands and screening is on (the buyer sees and changes
    it on the requests it received). None otherwise: then the sheets' decisions are the
    buyer's side of the pair. ``interest`` is the buyer→supplier row when already read.
    """
    if interest is None:
        interest = interest_between(session, buyer.id, supplier.id)
    if interest is None:
        return None
    if interest.source in REQUEST_SOURCES:
        return interest
    if interest.source != SCREENING_SOURCE or not buyer.event.screening_enabled:
        return None
    asked = interest_between(session, supplier.id, buyer.id)
    if asked is None or asked.source not in REQUEST_SOURCES or asked.declined:
        return None
    return interest


def buyer_answers(session: Session, buyer: Participant) -> dict[int, Interest]:
    """:func:`buyer_answer` for every supplier, by supplier id, in two queries (for the
    sheets page: what a decision on one of their sheets does not change)."""
    mine = {
        i.to_participant_id: i
        for i in session.scalars(select(Interest).where(Interest.from_participant_id == buyer.id))
    }
    asked = set(
        session.scalars(
            select(Interest.from_participant_id).where(
                Interest.to_participant_id == buyer.id,
                Interest.source.in_(REQUEST_SOURCES),
                Interest.declined.is_(False),
            )
        )
    )
    screening = buyer.event.screening_enabled
    return {
        supplier_id: interest for supplier_id, interest in mine.items()
        if interest.source in REQUEST_SOURCES
        or (interest.source == SCREENING_SOURCE and screening and supplier_id in asked)
    }


def restore_decisions(session: Session, requester: Participant, counterpart_id: int) -> None:
    """Put what the sheets between the two say back in place of a withdrawn request.

    A buyer's request stood for its decisions on the supplier's sheets
    (:func:`_sync_buyer_interest`); once withdrawn, what it decided counts again, so an
    accepted sheet still brings the pair to the solver and a declined one still keeps
    it out. A supplier's request stood for its own standing sheets to the buyer
    (:func:`_sync_supplier_interest`); once withdrawn, a sheet that still stands asks
    for the meeting again, as it did before the request. :func:`scheduler.preferences.
    withdraw_request` calls this after deleting the request.
    """
    counterpart = session.get(Participant, counterpart_id)
    if counterpart is None or counterpart.event_id != requester.event_id:
        return
    if requester.role == ParticipantRole.BUYER:
        _sync_buyer_interest(session, requester, counterpart)
    elif counterpart.role == ParticipantRole.BUYER:
        _sync_supplier_interest(session, requester, counterpart, None)
        # The buyer's answer to that request stood for its decisions on the supplier's
        # sheets (:func:`buyer_answer`); the request gone, the decisions count again:
        # sheets it declined keep the pair out (review: an acceptance of the withdrawn
        # request otherwise brought a pair to the solver whose every sheet it declined).
        _sync_buyer_interest(session, counterpart, requester)


# --------------------------------------------------------------------------- attachments


def attachment_for_participant(
    session: Session, participant: Participant, proposal_id: int
) -> Proposal:
    """A sheet whose attachment ``participant`` may download: the need's buyer or the supplier.

    Anyone else, a withdrawn sheet, or a sheet without attachment: :class:`NotFound`.
    """
    proposal = session.get(Proposal, proposal_id)
    if proposal is None or not proposal.attachment_path:
        raise NotFound(N_("This file does not exist."))
    if proposal.supplier_id == participant.id:
        return proposal
    if (
        proposal.need.participant_id == participant.id
        and proposal.status != ProposalStatus.WITHDRAWN
    ):
        return proposal
    raise NotFound(N_("This file does not exist."))


def attachment_file(uploads_dir: Path, proposal: Proposal) -> Path:
    """Where a sheet's attachment is stored; refuses paths that leave the uploads folder."""
    root = uploads_dir.resolve()
    path = (root / proposal.attachment_path).resolve()
    if not proposal.attachment_path or root not in path.parents or not path.is_file():
        raise NotFound(N_("This file does not exist."))
    return path


def _remove_file(uploads_dir: Path, relative: str) -> None:
    if relative:
        root = uploads_dir.resolve()
        path = (root / relative).resolve()
        if root in path.parents:
            path.unlink(missing_ok=True)


def organizer_proposal(session: Session, event_id: int, proposal_id: int) -> Proposal:
    """A sheet of event ``event_id`` (for organizers), else :class:`NotFound`."""
    proposal = session.get(Proposal, proposal_id)
    if proposal is None or proposal.event_id != event_id:
        raise NotFound(N_("This proposal sheet does not exist."))
    return proposal
