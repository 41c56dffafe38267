"""Proposal sheets (商談シート): applying to a need, attachments, the buyer's screening."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from scheduler import preferences, proposals
from scheduler.errors import Conflict, DeadlinePassed, NotFound, ValidationFailed
from scheduler.models import Need, Phase, ProposalStatus
from scheduler.proposals import Attachment, ProposalData
from tests.participant_fair import make_fair

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32
EXE = b"MZ\x90\x00" + b"\x00" * 32


@pytest.fixture
def fair(db_session: Session):
    fair = make_fair(db_session, phase=Phase.PREFERENCES)
    db_session.commit()
    return fair


@pytest.fixture
def uploads(tmp_path: Path) -> Path:
    return tmp_path / "uploads"


def _submit(db_session, fair, uploads, attachment=None, *, supplier=None, need=None, **kw):
    return proposals.submit_proposal(
        db_session, supplier or fair.supplier, (need or fair.need).id,
        ProposalData(offer="5軸加工でアルミ筐体を一体削り出しします", track_record="試作30件",
                     equipment="DMG MORI", **kw),
        attachment, uploads_dir=uploads,
    )


def _pair(db_session, fair, supplier=None):
    supplier = supplier or fair.supplier
    return {frozenset((p.a, p.b)): p
            for p in preferences.requested_pairs(db_session, fair.event)
            }.get(frozenset((supplier.id, fair.buyer.id)))


# --------------------------------------------------------------------------- attachments


@pytest.mark.parametrize(
    ("filename", "content", "mime"),
    [("catalogue.pdf", PDF, "application/pdf"), ("photo.PNG", PNG, "image/png"),
     ("photo.jpeg", JPEG, "image/jpeg"), ("photo.jpg", JPEG, "image/jpeg")],
)
def test_pdf_png_jpeg_are_stored_under_a_random_name(
    db_session, fair, uploads, filename: str, content: bytes, mime: str
) -> None:
    proposal = _submit(db_session, fair, uploads, Attachment(filename, content))
    assert proposal.attachment_type == mime
    assert proposal.attachment_name == filename
    assert proposal.attachment_size == len(content)
    stored = proposals.attachment_file(uploads, proposal)
    assert stored.read_bytes() == content
    assert filename.rsplit(".", 1)[0] not in stored.name  # random, not the supplier's name


@pytest.mark.parametrize(
    ("filename", "content"),
    [("catalogue.pdf", PNG), ("catalogue.pdf", EXE), ("setup.exe", EXE), ("image.png", PDF),
     ("catalogue.pdf", b""), ("notes.txt", b"%PDF-1.4 but named .txt")],
)
def test_type_is_checked_by_magic_bytes_not_the_name(
    db_session, fair, uploads, filename: str, content: bytes
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        _submit(db_session, fair, uploads, Attachment(filename, content))
    assert caught.value.field == "attachment"
    assert not (uploads / proposals.ATTACHMENT_FOLDER).exists()


def test_size_limit(db_session, fair, uploads) -> None:
    big = PDF + b"0" * 2048
    with pytest.raises(ValidationFailed) as caught:
        proposals.submit_proposal(
            db_session, fair.supplier, fair.need.id, ProposalData(offer="提案"),
            Attachment("big.pdf", big), uploads_dir=uploads, max_bytes=2048,
        )
    assert caught.value.field == "attachment"
    proposals.submit_proposal(
        db_session, fair.supplier, fair.need.id, ProposalData(offer="提案"),
        Attachment("ok.pdf", big[:2048]), uploads_dir=uploads, max_bytes=2048,
    )


def test_folder_names_in_the_file_name_are_dropped(db_session, fair, uploads) -> None:
    proposal = _submit(db_session, fair, uploads, Attachment("..\\..\\etc/会社案内.pdf", PDF))
    assert proposal.attachment_name == "会社案内.pdf"


def test_only_the_buyer_and_the_supplier_may_download(db_session, fair, uploads) -> None:
    proposal = _submit(db_session, fair, uploads, Attachment("a.pdf", PDF))
    for allowed in (fair.buyer, fair.supplier):
        assert proposals.attachment_for_participant(db_session, allowed, proposal.id) is proposal
    for refused in (fair.other_buyer, fair.other_supplier):
        with pytest.raises(NotFound):
            proposals.attachment_for_participant(db_session, refused, proposal.id)
    assert proposals.organizer_proposal(db_session, fair.event.id, proposal.id) is proposal
    with pytest.raises(NotFound):
        proposals.organizer_proposal(db_session, fair.event.id + 1, proposal.id)


# --------------------------------------------------------------------------- applying


def test_applying_is_a_request_to_the_buyer_counted_once(db_session, fair, uploads) -> None:
    second = Need(participant=fair.buyer, title="板金カバー", technologies=["sheet_metal.bending"])
    db_session.add(second)
    db_session.flush()
    fair.event.max_requests = 1
    _submit(db_session, fair, uploads, level=2)
    _submit(db_session, fair, uploads, need=second)  # same buyer: costs nothing more
    assert preferences.remaining_requests(db_session, fair.supplier) == 0
    pair = _pair(db_session, fair)  # the level last stated for this buyer counts
    assert (pair.weight, pair.sources) == (3, ("proposal",))
    with pytest.raises(ValidationFailed) as caught:
        preferences.request_meeting(db_session, fair.supplier, fair.other_buyer.id, level=2)
    assert caught.value.params == {"cap": 1}


def test_unpublished_or_foreign_needs_cannot_be_applied_to(db_session, fair, uploads) -> None:
    fair.need.published = False
    with pytest.raises(NotFound):
        _submit(db_session, fair, uploads)
    fair.need.published = True
    with pytest.raises(NotFound):  # buyers do not apply
        _submit(db_session, fair, uploads, supplier=fair.other_buyer)
    other = make_fair(db_session, phase=Phase.PREFERENCES, slug="other")
    with pytest.raises(NotFound):
        _submit(db_session, fair, uploads, need=other.need)


def test_empty_offer_and_phase(db_session, fair, uploads) -> None:
    with pytest.raises(ValidationFailed) as caught:
        proposals.submit_proposal(db_session, fair.supplier, fair.need.id,
                                  ProposalData(offer="   "), uploads_dir=uploads)
    assert caught.value.field == "offer"
    fair.event.phase = Phase.SCHEDULING
    with pytest.raises(DeadlinePassed):
        _submit(db_session, fair, uploads)


def test_withdraw_before_the_decision_removes_file_and_interest(db_session, fair, uploads) -> None:
    proposal = _submit(db_session, fair, uploads, Attachment("a.pdf", PDF))
    stored = proposals.attachment_file(uploads, proposal)
    proposals.withdraw_proposal(db_session, fair.supplier, proposal.id, uploads_dir=uploads)
    assert proposal.status == ProposalStatus.WITHDRAWN
    assert not stored.exists()
    assert _pair(db_session, fair) is None
    assert proposals.proposals_for_buyer(db_session, fair.buyer)[0][1] == []
    # Submitting again reopens the same sheet.
    again = _submit(db_session, fair, uploads)
    assert again.id == proposal.id and again.status == ProposalStatus.SUBMITTED


def test_a_direct_request_survives_withdrawing_the_sheet(db_session, fair, uploads) -> None:
    preferences.request_meeting(db_session, fair.supplier, fair.buyer.id, level=1)
    proposal = _submit(db_session, fair, uploads)
    proposals.withdraw_proposal(db_session, fair.supplier, proposal.id, uploads_dir=uploads)
    assert _pair(db_session, fair).sources == ("request",)


def test_only_the_supplier_withdraws_and_only_before_a_decision(db_session, fair, uploads) -> None:
    proposal = _submit(db_session, fair, uploads)
    with pytest.raises(NotFound):
        proposals.withdraw_proposal(db_session, fair.other_supplier, proposal.id,
                                    uploads_dir=uploads)
    proposals.decide_proposal(db_session, fair.buyer, proposal.id, accept=True, level=2)
    with pytest.raises(Conflict):
        proposals.withdraw_proposal(db_session, fair.supplier, proposal.id, uploads_dir=uploads)
    with pytest.raises(Conflict):
        _submit(db_session, fair, uploads)


# --------------------------------------------------------------------------- screening


def test_accept_makes_a_mutual_pair_with_the_buyers_level(db_session, fair, uploads) -> None:
    proposal = _submit(db_session, fair, uploads, level=3)
    assert _pair(db_session, fair).weight == 3  # undecided: neutral
    proposals.decide_proposal(db_session, fair.buyer, proposal.id, accept=True, level=2,
                              note="ぜひ詳しく")
    assert (proposal.status, proposal.level, proposal.buyer_note) == ("accepted", 2, "ぜひ詳しく")
    assert proposal.decided_at is not None
    back = preferences.interest_between(db_session, fair.buyer.id, fair.supplier.id)
    assert (back.source, back.level, back.declined) == ("proposal", 2, False)
    pair = _pair(db_session, fair)
    assert (pair.weight, pair.mutual) == (preferences.pair_weight(3, 2, False), True)


def test_decline_removes_the_pair_and_frees_the_cap(db_session, fair, uploads) -> None:
    fair.event.max_requests = 1
    proposal = _submit(db_session, fair, uploads)
    proposals.decide_proposal(db_session, fair.buyer, proposal.id, accept=False,
                              note="今回は見送り")
    back = preferences.interest_between(db_session, fair.buyer.id, fair.supplier.id)
    assert back.declined and back.level == 0
    assert _pair(db_session, fair) is None
    assert preferences.remaining_requests(db_session, fair.supplier) == 1
    # The buyer may change its mind before the deadline.
    proposals.decide_proposal(db_session, fair.buyer, proposal.id, accept=True, level=1)
    assert _pair(db_session, fair).weight == preferences.pair_weight(3, 1, False)


def test_one_accepted_sheet_outweighs_a_declined_one(db_session, fair, uploads) -> None:
    second = Need(participant=fair.buyer, title="量産部品", technologies=["machining.turning"])
    db_session.add(second)
    db_session.flush()
    first = _submit(db_session, fair, uploads)
    other = _submit(db_session, fair, uploads, need=second)
    proposals.decide_proposal(db_session, fair.buyer, first.id, accept=False)
    proposals.decide_proposal(db_session, fair.buyer, other.id, accept=True, level=3)
    assert _pair(db_session, fair).mutual


def test_only_the_needs_buyer_decides(db_session, fair, uploads) -> None:
    proposal = _submit(db_session, fair, uploads)
    for intruder in (fair.other_buyer, fair.supplier, fair.other_supplier):
        with pytest.raises(NotFound):
            proposals.decide_proposal(db_session, intruder, proposal.id, accept=False)
    assert proposal.status == ProposalStatus.SUBMITTED


# ------------------------------------------------------------------- the buyer's own request


def test_accepting_a_sheet_keeps_the_buyers_own_request(db_session, fair, uploads) -> None:
    """B001 asked for S068 itself at 高 with a note; accepting S068's sheet at the form's
    中 must neither lower that to 中 nor turn the request into the sheet's decision."""
    preferences.request_meeting(db_session, fair.buyer, fair.supplier.id, level=3,
                                note="筐体の件で伺いたい")
    proposal = _submit(db_session, fair, uploads, level=2)
    proposals.decide_proposal(db_session, fair.buyer, proposal.id, accept=True, level=2)
    back = preferences.interest_between(db_session, fair.buyer.id, fair.supplier.id)
    assert (back.source, back.level, back.declined, back.note) == (
        "request", 3, False, "筐体の件で伺いたい")
    assert [r.counterpart.id for r in preferences.my_requests(db_session, fair.buyer)] == [
        fair.supplier.id]
    assert _pair(db_session, fair).weight == preferences.pair_weight(2, 3, False)


