"""Suggested counterparts: suppliers that fit a buyer's needs, and the mirror for suppliers.

A need fits a supplier's profile by (points, at most 100):

- technologies: each code of the need the supplier has, 25 (at most 50); a code
  of the same field only (旋盤加工 for 5軸加工), 8 (at most 16);
- certifications the need mentions (ISO 9001 in its text) that the supplier holds,
  10 each (at most 20);
- lot size: the need's lot size among the supplier's, 15;
- text: the share of the need's character bigrams (title, description, material;
  NFKC-normalised, see :mod:`scheduler.directory`) found in the supplier's profile
  text, times 25.

Reasons name what matched, in the viewer's language: technology labels, the
need's material words and the supplier's own keywords found in the need, the lot
size ("matches: 5軸加工, アルミ, 試作"). Suggestions show counterparts the viewer
has not asked for yet; what was shown is recorded once per pair
(:class:`~scheduler.models.SuggestionShown`), so the organizer sees how many
suggestions turned into requests (:func:`conversion_report`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from scheduler.db import utcnow
from scheduler.directory import bigrams, normalize_text
from scheduler.models import (
    Event,
    Interest,
    Need,
    Organization,
    Participant,
    ParticipantRole,
    ParticipantStatus,
    SuggestionShown,
)
from scheduler.preferences import ASKING_SOURCES
from scheduler.vocabulary import (
    CERTIFICATIONS,
    TECHNOLOGIES,
    certification_label,
    field_of,
    lot_size_label,
    technology_label,
)

#: A counterpart is suggested from this many points on, and only with a named reason.
MIN_SCORE = 20
EXACT_TECHNOLOGY, SAME_FIELD, CERTIFICATION, LOT_SIZE, TEXT = 25, 8, 10, 15, 25
_WORD_SEPARATORS = re.compile(r"[\s,、，・/／;；]+")


@dataclass(slots=True)
class Suggestion:
    """A counterpart that fits, the need it fits best, its score and the reasons."""

    counterpart: Participant
    need: Need | None
    score: int
    reasons: list[str] = field(default_factory=list)


@dataclass(slots=True)
class NeedSuggestions:
    """One of a buyer's needs with the suppliers that fit it, best first."""

    need: Need
    suggestions: list[Suggestion]


# --------------------------------------------------------------------------- scoring


def _profile_texts(organization: Organization) -> list[str]:
    texts = [organization.industry, organization.description, organization.strengths,
             organization.equipment, organization.materials, *organization.tags]
    for code in organization.technologies:
        term = TECHNOLOGIES.get(code)
        if term is not None:
            texts += [term.ja, term.en]
    return texts


def _grams(texts: list[str]) -> set[str]:
    grams: set[str] = set()
    for text in texts:
        grams |= bigrams(text)
    return grams


def _mentioned_certifications(text: str) -> set[str]:
    folded = normalize_text(text).replace(" ", "")
    found = set()
    for term in CERTIFICATIONS:
        for label in (term.ja, term.en.split(" (")[0]):
            if normalize_text(label).replace(" ", "") in folded:
                found.add(term.code)
    return found


