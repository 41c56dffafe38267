"""Company-name keys: one spelling-independent key per company for duplicate detection.

Registration forms and spreadsheets spell the same company many ways: "(株)山田製作所",
"株式会社　山田製作所", "㈱山田製作所", "山田製作所 株式会社". The key folds those
together so an import finds the existing organization instead of creating a twin.
"""

from __future__ import annotations

import re
import unicodedata

# Japanese legal-form words and their abbreviations, after NFKC (which turns
# "（株）" and "㈱" into "(株)", and "㍿" into "株式会社"). Longest first so that
# "特定非営利活動法人" is not half-removed by a shorter entry.
_JAPANESE_FORMS: tuple[str, ...] = tuple(
    sorted(
        (
            "株式会社", "有限会社", "合同会社", "合資会社", "合名会社",
            "一般社団法人", "一般財団法人", "公益社団法人", "公益財団法人",
            "特定非営利活動法人", "協同組合", "事業協同組合",
            "(株)", "(有)", "(同)", "(資)", "(名)", "(社)", "(財)",
        ),
        key=len,
        reverse=True,
    )
)

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


def fold_text(text: str) -> str:
    """The one form searches compare text in: NFKC (full/half width: "ＡＢＣ" → "abc",
    "ｶﾅ" → "カナ"), case-folded, hiragana as katakana ("やまだ" matches "ヤマダ")."""
    return unicodedata.normalize("NFKC", text).casefold().translate(_HIRAGANA_TO_KATAKANA)


# ぁ (U+3041) … ゖ (U+3096) to ァ … ヶ: a table, as the directory folds thousands of texts.
_HIRAGANA_TO_KATAKANA = {code: code + 0x60 for code in range(ord("ぁ"), ord("ゖ") + 1)}


def search_key(text: str) -> str:
    """:func:`fold_text` without white space, for finding a name, kana or code as typed."""
    return _WHITESPACE.sub("", fold_text(text))