def test_a_sheet_accepted_higher_raises_the_buyers_request(db_session, fair, uploads) -> None:
    preferences.request_meeting(db_session, fair.buyer, fair.supplier.id, level=1,
                                source="suggestion")
    proposal = _submit(db_session, fair, uploads)
    proposals.decide_proposal(db_session, fair.buyer, proposal.id, accept=True, level=3)
    back = preferences.interest_between(db_session, fair.buyer.id, fair.supplier.id)
    assert (back.source, back.level, back.declined) == ("suggestion", 3, False)


def test_declining_a_sheet_does_not_decline_the_buyers_own_request(
    db_session, fair, uploads
) -> None:
    preferences.request_meeting(db_session, fair.buyer, fair.supplier.id, level=3)
    proposal = _submit(db_session, fair, uploads, level=2)
    proposals.decide_proposal(db_session, fair.buyer, proposal.id, accept=False,
                              note="この提案は見送り")
    back = preferences.interest_between(db_session, fair.buyer.id, fair.supplier.id)
    assert (back.source, back.level, back.declined) == ("request", 3, False)
    pair = _pair(db_session, fair)
    assert pair is not None and pair.mutual
    # Changing the decision back and forth leaves the request as the buyer made it.
    proposals.decide_proposal(db_session, fair.buyer, proposal.id, accept=True, level=1)
    proposals.decide_proposal(db_session, fair.buyer, proposal.id, accept=False)
    assert (back.source, back.level, back.declined) == ("request", 3, False)