def score_fit(need: Need, organization: Organization, locale: str = "ja") -> tuple[int, list[str]]:
    """How well a supplier's profile fits ``need`` (0–100) and the reasons, in ``locale``."""
    score = 0
    reasons: list[str] = []
    have = set(organization.technologies)
    exact = [code for code in need.technologies if code in have]
    score += min(2 * EXACT_TECHNOLOGY, EXACT_TECHNOLOGY * len(exact))
    reasons += [technology_label(code, locale) for code in exact]
    supplier_fields = {f.code for code in have if (f := field_of(code)) is not None}
    partial = [
        code for code in need.technologies
        if code not in have and (f := field_of(code)) is not None and f.code in supplier_fields
    ]
    score += min(2 * SAME_FIELD, SAME_FIELD * len(partial))
    for code in partial:
        group = field_of(code)
        if group is not None and group.label(locale) not in reasons:
            reasons.append(group.label(locale))

    need_text = " ".join((need.title, need.material, need.description))
    profile_texts = _profile_texts(organization)
    profile_grams = _grams(profile_texts)
    for word in _WORD_SEPARATORS.split(need.material):
        grams = bigrams(word)
        if grams and grams <= profile_grams and word not in reasons:
            reasons.append(word)
    need_grams = bigrams(need_text)
    for tag in organization.tags:
        grams = bigrams(tag)
        if grams and grams <= need_grams and tag not in reasons:
            reasons.append(tag)

    wanted_certifications = _mentioned_certifications(need_text)
    held = [c for c in organization.certifications if c in wanted_certifications]
    score += min(2 * CERTIFICATION, CERTIFICATION * len(held))
    reasons += [certification_label(c, locale) for c in held]

    if need.lot_size and need.lot_size in organization.lot_sizes:
        score += LOT_SIZE
        label = lot_size_label(need.lot_size, locale)
        if label not in reasons:
            reasons.append(label)

    if need_grams:
        score += round(TEXT * len(need_grams & profile_grams) / len(need_grams))
    return min(score, 100), reasons


# --------------------------------------------------------------------------- per viewer


def _asked(session: Session, viewer: Participant) -> set[int]:
    """Counterparts the viewer already stated something about (asked, answered, declined)."""
    return set(
        session.scalars(
            select(Interest.to_participant_id).where(Interest.from_participant_id == viewer.id)
        )
    )


def _counterparts(session: Session, viewer: Participant, role: str) -> list[Participant]:
    return list(
        session.scalars(
            select(Participant)
            .where(
                Participant.event_id == viewer.event_id,
                Participant.role == role,
                Participant.status == ParticipantStatus.APPROVED,
                Participant.id != viewer.id,
            )
            .options(selectinload(Participant.organization), selectinload(Participant.needs))
            .order_by(Participant.code, Participant.id)
        )
    )


def _fits(need: Need, supplier: Participant, locale: str) -> Suggestion | None:
    score, reasons = score_fit(need, supplier.organization, locale)
    if score < MIN_SCORE or not reasons:
        return None
    return Suggestion(supplier, need, score, reasons)


def suggestions_by_need(
    session: Session, buyer: Participant, *, locale: str = "ja", per_need: int = 5
) -> list[NeedSuggestions]:
    """For each of ``buyer``'s needs, the best-fitting suppliers it has not asked for yet."""
    if buyer.role != ParticipantRole.BUYER:
        return []
    asked = _asked(session, buyer)
    suppliers = [s for s in _counterparts(session, buyer, ParticipantRole.SUPPLIER)
                 if s.id not in asked]
    groups = []
    for need in buyer.needs:
        found = [s for supplier in suppliers if (s := _fits(need, supplier, locale)) is not None]
        found.sort(key=lambda s: -s.score)  # stable: equal scores keep the code order
        groups.append(NeedSuggestions(need, found[:per_need]))
    return groups


def suggestions_for(
    session: Session, viewer: Participant, *, locale: str = "ja", limit: int = 10
) -> list[Suggestion]:
    """The counterparts that fit ``viewer`` best, one entry each, best first.

    Buyers: suppliers fitting any of their needs (the best need names the reasons).
    Suppliers: buyers with a published need the supplier fits.
    """
    best: dict[int, Suggestion] = {}
    if viewer.role == ParticipantRole.BUYER:
        for group in suggestions_by_need(session, viewer, locale=locale, per_need=limit):
            for suggestion in group.suggestions:
                current = best.get(suggestion.counterpart.id)
                if current is None or suggestion.score > current.score:
                    best[suggestion.counterpart.id] = suggestion
    else:
        asked = _asked(session, viewer)
        for buyer in _counterparts(session, viewer, ParticipantRole.BUYER):
            if buyer.id in asked:
                continue
            for need in buyer.needs:
                if not need.published:
                    continue
                fit = _fits(need, viewer, locale)
                if fit is not None and (buyer.id not in best or fit.score > best[buyer.id].score):
                    best[buyer.id] = Suggestion(buyer, need, fit.score, fit.reasons)
    ranked = sorted(best.values(), key=lambda s: -s.score)
    return ranked[:limit]


