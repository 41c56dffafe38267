"""The directory of an event's companies: filters and a keyword search that works for Japanese.

Japanese has no spaces between words, so instead of segmenting words the search
compares character bigrams: "切削加工" is {切削, 削加, 加工}, and the query "切削"
finds it. Both sides are normalised first (:func:`normalize_text`): NFKC turns
full-width letters and digits and half-width katakana into their usual forms
("ＡＢＣ" → "ABC", "ｶﾅ" → "カナ"), case is folded, and hiragana is folded to
katakana so "やまだ" finds "ヤマダ". A word in Latin letters and digits ("turning",
"ADC12") is looked for whole instead. An entry's score is the share of the query's
bigrams and words found in it; entries below :data:`MIN_SHARE` are left out.

Participants see only the public profile: published needs are searched for them,
never unpublished ones, contact people or notes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from scheduler.models import (
    Event,
    Need,
    Organization,
    Participant,
    ParticipantRole,
    ParticipantStatus,
)
from scheduler.names import fold_text
from scheduler.vocabulary import PREFECTURES, TECHNOLOGIES, field_of

#: Entries matching less than this share of the query's bigrams are not shown, unless
#: they contain every bigram of one of the query's words: with "アルミ 試作", a profile
#: that mentions only 試作 still shows (ranked lower), one sharing a stray bigram does not.
MIN_SHARE = 0.5

#: Regions (地方) as prefecture ranges of :data:`PREFECTURES`, for the location filter.
REGIONS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    code: (ja, en, tuple(PREFECTURES[start:end]))
    for code, ja, en, start, end in (
        ("hokkaido", "北海道", "Hokkaido", 0, 1),
        ("tohoku", "東北", "Tohoku", 1, 7),
        ("kanto", "関東", "Kanto", 7, 14),
        ("chubu", "中部", "Chubu", 14, 23),
        ("kinki", "近畿", "Kinki", 23, 30),
        ("chugoku", "中国", "Chugoku", 30, 35),
        ("shikoku", "四国", "Shikoku", 35, 39),
        ("kyushu", "九州・沖縄", "Kyushu & Okinawa", 39, 47),
    )
}
REGION_PREFIX = "region:"

#: Each prefecture of :data:`PREFECTURES` in the Hepburn form the prefecture itself uses
#: in English (no macrons: Tokyo, Osaka, Hyogo, Kochi). Stored values stay Japanese.
PREFECTURE_NAMES_EN: dict[str, str] = dict(zip(PREFECTURES, (
    "Hokkaido", "Aomori", "Iwate", "Miyagi", "Akita", "Yamagata", "Fukushima",
    "Ibaraki", "Tochigi", "Gunma", "Saitama", "Chiba", "Tokyo", "Kanagawa",
    "Niigata", "Toyama", "Ishikawa", "Fukui", "Yamanashi", "Nagano",
    "Gifu", "Shizuoka", "Aichi", "Mie",
    "Shiga", "Kyoto", "Osaka", "Hyogo", "Nara", "Wakayama",
    "Tottori", "Shimane", "Okayama", "Hiroshima", "Yamaguchi",
    "Tokushima", "Kagawa", "Ehime", "Kochi",
    "Fukuoka", "Saga", "Nagasaki", "Kumamoto", "Oita", "Miyazaki", "Kagoshima", "Okinawa",
), strict=True))


def prefecture_label(prefecture: str, locale: str = "ja") -> str:
    """A prefecture's name in ``locale``: romanised in English, else as stored.

    A value outside :data:`PREFECTURES` (older or imported data) is shown as it is.
    """
    if locale.startswith("en"):
        return PREFECTURE_NAMES_EN.get(prefecture, prefecture)
    return prefecture


def normalize_text(text: str) -> str:
    """The form both text and queries are compared in (:func:`scheduler.names.fold_text`)."""
    return fold_text(text)


#: A run of letters, digits, kana and kanji: exactly the characters ``str.isalnum`` accepts
#: (``[^\W_]``, checked over every code point) and the long-vowel mark ー.
_RUN = re.compile(r"(?:[^\W_]|ー)+")


def runs(normalized: str) -> list[str]:
    """Runs of letters, digits, kana and kanji; punctuation and spaces split them."""
    return _RUN.findall(normalized)


def bigrams(text: str) -> set[str]:
    """The character bigrams of ``text`` after :func:`normalize_text`.

    A one-character run (a single kanji such as "鋳") counts as itself, so that a
    one-character query can still match.
    """
    grams: set[str] = set()
    for run in runs(normalize_text(text)):
        if len(run) == 1:
            grams.add(run)
        grams.update(run[i : i + 2] for i in range(len(run) - 1))
    return grams


def query_grams(text: str) -> set[str]:
    """What a search looks for in a document: the :func:`bigrams` of ``text``, except that
    a word in Latin letters and digits is looked for whole. Its bigrams said little: the
    "in", "ni" and "ng" of "machining" made up half of "turning", which then found
    nearly every company."""
    grams: set[str] = set()
    for run in runs(normalize_text(text)):
        if run.isascii() and len(run) > 1:
            grams.add(run)
        else:
            grams |= bigrams(run)
    return grams


def _found_grams(wanted: set[str], texts: Iterable[str]) -> set[str]:
    """The query's grams that a document (its ``texts``) contains.

    A query gram is a bigram, a single character or a whole Latin word of runs, so it is
    in a document's runs exactly when it occurs in the document's folded text: run
    characters next to each other are always in the same run. The texts are folded in
    one go, joined by a line break, which no run contains and which never changes how
    its neighbours normalise. This reads a document once instead of collecting all its bigrams (a
    950-company directory took 0.4 s for that on every search).
    """
    document = normalize_text("\n".join(texts))
    found = {gram for gram in wanted if gram in document}
    words = [gram for gram in wanted - found if gram.isascii() and len(gram) > 1]
    if words:
        # A word typed whole ("ISO9001", "ADC12") is found written apart as well
        # ("ISO 9001", "ADC-12"): the document is also read without such separators.
        joined = _SEPARATORS.sub("", document)
        found.update(word for word in words if word in joined)
    return found


#: What may stand between the parts of a product or standard's name: "ISO 9001", "ADC-12".
_SEPARATORS = re.compile(r"[ \t\u3000\-‐_./・]+")


@dataclass(slots=True)
class DirectoryFilters:
    """What the directory is narrowed to; empty strings mean "any"."""

    technology: str = ""  # a field ("machining") or a technology ("machining.5axis")
    location: str = ""  # a prefecture ("静岡県") or a region ("region:chubu")
    certification: str = ""
    lot_size: str = ""
    role: str = ""  # only for organizers, who see both sides


@dataclass(slots=True)
class DirectoryEntry:
    """One company in the directory, with its search score (1.0 without a query)."""

    participant: Participant
    score: float
    needs: list[Need] = field(default_factory=list)  # the needs the viewer may see
    technologies: list[str] = field(default_factory=list)  # profile's and needs' codes

    @property
    def organization(self) -> Organization:
        return self.participant.organization


def _visible_needs(participant: Participant, include_unpublished: bool) -> list[Need]:
    return [n for n in participant.needs if n.published or include_unpublished]


def _technology_codes(participant: Participant, needs: list[Need]) -> list[str]:
    codes = list(participant.organization.technologies)
    for need in needs:
        codes.extend(c for c in need.technologies if c not in codes)
    return codes


def _texts(participant: Participant, needs: list[Need], codes: list[str]) -> list[str]:
    organization = participant.organization
    texts = [
        organization.name, organization.name_kana, organization.industry,
        organization.description, organization.strengths, organization.equipment,
        organization.materials, organization.what_we_buy, organization.city,
        organization.prefecture, participant.department, *organization.tags,
    ]
    for code in codes:
        term = TECHNOLOGIES.get(code)
        if term is not None:
            texts += [term.ja, term.en]
            group = field_of(code)
            if group is not None:
                texts += [group.ja, group.en]
    for need in needs:
        texts += [need.title, need.material, need.timing, need.description]
    return texts


def _matches_filters(
    participant: Participant, needs: list[Need], codes: list[str], filters: DirectoryFilters
) -> bool:
    organization = participant.organization
    if filters.technology:
        wanted = filters.technology
        if "." in wanted:
            if wanted not in codes:
                return False
        elif not any(code.split(".", 1)[0] == wanted for code in codes):
            return False
    if filters.location:
        if filters.location.startswith(REGION_PREFIX):
            region = REGIONS.get(filters.location[len(REGION_PREFIX) :])
            if region is None or organization.prefecture not in region[2]:
                return False
        elif organization.prefecture != filters.location:
            return False
    if filters.certification and filters.certification not in organization.certifications:
        return False
    if filters.lot_size:
        lots = set(organization.lot_sizes) | {n.lot_size for n in needs if n.lot_size}
        if filters.lot_size not in lots:
            return False
    return True


def search(
    session: Session,
    event: Event,
    viewer_role: str | None,
    query: str = "",
    filters: DirectoryFilters | None = None,
) -> list[DirectoryEntry]:
    """The approved companies of ``event`` a viewer may browse, filtered and ranked.

    ``viewer_role`` is the viewing participant's role: buyers see suppliers and
    suppliers see buyers (with their published needs only). ``None`` is an organizer
    or staff member, who sees both sides (``filters.role`` narrows) and all needs.
    With a query, entries are ranked by the share of its bigrams they contain.
    """
    filters = filters or DirectoryFilters()
    statement = (
        select(Participant)
        .where(Participant.event_id == event.id, Participant.status == ParticipantStatus.APPROVED)
        .options(selectinload(Participant.organization), selectinload(Participant.needs))
        .order_by(Participant.code, Participant.id)
    )
    if viewer_role is not None:
        counterpart = (
            ParticipantRole.SUPPLIER if viewer_role == ParticipantRole.BUYER
            else ParticipantRole.BUYER
        )
        statement = statement.where(Participant.role == counterpart)
    elif filters.role:
        statement = statement.where(Participant.role == filters.role)
    wanted = query_grams(query)
    word_grams = [grams for word in query.split() if (grams := query_grams(word))]
    entries: list[DirectoryEntry] = []
    for participant in session.scalars(statement):
        needs = _visible_needs(participant, include_unpublished=viewer_role is None)
        codes = _technology_codes(participant, needs)
        if not _matches_filters(participant, needs, codes, filters):
            continue
        score = 1.0
        if wanted:
            found = _found_grams(wanted, _texts(participant, needs, codes))
            score = len(found) / len(wanted)
            if score < MIN_SHARE and not any(grams <= found for grams in word_grams):
                continue
        entries.append(DirectoryEntry(participant, score, needs, codes))
    # Stable sort: equal scores keep the code order.
    entries.sort(key=lambda e: -e.score)
    return entries


def counterpart_profile(
    session: Session, viewer: Participant, participant_id: int
) -> DirectoryEntry | None:
    """A counterpart's public directory entry as ``viewer`` may see it, else None.

    Only an approved participant of the same event and the other role qualifies.
    """
    other = session.get(Participant, participant_id)
    if (
        other is None
        or other.event_id != viewer.event_id
        or other.role == viewer.role
        or other.status != ParticipantStatus.APPROVED
    ):
        return None
    return entry_of(other, include_unpublished=False)


def entry_of(participant: Participant, *, include_unpublished: bool) -> DirectoryEntry:
    """``participant``'s directory entry; unpublished needs only for organizers."""
    needs = _visible_needs(participant, include_unpublished)
    return DirectoryEntry(participant, 1.0, needs, _technology_codes(participant, needs))