@pytest.mark.parametrize(("accept", "level", "declined"), [(True, 2, False), (False, 0, True)])
def test_withdrawing_the_buyers_request_leaves_its_decision_on_the_sheet(
    db_session, fair, uploads, accept: bool, level: int, declined: bool
) -> None:
    preferences.request_meeting(db_session, fair.buyer, fair.supplier.id, level=3)
    proposal = _submit(db_session, fair, uploads)
    proposals.decide_proposal(db_session, fair.buyer, proposal.id, accept=accept, level=2)
    preferences.withdraw_request(db_session, fair.buyer, fair.supplier.id)
    back = preferences.interest_between(db_session, fair.buyer.id, fair.supplier.id)
    assert (back.source, back.level, back.declined) == ("proposal", level, declined)
    assert preferences.my_requests(db_session, fair.buyer) == []
    pair = _pair(db_session, fair)
    assert (pair is not None and pair.mutual) if accept else pair is None


def test_a_supplier_withdrawing_its_request_keeps_its_standing_sheet_asking(
    db_session, fair, uploads
) -> None:
    """Sheet first, then a direct request to the same buyer, then the request withdrawn:
    the sheet still stands and still asks for the meeting (before, nothing did, although
    the sheet kept counting against the cap)."""
    proposal = _submit(db_session, fair, uploads)
    preferences.request_meeting(db_session, fair.supplier, fair.buyer.id, level=2)
    assert preferences.interest_between(
        db_session, fair.supplier.id, fair.buyer.id).source == "request"
    preferences.withdraw_request(db_session, fair.supplier, fair.buyer.id)
    back = preferences.interest_between(db_session, fair.supplier.id, fair.buyer.id)
    assert back is not None and back.source == "proposal" and not back.declined
    assert proposal.status == "submitted"
    assert preferences.my_requests(db_session, fair.supplier) == []


