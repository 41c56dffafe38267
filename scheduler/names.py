"""Company-name keys: one spelling-independent key per company for duplicate detection.

Registration forms and spreadsheets spell the same company many ways: "(株)山田製作所",
"株式会社　山田製作所", "㈱山田製作所", "山田製作所 株式会社". The key folds those
together so an import finds the existing organization instead of creating a twin.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from typing import TypeVar

T = TypeVar("T")

# Japanese legal forms (法人格) and their abbreviations after NFKC (which turns "（株）"
# and "㈱" into "(株)", and "㍿" into "株式会社"), each with the form it names. The name
# key ignores the legal form; duplicate detection and matching also compare it:
# "株式会社 X" and "X" are one company, "株式会社 X" and "有限会社 X" two. 一般/公益
# 社団法人 are one form (公益 is a certification an 一般社団法人 gets, keeping its name
# otherwise), as are 財団法人 and 事業協同組合/協同組合. English endings (Inc., Co.,
# Ltd. …) name no form: Ltd. is written for both 株式会社 and 有限会社.
_LEGAL_FORMS: dict[str, str] = {
    "株式会社": "株式会社", "(株)": "株式会社",
    "有限会社": "有限会社", "(有)": "有限会社",
    "合同会社": "合同会社", "(同)": "合同会社",
    "合資会社": "合資会社", "(資)": "合資会社",
    "合名会社": "合名会社", "(名)": "合名会社",
    "一般社団法人": "社団法人", "公益社団法人": "社団法人", "(社)": "社団法人",
    "一般財団法人": "財団法人", "公益財団法人": "財団法人", "(財)": "財団法人",
    "特定非営利活動法人": "特定非営利活動法人",
    "事業協同組合": "協同組合", "協同組合": "協同組合",
}
# Longest first so that "特定非営利活動法人" is not half-removed by a shorter entry.
_JAPANESE_FORMS: tuple[str, ...] = tuple(sorted(_LEGAL_FORMS, key=len, reverse=True))

# English legal forms, only at the end of the name and as whole words, so that
# "Incubator Works" keeps its "Inc".
_ENGLISH_FORM_AT_END = re.compile(
    r"[\s,.]*\b(?:co\.?,?\s*ltd|inc|corp|corporation|ltd|llc|k\.k|kk|gmbh)\.?$"
)
_WHITESPACE = re.compile(r"\s+")


def company_name_key(name: str) -> str:
    """The duplicate-detection key of a company name.

    NFKC-normalised (full-width letters, digits, brackets and spaces become their
    ordinary forms), case-folded, with Japanese and English legal forms and every
    kind of white space removed. A name that is nothing but a legal form keeps it,
    so that the key is never empty for a non-empty name.
    """
    text = unicodedata.normalize("NFKC", name).casefold().strip()
    original = _WHITESPACE.sub("", text)
    for form in _JAPANESE_FORMS:
        text = text.replace(form, " ")
    previous = None
    while previous != text:
        previous = text
        text = _ENGLISH_FORM_AT_END.sub("", text.strip())
    key = _WHITESPACE.sub("", text)
    return key or original


def legal_form(name: str) -> str:
    """The legal form a company name states, in one spelling ("株式会社" for 株式会社,
    (株), ㈱ and ㍿), or "" if it states none (several are joined with "・")."""
    text = unicodedata.normalize("NFKC", name).casefold()
    forms: set[str] = set()
    for word in _JAPANESE_FORMS:
        if word in text:
            forms.add(_LEGAL_FORMS[word])
            text = text.replace(word, " ")
    return "・".join(sorted(forms))


def same_legal_form(first: str, second: str) -> bool:
    """Whether two legal forms (of :func:`legal_form`) can be of one company: the same
    form, or one of the names states none."""
    return first == second or not first or not second


def called_alike(name: str, candidates: Iterable[T], name_of: Callable[[T], str]) -> list[T]:
    """Of ``candidates`` (of the same :func:`company_name_key` as ``name``), those that
    can be the company called ``name``: no other legal form (株式会社 X is X, not 有限会社
    X). Those stating the same form come first; the order is kept otherwise."""
    form = legal_form(name)
    forms = [(candidate, legal_form(name_of(candidate))) for candidate in candidates]
    alike = [(c, f) for c, f in forms if same_legal_form(form, f)]
    return [c for c, f in alike if f == form] + [c for c, f in alike if f != form]


def fold_text(text: str) -> str:
    """The one form searches compare text in: NFKC (full/half width: "ＡＢＣ" → "abc",
    "ｶﾅ" → "カナ"), case-folded, hiragana as katakana ("やまだ" matches "ヤマダ")."""
    return unicodedata.normalize("NFKC", text).casefold().translate(_HIRAGANA_TO_KATAKANA)


# ぁ (U+3041) … ゖ (U+3096) to ァ … ヶ: a table, as the directory folds thousands of texts.
_HIRAGANA_TO_KATAKANA = {code: code + 0x60 for code in range(ord("ぁ"), ord("ゖ") + 1)}


def kana_as_typed(text: str) -> str:
    """A reading (フリガナ) as stored: widths folded (half-width ｶﾅ is カナ) and hiragana
    written as katakana (すずき is スズキ), whichever way the keyboard gave it, so that
    readings from a form, an import and the desk sort and export alike."""
    return unicodedata.normalize("NFKC", text).translate(_HIRAGANA_TO_KATAKANA)


def search_key(text: str) -> str:
    """:func:`fold_text` without white space, for finding a name, kana or code as typed."""
    return _WHITESPACE.sub("", fold_text(text))


# Japanese script: CJK punctuation (、。「」々〆), hiragana, katakana (with its
# phonetic extensions), CJK ideographs (extension A, the main block, compatibility
# ideographs and the supplementary planes' extensions), and full- and half-width forms
# (ＡＢＣ, ｴｰﾋﾞｰ). One such character makes a name Japanese ("ABC精工株式会社").
_JAPANESE = re.compile(
    "[\u3000-\u303f\u3040-\u309f\u30a0-\u30ff\u31f0-\u31ff\u3400-\u4dbf"
    "\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef\U00020000-\U0003134f]"
)


def has_japanese(text: object) -> bool:
    """Whether ``text`` has a Japanese character (a name in Japanese, or part so)."""
    return _JAPANESE.search(str(text)) is not None
