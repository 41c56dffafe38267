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
has not asked for (nor answered) yet. One that has itself asked the viewer and waits
for the answer stays, marked with its request (:attr:`Suggestion.asks_you`): that it
fits is a reason to accept, and accepting, unlike a request of one's own, costs
nothing under the request cap. What was shown is recorded once per pair
(:class:`~scheduler.models.SuggestionShown`), so the organizer sees how many
suggestions turned into requests (:func:`conversion_report`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from scheduler.db import utcnow
from scheduler.directory import bigrams, normalize_text, runs
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
    #: The counterpart's own request (or proposal sheet) to the viewer, not answered yet.
    asks_you: Interest | None = None


@dataclass(slots=True)
class NeedSuggestions:
    """One of a buyer's needs with the suppliers that fit it, best first."""

    need: Need
    suggestions: list[Suggestion]


# --------------------------------------------------------------------------- scoring
#
# A buyer's page scores every supplier against every need (800 suppliers × a few needs
# on a large fair). Folding and cutting text into bigrams is what costs, so a need's
# facts and a profile's facts are each worked out once (:class:`_NeedFacts`,
# :class:`_ProfileFacts`) and a pair is then scored with set and substring look-ups
# only: a profile's bigrams are looked up in its folded text, never collected.


class _Profile(Protocol):
    """The company-profile fields scoring reads: an :class:`Organization`, or a row of
    just those columns (a buyer's page reads 800 profiles and shows a handful)."""

    industry: str
    description: str
    strengths: str
    equipment: str
    materials: str
    tags: list[str]
    technologies: list[str]
    certifications: list[str]
    lot_sizes: list[str]


#: The columns of :class:`_Profile`, to load profiles without their ORM objects.
_PROFILE_COLUMNS = tuple(
    getattr(Organization, name)
    for name in ("industry", "description", "strengths", "equipment", "materials", "tags",
                 "technologies", "certifications", "lot_sizes")
)


def _profile_texts(organization: _Profile) -> list[str]:
    texts = [organization.industry, organization.description, organization.strengths,
             organization.equipment, organization.materials, *organization.tags]
    for code in organization.technologies:
        term = TECHNOLOGIES.get(code)
        if term is not None:
            texts += [term.ja, term.en]
    return texts


def _folded_without_spaces(text: str) -> str:
    return normalize_text(text).replace(" ", "")


#: Each certification's code with its labels as searched for in a need's text.
_CERTIFICATION_LABELS: tuple[tuple[str, tuple[str, ...]], ...] = tuple(
    (term.code, tuple(_folded_without_spaces(label)
                      for label in (term.ja, term.en.split(" (")[0])))
    for term in CERTIFICATIONS
)


def _mentioned_certifications(text: str) -> set[str]:
    folded = _folded_without_spaces(text)
    return {code for code, labels in _CERTIFICATION_LABELS
            if any(label in folded for label in labels)}


@dataclass(frozen=True, slots=True)
class _NeedFacts:
    """What scoring reads from a need, worked out once per need."""

    technologies: tuple[str, ...]
    material_words: tuple[tuple[str, frozenset[str]], ...]  # each word with its bigrams
    grams: frozenset[str]  # of title, material and description
    pairs: tuple[str, ...]  # those grams of two characters
    singles: frozenset[str]  # and those of one (one-character runs)
    certifications: frozenset[str]  # mentioned in that text
    lot_size: str

    @classmethod
    def of(cls, need: Need) -> _NeedFacts:
        text = " ".join((need.title, need.material, need.description))
        grams = frozenset(bigrams(text))
        return cls(
            technologies=tuple(need.technologies),
            material_words=tuple((word, frozenset(bigrams(word)))
                                 for word in _WORD_SEPARATORS.split(need.material)),
            grams=grams,
            pairs=tuple(gram for gram in grams if len(gram) == 2),
            singles=frozenset(gram for gram in grams if len(gram) == 1),
            certifications=frozenset(_mentioned_certifications(text)),
            lot_size=need.lot_size,
        )


@dataclass(frozen=True, slots=True)
class _ProfileFacts:
    """What scoring reads from a supplier's profile, worked out once per profile."""

    technologies: frozenset[str]
    fields: frozenset[str]  # the fields of those technologies
    text: str  # the profile's texts and its technologies' labels, folded, one a line
    singles: frozenset[str]  # the one-character runs of that text
    tags: tuple[tuple[str, frozenset[str]], ...]  # each free tag with its bigrams
    certifications: tuple[str, ...]
    lot_sizes: frozenset[str]

    @classmethod
    def of(cls, organization: _Profile) -> _ProfileFacts:
        have = frozenset(organization.technologies)
        # Folded in one go: a line break is never part of a run and never changes how
        # its neighbours normalise, so this is each text folded on its own.
        text = normalize_text("\n".join(_profile_texts(organization)))
        return cls(
            technologies=have,
            fields=frozenset(f.code for code in have if (f := field_of(code)) is not None),
            text=text,
            singles=frozenset(run for run in runs(text) if len(run) == 1),
            tags=tuple((tag, frozenset(bigrams(tag))) for tag in organization.tags),
            certifications=tuple(organization.certifications),
            lot_sizes=frozenset(organization.lot_sizes),
        )

    def has(self, gram: str) -> bool:
        """Whether ``gram`` (of :func:`~scheduler.directory.bigrams`) is among the
        profile's bigrams, without collecting them all: two run characters side by side
        in the text are always in one run, and a single character counts only as a
        one-character run."""
        return gram in self.singles if len(gram) == 1 else gram in self.text


def _score(need: _NeedFacts, profile: _ProfileFacts, locale: str) -> tuple[int, list[str]]:
    """:func:`score_fit` on facts worked out beforehand."""
    score = 0
    reasons: list[str] = []
    have = profile.technologies
    exact = [code for code in need.technologies if code in have]
    score += min(2 * EXACT_TECHNOLOGY, EXACT_TECHNOLOGY * len(exact))
    reasons += [technology_label(code, locale) for code in exact]
    partial = [
        code for code in need.technologies
        if code not in have and (f := field_of(code)) is not None and f.code in profile.fields
    ]
    score += min(2 * SAME_FIELD, SAME_FIELD * len(partial))
    for code in partial:
        group = field_of(code)
        if group is not None and group.label(locale) not in reasons:
            reasons.append(group.label(locale))

    for word, grams in need.material_words:
        if grams and all(profile.has(gram) for gram in grams) and word not in reasons:
            reasons.append(word)
    for tag, grams in profile.tags:
        if grams and grams <= need.grams and tag not in reasons:
            reasons.append(tag)

    held = [c for c in profile.certifications if c in need.certifications]
    score += min(2 * CERTIFICATION, CERTIFICATION * len(held))
    reasons += [certification_label(c, locale) for c in held]

    if need.lot_size and need.lot_size in profile.lot_sizes:
        score += LOT_SIZE
        label = lot_size_label(need.lot_size, locale)
        if label not in reasons:
            reasons.append(label)

    if need.grams:
        # need.grams & the profile's bigrams, counted as ProfileFacts.has would, inline:
        # this runs for every supplier and need.
        text = profile.text
        shared = sum(gram in text for gram in need.pairs) + len(need.singles & profile.singles)
        score += round(TEXT * shared / len(need.grams))
    return min(score, 100), reasons


def score_fit(need: Need, organization: _Profile, locale: str = "ja") -> tuple[int, list[str]]:
    """How well a supplier's profile fits ``need`` (0–100) and the reasons, in ``locale``."""
    return _score(_NeedFacts.of(need), _ProfileFacts.of(organization), locale)


# --------------------------------------------------------------------------- per viewer


def _asked(session: Session, viewer: Participant) -> set[int]:
    """Counterparts the viewer already stated something about (asked, answered, declined)."""
    return set(
        session.scalars(
            select(Interest.to_participant_id).where(Interest.from_participant_id == viewer.id)
        )
    )


def _asking_viewer(session: Session, viewer: Participant) -> dict[int, Interest]:
    """The standing requests and proposal sheets others sent ``viewer``, by sender.

    Among the counterparts :func:`_asked` leaves, these are the ones still waiting for
    the viewer's answer (an answer is an interest of the viewer's own).
    """
    return {
        interest.from_participant_id: interest
        for interest in session.scalars(
            select(Interest).where(
                Interest.to_participant_id == viewer.id,
                Interest.source.in_(ASKING_SOURCES),
                Interest.declined.is_(False),
                Interest.level > 0,
            )
        )
    }


def _buyers_with_needs(session: Session, supplier: Participant) -> list[Participant]:
    return list(
        session.scalars(
            select(Participant)
            .where(
                Participant.event_id == supplier.event_id,
                Participant.role == ParticipantRole.BUYER,
                Participant.status == ParticipantStatus.APPROVED,
                Participant.id != supplier.id,
            )
            .options(selectinload(Participant.organization), selectinload(Participant.needs))
            .order_by(Participant.code, Participant.id)
        )
    )


def _suggested(score: int, reasons: list[str]) -> bool:
    """A fit is suggested from :data:`MIN_SCORE` on, and only with a named reason."""
    return score >= MIN_SCORE and bool(reasons)


def suggestions_by_need(
    session: Session, buyer: Participant, *, locale: str = "ja", per_need: int = 5
) -> list[NeedSuggestions]:
    """For each of ``buyer``'s needs, the best-fitting suppliers it has not asked for yet
    (those that asked for it and wait for its answer say so in ``asks_you``)."""
    if buyer.role != ParticipantRole.BUYER:
        return []
    needs = list(buyer.needs)
    if not needs:
        return []
    asked = _asked(session, buyer)
    # Every supplier's profile is scored, but only a few per need are shown: profiles
    # are read as plain rows, and only the suppliers shown are loaded as objects.
    profiles = [
        (row.id, _ProfileFacts.of(row))
        for row in session.execute(
            select(Participant.id, *_PROFILE_COLUMNS)
            .join(Organization, Organization.id == Participant.organization_id)
            .where(
                Participant.event_id == buyer.event_id,
                Participant.role == ParticipantRole.SUPPLIER,
                Participant.status == ParticipantStatus.APPROVED,
                Participant.id != buyer.id,
            )
            .order_by(Participant.code, Participant.id)
        )
        if row.id not in asked
    ]
    best: list[tuple[Need, list[tuple[int, int, list[str]]]]] = []
    for need in needs:
        facts = _NeedFacts.of(need)
        found: list[tuple[int, int, list[str]]] = []
        for supplier_id, profile in profiles:
            score, reasons = _score(facts, profile, locale)
            if _suggested(score, reasons):
                found.append((supplier_id, score, reasons))
        found.sort(key=lambda fit: -fit[1])  # stable: equal scores keep the code order
        best.append((need, found[:per_need]))
    shown = {supplier_id for _, fits in best for supplier_id, _, _ in fits}
    asking = _asking_viewer(session, buyer) if shown else {}
    suppliers = {
        p.id: p
        for p in session.scalars(
            select(Participant).where(Participant.id.in_(shown))
            .options(selectinload(Participant.organization))
        )
    } if shown else {}
    return [
        NeedSuggestions(need, [Suggestion(suppliers[supplier_id], need, score, reasons,
                                          asking.get(supplier_id))
                               for supplier_id, score, reasons in fits])
        for need, fits in best
    ]


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
        asking = _asking_viewer(session, viewer)
        profile = _ProfileFacts.of(viewer.organization)
        for buyer in _buyers_with_needs(session, viewer):
            if buyer.id in asked:
                continue
            for need in buyer.needs:
                if not need.published:
                    continue
                score, reasons = _score(_NeedFacts.of(need), profile, locale)
                if _suggested(score, reasons) and (
                    buyer.id not in best or score > best[buyer.id].score
                ):
                    best[buyer.id] = Suggestion(buyer, need, score, reasons,
                                                asking.get(buyer.id))
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