def test_a_standing_sheet_asks_again_at_the_level_the_supplier_gave_it(
    db_session, fair, uploads
) -> None:
    """Review: after the supplier's own request ended, its sheet's interest came back as
    "high" whatever level the supplier had sent the sheet with."""
    _submit(db_session, fair, uploads, level=1)
    preferences.request_meeting(db_session, fair.supplier, fair.buyer.id, level=3)
    preferences.withdraw_request(db_session, fair.supplier, fair.buyer.id)
    back = preferences.interest_between(db_session, fair.supplier.id, fair.buyer.id)
    assert (back.source, back.level) == ("proposal", 1)


# ------------------------------------------------------- the buyer's answer to the request


def _answered_pair(db_session, fair, uploads, *, accept: bool):
    """QA: S001 requests B001 with a note and applies to its need; B001 answers the
    request on the requests it received, with a note."""
    preferences.request_meeting(db_session, fair.supplier, fair.buyer.id, level=3,
                                note="筐体の件で")
    proposal = _submit(db_session, fair, uploads)
    preferences.answer_request(db_session, fair.buyer, fair.supplier.id, accept=accept,
                               level=3, note="Looking forward…" if accept else "見送ります")
    return proposal


def test_declining_a_sheet_keeps_the_buyers_accepted_answer(db_session, fair, uploads) -> None:
    """QA: B001 accepted S001's request at High ("Looking forward…"), then turned down
    S001's sheet. The requests pages said "Declined" beside the accept note: the sheet's
    decline had silently overturned the answer and kept its note."""
    proposal = _answered_pair(db_session, fair, uploads, accept=True)
    proposals.decide_proposal(db_session, fair.buyer, proposal.id, accept=False,
                              note="この提案は見送り")
    assert (proposal.status, proposal.buyer_note) == ("declined", "この提案は見送り")
    back = preferences.interest_between(db_session, fair.buyer.id, fair.supplier.id)
    assert (back.source, back.level, back.declined, back.note) == (
        "screening", 3, False, "Looking forward…")
    [row] = preferences.my_requests(db_session, fair.supplier)
    assert row.status == "accepted"
    assert _pair(db_session, fair).mutual
    assert proposals.buyer_answers(db_session, fair.buyer) == {fair.supplier.id: back}
    # A sheet accepted higher raises the answer, as it raises the buyer's own request.
    proposals.decide_proposal(db_session, fair.buyer, proposal.id, accept=True, level=3)
    preferences.answer_request(db_session, fair.buyer, fair.supplier.id, accept=True,
                               level=1, note="Looking forward…")
    proposals.decide_proposal(db_session, fair.buyer, proposal.id, accept=True, level=2)
    assert (back.source, back.level, back.declined) == ("screening", 2, False)