def record_shown(
    session: Session,
    viewer: Participant,
    suggestions: list[Suggestion],
    *,
    now: datetime | None = None,
) -> int:
    """Remember that ``suggestions`` were shown to ``viewer`` (first time per pair only).

    Returns how many pairs were new.
    """
    if not suggestions:
        return 0
    known = set(
        session.scalars(
            select(SuggestionShown.suggested_id).where(SuggestionShown.viewer_id == viewer.id)
        )
    )
    added = 0
    for suggestion in suggestions:
        if suggestion.counterpart.id in known:
            continue
        known.add(suggestion.counterpart.id)
        session.add(
            SuggestionShown(
                event_id=viewer.event_id, viewer_id=viewer.id,
                suggested_id=suggestion.counterpart.id,
                need_id=suggestion.need.id if suggestion.need is not None else None,
                score=suggestion.score, reasons=list(suggestion.reasons),
                first_shown_at=now or utcnow(),
            )
        )
        added += 1
    session.flush()
    return added


def is_suggested(session: Session, viewer: Participant, counterpart_id: int) -> bool:
    """Whether ``counterpart_id`` was suggested to ``viewer`` (a request then has source
    ``suggestion``)."""
    return session.scalar(
        select(SuggestionShown.id).where(
            SuggestionShown.viewer_id == viewer.id,
            SuggestionShown.suggested_id == counterpart_id,
        )
    ) is not None


# --------------------------------------------------------------------------- organizer


@dataclass(slots=True)
class RoleConversion:
    """Did suggestions help? For viewers of one role."""

    role: str
    viewers: int = 0  # participants shown at least one suggestion
    shown: int = 0  # (viewer, counterpart) pairs shown
    followed: int = 0  # shown pairs the viewer asked for afterwards, by any route
    one_click: int = 0  # of those, asked with the suggestion's own button

    @property
    def rate(self) -> float:
        """Share of shown suggestions that were followed by a request (0 without any)."""
        return self.followed / self.shown if self.shown else 0.0


def conversion_report(session: Session, event: Event) -> list[RoleConversion]:
    """Suggestions shown and requests that followed, per viewer role (buyers, suppliers)."""
    report = {role: RoleConversion(role) for role in (ParticipantRole.BUYER,
                                                       ParticipantRole.SUPPLIER)}
    roles: dict[int, str] = {
        pid: role for pid, role in session.execute(
            select(Participant.id, Participant.role).where(Participant.event_id == event.id)
        )
    }
    interests = {
        (i.from_participant_id, i.to_participant_id): i
        for i in session.scalars(select(Interest).where(Interest.event_id == event.id))
    }
    viewers: dict[str, set[int]] = {role: set() for role in report}
    for shown in session.scalars(
        select(SuggestionShown).where(SuggestionShown.event_id == event.id)
    ):
        role = roles.get(shown.viewer_id)
        if role not in report:
            continue
        row = report[role]
        row.shown += 1
        viewers[role].add(shown.viewer_id)
        interest = interests.get((shown.viewer_id, shown.suggested_id))
        if (
            interest is not None
            and interest.source in ASKING_SOURCES
            and not interest.declined
            and (interest.source == "suggestion" or interest.created_at >= shown.first_shown_at)
        ):
            row.followed += 1
            if interest.source == "suggestion":
                row.one_click += 1
    for role, row in report.items():
        row.viewers = len(viewers[role])
    return list(report.values())