def test_accepting_a_sheet_after_declining_the_request_drops_the_decline_note(
    db_session, fair, uploads
) -> None:
    proposal = _answered_pair(db_session, fair, uploads, accept=False)
    proposals.decide_proposal(db_session, fair.buyer, proposal.id, accept=False)
    back = preferences.interest_between(db_session, fair.buyer.id, fair.supplier.id)
    # Both turned down: the answer with its reason stays as the buyer wrote it.
    assert (back.source, back.declined, back.note) == ("screening", True, "見送ります")
    proposals.decide_proposal(db_session, fair.buyer, proposal.id, accept=True, level=2)
    assert (back.source, back.level, back.declined, back.note) == ("proposal", 2, False, "")
    [row] = preferences.my_requests(db_session, fair.supplier)
    assert row.status == "accepted"


def test_a_replaced_answer_never_keeps_its_accept_note(db_session, fair, uploads) -> None:
    """Where the answer does not stand (screening off), the sheets decide the pair; the
    accept note of the answer they replace goes with it."""
    proposal = _answered_pair(db_session, fair, uploads, accept=True)
    fair.event.screening_enabled = False
    proposals.decide_proposal(db_session, fair.buyer, proposal.id, accept=False)
    back = preferences.interest_between(db_session, fair.buyer.id, fair.supplier.id)
    assert (back.source, back.declined, back.note) == ("proposal", True, "")
    assert proposals.buyer_answers(db_session, fair.buyer) == {}


def test_a_withdrawn_request_leaves_the_sheets_the_buyer_declined_deciding(
    db_session, fair, uploads
) -> None:
    """Review: B001 accepted S001's request, then declined its sheet (the answer stood for
    the sheet). S001 then withdrew the request: the acceptance of a request that no
    longer exists still brought the pair to the solver, as mutual and at the top weight,
    though the buyer had turned down everything S001 still asked with."""
    proposal = _answered_pair(db_session, fair, uploads, accept=True)
    proposals.decide_proposal(db_session, fair.buyer, proposal.id, accept=False)
    assert _pair(db_session, fair).mutual  # the accepted request stands
    preferences.withdraw_request(db_session, fair.supplier, fair.buyer.id)
    assert _pair(db_session, fair) is None
    back = preferences.interest_between(db_session, fair.buyer.id, fair.supplier.id)
    assert (back.source, back.declined, back.note) == ("proposal", True, "")
