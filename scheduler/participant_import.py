"""Participants from spreadsheets: read a CSV/XLSX file, preview it, then write it.

The organizer uploads a file, sees every row with what would happen to it and what
is wrong with it, and only then confirms. Nothing is written by :func:`preview_import`;
:func:`apply_import` writes (flush only) and refuses a file with errors unless the
organizer chose to import only the valid rows.

The same validation serves the hand-entry form: a form is a one-row import
(:func:`validate_entry`, :func:`save_entry`).

Messages are English message ids with ``%(name)s`` placeholders (see :class:`Issue`),
marked with :func:`scheduler.i18n.N_`; the web layer translates them.
"""

from __future__ import annotations

import csv
import io
import logging
import re
import unicodedata
import warnings
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from enum import StrEnum
from typing import Any
from xml.parsers import expat

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from scheduler import audit
from scheduler.directory import PREFECTURE_NAMES_EN
from scheduler.errors import Conflict, ValidationFailed
from scheduler.i18n import N_
from scheduler.models import (
    Attendance,
    Event,
    Organization,
    Participant,
    ParticipantRole,
    ParticipantStatus,
    Person,
    ScheduleRun,
)
from scheduler.names import (
    called_alike,
    company_name_key,
    kana_as_typed,
    legal_form,
    same_legal_form,
)
from scheduler.spreadsheet import FORMULA_STARTS
from scheduler.vocabulary import CERTIFICATIONS, PREFECTURES, TECHNOLOGIES

log = logging.getLogger(__name__)

DEFAULT_MAX_ROWS = 5000

# Limits on an .xlsx upload, so that a small crafted file cannot make reading it take
# minutes or gigabytes. A workbook is a zip of XML parts; they are checked before
# openpyxl reads any of them.
#
# What the parts may unpack to in all. A participant list of DEFAULT_MAX_ROWS rows and
# 30 columns, every cell bordered, unpacks to about 10 MB (30 000 formatted rows of 30
# columns to about 25 MB), so this leaves room for any real list. It bounds memory
# (openpyxl keeps every shared string in memory) and time (openpyxl reads 3-4 MB of
# sheet a second, so about 15 s at worst).
XLSX_MAX_UNPACKED_MB = 50
# How many times a part larger than XLSX_RATIO_FROM bytes may be compressed. Sheet XML
# compresses 5-20 times; a bomb about 1000 times. Apache POI refuses 100 times as well
# (from 100 KB); from 1 MB, this leaves small, very regular parts (drawings) alone.
XLSX_MAX_RATIO = 100
XLSX_RATIO_FROM = 1024 * 1024
# How much openpyxl may unpack while reading, as a multiple of the parts' total (plus
# 1 MB): it opens the sheet twice and the import once more for the header row, every
# other part once. A workbook whose sheets all point at one large part needs more.
XLSX_READ_FACTOR = 3
# Columns read from a sheet (a participant list has about 30); a column name further
# right is an error rather than silently lost.
XLSX_MAX_COLUMNS = 100
# The last row an Excel sheet can have: a row after it means a damaged file.
EXCEL_MAX_ROWS = 1_048_576
_MB = 1024 * 1024


# --------------------------------------------------------------------------- columns


@dataclass(frozen=True, slots=True)
class Column:
    """A column of the participant sheet: a key, its export headers and accepted headers."""

    key: str
    header: str  # the Japanese header written on export
    aliases: tuple[str, ...]
    max_length: int | None = None
    header_en: str = ""  # the English header written on export (read like the others)

    def export_header(self, language: str = "ja") -> str:
        """The header written on export for a reader of ``language`` ("ja" or "en")."""
        return self.header_en if language.startswith("en") and self.header_en else self.header


# A column headed "No" or "番号" is a row counter in most Japanese lists, not the
# participant code: those headers are not read as the code (see _ROW_COUNTER_HEADERS).
COLUMNS: tuple[Column, ...] = (
    Column("code", "コード", ("code", "参加企業コード", "参加者コード", "participant code"), 20,
           header_en="Code"),
    Column("company", "会社名", ("company", "company name", "企業名", "社名", "会社"), 200,
           header_en="Company"),
    Column("company_kana", "会社名カナ",
           ("kana", "company kana", "会社名フリガナ", "会社名(カナ)", "会社名かな", "フリガナ"),
           200, header_en="Company kana"),
    Column("role", "区分", ("role", "type", "参加区分", "種別"), header_en="Role"),
    Column("department", "部署", ("department", "部署名", "所属"), 200,
           header_en="Department"),
    Column("prefecture", "都道府県", ("prefecture",), 20, header_en="Prefecture"),
    Column("city", "市区町村", ("city", "市町村"), 100, header_en="City"),
    Column("industry", "業種", ("industry",), 100, header_en="Industry"),
    Column("employees", "従業員数", ("employees", "社員数"), header_en="Employees"),
    Column("website", "URL", ("website", "web", "ホームページ", "ウェブサイト", "homepage"), 300,
           header_en="Website"),
    Column("technologies", "技術", ("technologies", "technology", "得意技術", "保有技術"),
           header_en="Technologies"),
    Column("certifications", "認証", ("certifications", "認証取得", "取得認証"),
           header_en="Certifications"),
    Column("contact_name", "担当者", ("contact", "contact name", "担当者名", "氏名", "担当"), 200,
           header_en="Contact"),
    Column("contact_kana", "担当者カナ",
           ("contact kana", "担当者名カナ", "担当者フリガナ", "担当者(カナ)"), 200,
           header_en="Contact kana"),
    Column("email", "メール", ("email", "e-mail", "mail", "メールアドレス", "eメール"), 254,
           header_en="E-mail"),
    Column("phone", "電話", ("phone", "tel", "電話番号", "telephone"), 50, header_en="Phone"),
    Column("max_meetings", "最大商談数", ("max meetings", "max_meetings", "商談数上限"),
           header_en="Max meetings"),
    Column("desks", "デスク数", ("desks", "parallel desks", "parallel_desks", "机数"),
           header_en="Desks"),
)
COLUMNS_BY_KEY: dict[str, Column] = {c.key: c for c in COLUMNS}
REQUIRED_KEYS: tuple[str, ...] = ("company", "role")

ROLE_LABELS: dict[str, str] = {ParticipantRole.BUYER: "バイヤー",
                               ParticipantRole.SUPPLIER: "サプライヤー"}
# The role as an English export writes it (the import reads both).
ROLE_LABELS_EN: dict[str, str] = {ParticipantRole.BUYER: "Buyer",
                                  ParticipantRole.SUPPLIER: "Supplier"}
CODE_PREFIX: dict[str, str] = {ParticipantRole.BUYER: "B", ParticipantRole.SUPPLIER: "S"}


def _header_key(text: str) -> str:
    """How headers are compared: NFKC, case-folded, without spaces, '_', '-' or '*'."""
    folded = unicodedata.normalize("NFKC", text).strip().casefold()
    return re.sub(r"[\s_\-*・]", "", folded)


_HEADER_LOOKUP: dict[str, str] = {}
for _column in COLUMNS:
    for _name in (_column.key, _column.header, _column.header_en, *_column.aliases):
        if _name:
            _HEADER_LOOKUP.setdefault(_header_key(_name), _column.key)

# Headers of a row counter ("No", "番号", "連番"): common as a first column of Japanese
# lists, and not the participant code even when their numbers look like codes.
_ROW_COUNTER_HEADERS = frozenset(_header_key(h) for h in ("no", "no.", "番号", "連番", "#", "№"))

# Sheets made for people often start with a title ("参加企業一覧", the fair's name and
# date) above the column names. The column names are the first of the first rows that
# names every required column; up to this many rows above them are skipped (with a
# word in the preview), so such a sheet is read as it is (QA: it was refused).
TITLE_ROWS_MAX = 5


def header_row_index(rows: Sequence[tuple[int, list[str]]]) -> int:
    """The index in ``rows`` of the column names: the first of the first
    ``TITLE_ROWS_MAX + 1`` rows naming every required column, else the first row (whose
    missing columns are then reported)."""
    for index, (_number, cells) in enumerate(rows[: TITLE_ROWS_MAX + 1]):
        keys = {_HEADER_LOOKUP.get(_header_key(cell)) for cell in cells if cell}
        if keys.issuperset(REQUIRED_KEYS):
            return index
    return 0


def single_spaced(text: str) -> str:
    """``text`` stripped, each run of spaces in it made one space: a full-width one if
    the run has one (Japanese names are typed so: 「望月　太郎」), else a plain one.

    The one spacing rule for names and other short texts, whether typed into the form,
    imported or self-registered (:func:`scheduler.registration.self_register`), so that
    an exported list imported again finds them unchanged. Otherwise text stays as typed.
    """
    return re.sub(r"\s+", lambda run: "\u3000" if "\u3000" in run.group() else " ",
                  text.strip())


# Dashes typed between a phone number's digits, after NFKC (which already makes "－" and
# "﹣" a "-", "‑" a "‐" and a half-width "ｰ" the katakana "ー"): a Japanese keyboard's
# 長音 "ー", the horizontal bar "―", the Unicode hyphen "‐", figure, en and em dashes,
# the minus sign. Between digits, each is the hyphen the number is written with.
_PHONE_DASH = re.compile("(?<=[0-9])( *)[\u2010\u2012-\u2015\u2212\u30fc]( *)(?=[0-9])")


def phone_as_typed(text: str) -> str:
    """A phone number as stored, wherever it is entered (import, the organizer's form,
    self-registration, a walk-in at the desk): half-width (NFKC: "０５３" is "053",
    "（" is "(") with each dash between digits made "-" ("０５３ー１２３ー４５６７" is
    "053-123-4567"), the ends trimmed; anything else (spaces, "内線 12") as typed."""
    text = unicodedata.normalize("NFKC", text or "")
    return _PHONE_DASH.sub(r"\1-\2", text).strip()


def _fold(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).casefold()


_ROLE_WORDS: dict[str, str] = {
    **{_fold(w): ParticipantRole.BUYER for w in
       ("バイヤー", "発注企業", "発注", "発注者", "buyer", "b")},
    **{_fold(w): ParticipantRole.SUPPLIER for w in
       ("サプライヤー", "受注企業", "受注", "受注者", "supplier", "s")},
}
_TECHNOLOGY_WORDS: dict[str, str] = {}
for _term in TECHNOLOGIES.values():
    for _word in (_term.code, _term.ja, _term.en):
        _TECHNOLOGY_WORDS.setdefault(_fold(_word), _term.code)
_CERTIFICATION_WORDS: dict[str, str] = {}
for _term in CERTIFICATIONS:
    for _word in (_term.code, _term.ja, _term.en):
        _CERTIFICATION_WORDS.setdefault(_fold(_word), _term.code)
_PREFECTURE_WORDS: dict[str, str] = {}
for _pref in PREFECTURES:
    _PREFECTURE_WORDS[_pref] = _pref
    _PREFECTURE_WORDS.setdefault(_pref[:-1] if _pref != "北海道" else _pref, _pref)
for _pref, _english in PREFECTURE_NAMES_EN.items():  # Shizuoka, as English lists write it
    _PREFECTURE_WORDS.setdefault(_english.casefold(), _pref)
# What English adds after a prefecture's name: Shizuoka Prefecture, Shizuoka-ken, Tokyo-to.
_PREFECTURE_SUFFIXES = ("prefecture", "-ken", "ken", "-fu", "fu", "-to", "to", "-do")


def _prefecture(typed: str) -> str | None:
    """The prefecture ``typed`` (NFKC-folded) names, however spaced (静岡　県) and in
    Japanese or English (Shizuoka, shizuoka-ken); None when it names none."""
    key = re.sub(r"\s+", "", typed).casefold()
    if key in _PREFECTURE_WORDS:
        return _PREFECTURE_WORDS[key]
    for suffix in _PREFECTURE_SUFFIXES:
        if key.endswith(suffix) and key[: -len(suffix)] in _PREFECTURE_WORDS:
            return _PREFECTURE_WORDS[key[: -len(suffix)]]
    return None

# Lists in a cell: first split on these, then (for a piece that is not a known label,
# such as "旋盤加工/フライス加工") on slashes, so labels like "CAD/CAMデータ作成" survive.
_LIST_SEPARATORS = re.compile(r"[、,，;；\n]+")
_SLASHES = re.compile(r"[/／]+")


# --------------------------------------------------------------------------- results


@dataclass(frozen=True, slots=True)
class Issue:
    """Something wrong (an error) or worth knowing (a warning) about a file, row or cell.

    ``message`` is an English message id with ``%(name)s`` placeholders filled from
    ``params``; ``key`` is the column key ("" for the row or the file) and ``header``
    the column as written in the file.
    """

    message: str
    params: Mapping[str, Any] = field(default_factory=dict)
    key: str = ""
    header: str = ""

    def text(self) -> str:
        """The message in English with its placeholders filled (a list as "a, b")."""
        return self.message % joined(self.params, ", ") if self.params else self.message


#: The two columns the app adds to a file of rows left out of an import (their row in
#: the original file, and what was wrong); the import skips them when it comes back.
#: Written in both languages, since the file may be corrected by someone else.
FIX_HEADERS = ("元の行 / Original row", "問題点 / Problems")


def joined(params: Mapping[str, Any], separator: str) -> dict[str, Any]:
    """``params`` with each list written out, its items joined by ``separator``."""
    return {key: separator.join(map(str, value)) if isinstance(value, list | tuple) else value
            for key, value in params.items()}


class RowAction(StrEnum):
    """What importing a row does."""

    CREATE = "create"  # a new company in the directory and a new participant
    REUSE = "reuse"  # a company already in the directory joins this event
    UPDATE = "update"  # a participant of this event whose details change
    UNCHANGED = "unchanged"  # a participant of this event, nothing to change
    DUPLICATE = "duplicate"  # the same company as an earlier row of the file


@dataclass(slots=True)
class ParticipantEntry:
    """The validated values of one row or form. Empty/None means "not given"."""

    company: str = ""
    company_kana: str = ""
    role: str = ""
    code: str = ""
    department: str = ""
    prefecture: str = ""
    city: str = ""
    industry: str = ""
    employees: int | None = None
    website: str = ""
    technologies: list[str] | None = None
    tags: list[str] = field(default_factory=list)
    certifications: list[str] | None = None
    contact_name: str = ""
    contact_kana: str = ""
    email: str = ""
    phone: str = ""
    max_meetings: int | None = None
    desks: int | None = None

    @property
    def name_key(self) -> str:
        """The company's duplicate-detection key (see :func:`company_name_key`); names
        with the same key are one company if :func:`same_legal_form` too."""
        return company_name_key(self.company)

    @property
    def legal_form(self) -> str:
        """The legal form the company name states (see :func:`legal_form`)."""
        return legal_form(self.company)


@dataclass(slots=True)
class RowPreview:
    """One data row of the file: its cells, parsed values, problems and planned action."""

    number: int  # the row number in the file (the header is row 1 in a normal file)
    cells: dict[str, str]  # column key -> cell text as read
    entry: ParticipantEntry
    errors: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)
    notes: list[Issue] = field(default_factory=list)  # plain information, e.g. what changes
    action: RowAction = RowAction.CREATE
    changes: list[str] = field(default_factory=list)  # "organization.city", "person.email", …
    organization_id: int | None = None
    participant_id: int | None = None
    # Every cell of the row as read, in the file's order, also of columns the import does
    # not read (a 備考 column): a file of rows to fix gives them back as they were.
    raw: list[str] = field(default_factory=list)

    @property
    def is_valid(self) -> bool:
        """The row has no errors (warnings do not stop it)."""
        return not self.errors

    def error_keys(self) -> set[str]:
        """Column keys with an error (for highlighting cells)."""
        return {issue.key for issue in self.errors if issue.key}


@dataclass(slots=True)
class ImportPreview:
    """What an import would do, row by row, before anything is written."""

    filename: str
    file_format: str = ""  # "utf-8-sig", "utf-8", "cp932" (CSV) or "xlsx"
    headers: list[str] = field(default_factory=list)  # as found in the file
    columns: dict[str, str] = field(default_factory=dict)  # key -> header as found
    file_errors: list[Issue] = field(default_factory=list)
    file_warnings: list[Issue] = field(default_factory=list)
    rows: list[RowPreview] = field(default_factory=list)

    @property
    def is_valid(self) -> bool:
        """The whole file can be imported as it is."""
        return not self.file_errors and all(row.is_valid for row in self.rows)

    @property
    def valid_rows(self) -> list[RowPreview]:
        """The rows an "import only the valid rows" writes (none if the file itself is bad)."""
        return [] if self.file_errors else [row for row in self.rows if row.is_valid]

    @property
    def error_rows(self) -> list[RowPreview]:
        """The rows with at least one error."""
        return [row for row in self.rows if not row.is_valid]

    def counts(self) -> dict[str, int]:
        """Rows per action among the valid rows, plus ``errors`` and ``total``."""
        result = {action.value: 0 for action in RowAction}
        for row in self.valid_rows:
            result[row.action.value] += 1
        result["errors"] = len(self.error_rows)
        result["total"] = len(self.rows)
        return result

    def shown_columns(self) -> list[tuple[str, str]]:
        """(key, header) of the recognised columns, in the order of the file."""
        return sorted(self.columns.items(), key=lambda kv: self.headers.index(kv[1]))


@dataclass(slots=True)
class ImportResult:
    """What :func:`apply_import` wrote."""

    created: int = 0
    reused: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    people_added: int = 0
    participant_ids: list[int] = field(default_factory=list)

    @property
    def written(self) -> int:
        """Participants created or changed."""
        return self.created + self.reused + self.updated


# --------------------------------------------------------------------------- reading files


class _Unreadable(Exception):
    def __init__(self, issue: Issue) -> None:
        super().__init__(issue.text())
        self.issue = issue


@dataclass(slots=True)
class RawTable:
    """Cells of a file as text: (row number, cells) of every non-blank row.

    Of a workbook, only the first ``max_rows + 1 + TITLE_ROWS_MAX`` non-blank rows (a
    header, ``max_rows`` rows and room for title rows above the header) are kept;
    ``more_rows`` counts the non-blank rows after them.
    """

    file_format: str
    rows: list[tuple[int, list[str]]]
    more_rows: int = 0


def read_table(data: bytes, filename: str, *, max_rows: int = DEFAULT_MAX_ROWS) -> RawTable:
    """Read CSV or XLSX bytes into text cells (of a workbook, ``max_rows`` rows and the
    header; see :class:`RawTable`).

    Raises :class:`ValidationFailed` with a message for the organizer when the file
    cannot be read (unknown type, neither UTF-8 nor Shift_JIS, broken workbook).
    """
    try:
        return _read_table(data, filename, max_rows=max_rows)
    except _Unreadable as error:
        raise _failure(error.issue) from None


def _read_table(data: bytes, filename: str, *, max_rows: int = DEFAULT_MAX_ROWS) -> RawTable:
    lower = filename.lower()
    if lower.endswith(".xls"):
        raise _Unreadable(Issue(N_("The old Excel format (.xls) cannot be read. Please save the "
                                   "file as .xlsx or as CSV and upload it again.")))
    if lower.endswith((".xlsx", ".xlsm")) or data.startswith(b"PK\x03\x04"):
        rows, more_rows = _read_xlsx(data, max_rows)
        return RawTable("xlsx", rows, more_rows)
    if lower and not lower.endswith((".csv", ".txt", ".tsv")):
        raise _Unreadable(Issue(N_("Please upload a CSV file (.csv) or an Excel workbook "
                                   "(.xlsx).")))
    text, encoding = decode_csv_bytes(data)
    return RawTable(encoding, _read_csv(text))


def decode_csv_bytes(data: bytes) -> tuple[str, str]:
    """Decode CSV bytes: UTF-8 with BOM, then UTF-8, then CP932 (Excel's "CSV" in Japan).

    Returns the text and the encoding used. UTF-8 is tried before CP932 because text
    in CP932 is almost never valid UTF-8, while the reverse happens. Bytes in neither
    are refused naming the row of the first bad byte, so that it can be found.
    """
    tried = ["utf-8"] if data.startswith(b"\xef\xbb\xbf") else ["utf-8", "cp932"]
    start = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    failures: list[tuple[int, str]] = []
    for encoding in tried:
        try:
            text = data[start:].decode(encoding)
        except UnicodeDecodeError as error:
            failures.append((error.start, encoding))
        else:
            return text, "utf-8-sig" if start else encoding
    # The encoding that read further is the one the file is most likely in.
    position, encoding = max(failures)
    raise _Unreadable(Issue(
        N_("The file is neither UTF-8 nor Shift_JIS (CP932) text: row %(row)d has a character "
           "that is neither. Please save it from Excel as \"CSV UTF-8\" or as an .xlsx "
           "workbook."),
        {"row": _row_at(data[start:start + position].decode(encoding))}))


def _row_at(text: str) -> int:
    """The row (as the preview numbers them) that goes on after ``text``, the start of a
    CSV file: a cell with line breaks is one row, as in Excel."""
    rows = sum(1 for _ in csv.reader(io.StringIO(text, newline="")))
    return rows + 1 if not text or text.endswith(("\n", "\r")) else rows


def _read_csv(text: str) -> list[tuple[int, list[str]]]:
    """The non-blank rows of a CSV text (tab-separated if its first lines have more tabs
    than commas: the column names may come after a title, :data:`TITLE_ROWS_MAX`),
    numbered as Excel shows them: a cell with line breaks is one row.

    Read strictly: a quotation mark that is never closed would otherwise make the rest
    of the file one cell without a word, losing every row after it.
    """
    first_lines = [line for line in text.splitlines() if line.strip()][: TITLE_ROWS_MAX + 1]
    tabs = sum(line.count("\t") for line in first_lines)
    delimiter = "\t" if tabs > sum(line.count(",") for line in first_lines) else ","
    rows: list[tuple[int, list[str]]] = []
    number = 0
    try:
        for number, cells in enumerate(csv.reader(io.StringIO(text, newline=""),
                                                  delimiter=delimiter, strict=True), start=1):
            cleaned = [_clean_cell(c) for c in cells]
            if any(cleaned):
                rows.append((number, cleaned))
    except csv.Error as error:
        # The csv module's message is English; say what it means in a msgid of our own.
        row = number + 1  # the row being read when it failed (numbered as in the preview)
        if "field limit" in str(error):
            issue = Issue(N_("Row %(row)s of the CSV file has a cell longer than %(limit)s "
                             "characters and cannot be read."),
                          {"row": row, "limit": csv.field_size_limit()})
        elif "unexpected end of data" in str(error):
            # The row opens a quoted cell that the file never closes.
            issue = Issue(N_("Row %(row)s of the CSV file opens a quotation mark (\") that is "
                             "never closed, so the rest of the file would be read as one cell. "
                             "Please check the quotation marks in that row, or save the file "
                             "from Excel again."),
                          {"row": row})
        else:
            issue = Issue(N_("Row %(row)s of the CSV file cannot be read. Please check its "
                             "quotation marks, or save the file from Excel again."),
                          {"row": row})
        raise _Unreadable(issue) from None
    return rows


class _ReadTooMuch(Exception):
    """openpyxl unpacked more of a workbook than :class:`_MeteredUpload` allows."""


class _MeteredUpload(io.BytesIO):
    """A workbook's bytes for openpyxl, counting what it unpacks while reading them.

    zipfile reads a part's local header, at the part's offset, each time it opens the
    part; such a read is charged the part's whole unpacked size (even if openpyxl then
    reads only its start). Past ``budget`` bytes, reading fails with
    :class:`_ReadTooMuch`: this stops a workbook that makes openpyxl read one large
    part over and over (say, thousands of sheets that all point at it).
    """

    def __init__(self, data: bytes, members: Iterable[zipfile.ZipInfo], budget: int) -> None:
        super().__init__(data)
        self._left = budget
        self._sizes: dict[int, int] = {}
        for member in members:
            offset = member.header_offset
            self._sizes[offset] = max(self._sizes.get(offset, 0), member.file_size)

    def read(self, size: int | None = -1, /) -> bytes:
        self._left -= self._sizes.get(self.tell(), 0)
        if self._left < 0:
            raise _ReadTooMuch
        return super().read(size)


def _read_xlsx(data: bytes, max_rows: int) -> tuple[list[tuple[int, list[str]]], int]:
    """The non-blank rows of the first sheet's first :data:`XLSX_MAX_COLUMNS` columns:
    the first ``max_rows + 1 + TITLE_ROWS_MAX`` of them (see :class:`RawTable`), and how
    many more there are."""
    from openpyxl import load_workbook  # imported here: only Excel uploads need it

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = _checked_parts(archive)
        budget = XLSX_READ_FACTOR * sum(m.file_size for m in members) + _MB
        with warnings.catch_warnings():
            # Workbooks from other programs trigger harmless style/validation warnings.
            warnings.simplefilter("ignore")
            workbook = load_workbook(_MeteredUpload(data, members, budget), read_only=True,
                                     data_only=True, keep_links=False)
            try:
                sheet = workbook.worksheets[0]
                # The dimension the file states ("A1:XFD1048576") may be wrong or made
                # up: without it, openpyxl reads the rows and cells that are there.
                sheet.reset_dimensions()
                rows, more_rows = _sheet_rows(sheet, max_rows)
                if rows:
                    _check_header_width(sheet, rows[header_row_index(rows)][0])
            finally:
                workbook.close()
    except _Unreadable:
        raise
    except _ReadTooMuch:
        raise _Unreadable(_too_big(-(-budget // _MB))) from None
    except Exception as error:
        # zipfile, zlib, the XML parser and openpyxl raise many kinds of errors for a
        # damaged workbook (or a zip that is no workbook, such as a Word file): whichever
        # it is, the organizer can only save the file again. The error's name means
        # nothing to them, so it goes to the log only.
        log.info("Unreadable .xlsx upload: %s: %s", type(error).__name__, error)
        raise _Unreadable(_NOT_A_WORKBOOK) from None
    return rows, more_rows


_NOT_A_WORKBOOK = Issue(N_("The file is not an Excel workbook (.xlsx) that can be read: it may "
                           "be damaged, or another kind of file. Please open it in Excel, save "
                           "it again as an Excel workbook (.xlsx) or as CSV, and upload that."))


def _too_big(megabytes: int) -> Issue:
    return Issue(N_("The Excel workbook (.xlsx) would unpack to more than %(limit)d MB when "
                    "read, so it cannot be imported. Please copy the participant list into a "
                    "new workbook, or save it as CSV, and upload that."),
                 {"limit": megabytes})


def _checked_parts(archive: zipfile.ZipFile) -> list[zipfile.ZipInfo]:
    """The parts of a workbook, once they are known not to unpack to too much, not to
    declare XML entities (which expand, again and again) and, for .xml parts, to be
    well-formed XML. The sizes are those the zip states; zipfile reads no more."""
    members = archive.infolist()
    if sum(m.file_size for m in members) > XLSX_MAX_UNPACKED_MB * _MB:
        raise _Unreadable(_too_big(XLSX_MAX_UNPACKED_MB))
    for member in members:
        if (member.file_size > XLSX_RATIO_FROM
                and member.file_size > XLSX_MAX_RATIO * member.compress_size):
            raise _Unreadable(Issue(
                N_("The Excel workbook (.xlsx) cannot be imported: its part %(part)s is "
                   "compressed more than %(max)d times, which a normal workbook never is. "
                   "Please copy the participant list into a new workbook, or save it as "
                   "CSV, and upload that."),
                {"part": member.filename, "max": XLSX_MAX_RATIO}))
    for member in members:
        _check_part(archive, member)
    return members


def _check_part(archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> None:
    """Parse a part as openpyxl would (expat, with namespaces), without keeping anything.

    Any part may be parsed by openpyxl whatever its name, so every part is checked for
    entity declarations; a part that is not XML (an image) stops at its first bytes.
    """

    def refuse_entities(*_declaration: object) -> None:
        raise _Unreadable(Issue(
            N_("The Excel workbook (.xlsx) cannot be imported: its part %(part)s declares "
               "XML entities, which Excel workbooks do not use. Please copy the participant "
               "list into a new workbook, or save it as CSV, and upload that."),
            {"part": member.filename}))

    parser = expat.ParserCreate(namespace_separator="}")
    parser.EntityDeclHandler = refuse_entities
    try:
        with archive.open(member) as part:
            while chunk := part.read(1 << 16):
                parser.Parse(chunk, False)
            parser.Parse(b"", True)
    except expat.ExpatError as error:
        if member.filename.lower().endswith((".xml", ".rels")):
            raise _Unreadable(Issue(
                N_("The Excel workbook (.xlsx) is damaged: its part %(part)s is not valid XML "
                   "(%(detail)s). Please open the file in Excel or LibreOffice, save it "
                   "again and upload it again."),
                {"part": member.filename, "detail": str(error)})) from None


def _sheet_rows(sheet: Any, max_rows: int) -> tuple[list[tuple[int, list[str]]], int]:
    """The non-blank rows of ``sheet`` (read-only, without dimension), as
    :func:`_read_xlsx` returns them. A row without any value costs no cell conversion."""
    rows: list[tuple[int, list[str]]] = []
    more_rows = 0
    for number, values in enumerate(
        sheet.iter_rows(max_col=XLSX_MAX_COLUMNS, values_only=True), start=1
    ):
        if number > EXCEL_MAX_ROWS:
            raise _Unreadable(Issue(
                N_("The Excel workbook (.xlsx) is damaged: its first sheet has rows after "
                   "row %(max)d, the last row a sheet can have."), {"max": EXCEL_MAX_ROWS}))
        if values.count(None) == len(values):
            continue  # a blank row, or one missing from the file (openpyxl fills the gap)
        if len(rows) > max_rows + TITLE_ROWS_MAX:  # the header, max_rows rows and room
            # for title rows above the header are kept; count the rest
            more_rows += any(_clean_cell(_cell_text(v)) for v in values if v is not None)
            continue
        cells = ["" if v is None else _clean_cell(_cell_text(v)) for v in values]
        while cells and not cells[-1]:
            cells.pop()
        if cells:
            rows.append((number, cells))
    return rows, more_rows


def _check_header_width(sheet: Any, number: int) -> None:
    """Refuse a header row (row ``number``) that names a column after the columns read:
    that column's cells would be lost without a word."""
    from openpyxl.utils import get_column_letter

    first = XLSX_MAX_COLUMNS + 1
    for values in sheet.iter_rows(min_row=number, max_row=number, min_col=first,
                                  values_only=True):
        if values.count(None) == len(values):
            continue
        for offset, value in enumerate(values):
            text = "" if value is None else _clean_cell(_cell_text(value))
            if text:
                raise _Unreadable(Issue(
                    N_("The sheet has more than %(max)d columns: row %(row)d has "
                       "\"%(header)s\" in column %(column)s. Only the first %(max)d columns "
                       "are read; please delete the columns you do not need, or move the "
                       "participant columns to the left."),
                    {"max": XLSX_MAX_COLUMNS, "row": number, "header": text,
                     "column": get_column_letter(first + offset)}))


def _cell_text(value: object) -> str:
    """A workbook value as the text the organizer sees (dates as ISO, 12.0 as 12)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat(" ")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _clean_cell(text: str) -> str:
    text = text.strip().replace("\x00", "")
    if len(text) > 1 and text[0] == "'" and text[1] in FORMULA_STARTS:
        return text[1:]
    return text


# --------------------------------------------------------------------------- validation


def validate_entry(cells: Mapping[str, str]) -> tuple[ParticipantEntry, list[Issue], list[Issue]]:
    """Check the cells of one row (or form) given by column key.

    Returns the parsed entry, the errors and the warnings; issues carry the column key.
    A key that is missing or blank means "not given".
    """
    entry = ParticipantEntry()
    errors: list[Issue] = []
    notes: list[Issue] = []

    def cell(key: str) -> str:
        return (cells.get(key) or "").strip()

    for column in COLUMNS:
        value = cell(column.key)
        if column.max_length and len(value) > column.max_length:
            errors.append(Issue(N_("Too long: at most %(max)d characters."),
                                {"max": column.max_length}, key=column.key))

    entry.company = single_spaced(cell("company"))
    if not entry.company:
        errors.append(Issue(N_("The company name is missing."), key="company"))
    entry.company_kana = kana_as_typed(cell("company_kana"))

    role = cell("role")
    if not role:
        errors.append(Issue(N_("The role is missing: enter buyer (バイヤー) or supplier "
                               "(サプライヤー)."), key="role"))
    elif _fold(role) not in _ROLE_WORDS:
        errors.append(Issue(N_("Unknown role \"%(value)s\": enter buyer (バイヤー/発注企業) or "
                               "supplier (サプライヤー/受注企業)."), {"value": role}, key="role"))
    else:
        entry.role = _ROLE_WORDS[_fold(role)]

    entry.code = unicodedata.normalize("NFKC", cell("code")).upper()
    if entry.code and not re.fullmatch(r"[0-9A-Z][0-9A-Z_-]*", entry.code):
        errors.append(Issue(N_("A code may contain only letters, digits, \"-\" and \"_\"."),
                            key="code"))
    entry.department = cell("department")
    entry.city = cell("city")
    entry.industry = cell("industry")

    prefecture = unicodedata.normalize("NFKC", cell("prefecture"))
    if prefecture:
        entry.prefecture = _prefecture(prefecture) or prefecture
        if _prefecture(prefecture) is None:
            notes.append(Issue(N_("\"%(value)s\" is not a Japanese prefecture; kept as written."),
                               {"value": prefecture}, key="prefecture"))

    entry.employees = _integer(cell("employees"), "employees", errors, minimum=0,
                               suffixes=("人", "名"))
    entry.max_meetings = _integer(cell("max_meetings"), "max_meetings", errors, minimum=0,
                                  suffixes=("件", "回"))
    entry.desks = _integer(cell("desks"), "desks", errors, minimum=1, suffixes=("台", "卓"))

    website = unicodedata.normalize("NFKC", cell("website"))
    if website and not re.match(r"https?://", website, re.IGNORECASE):
        if re.fullmatch(r"[\w.-]+\.[a-z]{2,}(/\S*)?", website, re.IGNORECASE):
            website = "https://" + website
        else:
            notes.append(Issue(N_("\"%(value)s\" does not look like a web address."),
                               {"value": website}, key="website"))
    entry.website = website

    technologies = _split_list(cell("technologies"))
    if technologies:
        entry.technologies, entry.tags = [], []
        for word in technologies:
            code = _TECHNOLOGY_WORDS.get(_fold(word))
            if code is not None:
                _append_once(entry.technologies, code)
            else:
                _append_once(entry.tags, word)
        if entry.tags:
            notes.append(Issue(N_("Not in the technology list, kept as free tags: %(tags)s"),
                               {"tags": list(entry.tags)}, key="technologies"))

    certifications = _split_list(cell("certifications"))
    if certifications:
        entry.certifications = []
        unknown = []
        for word in certifications:
            code = _CERTIFICATION_WORDS.get(_fold(word))
            _append_once(entry.certifications, code or word)
            if code is None:
                unknown.append(word)
        if unknown:
            notes.append(Issue(N_("Not in the certification list, kept as written: %(names)s"),
                               {"names": unknown}, key="certifications"))

    entry.contact_name = single_spaced(cell("contact_name"))
    entry.contact_kana = kana_as_typed(cell("contact_kana"))
    email = unicodedata.normalize("NFKC", cell("email"))
    if email:
        try:
            entry.email = validate_email(email, check_deliverability=False).normalized
        except EmailNotValidError:
            errors.append(Issue(N_("\"%(value)s\" is not a valid e-mail address."),
                                {"value": email}, key="email"))
        if not entry.contact_name:
            errors.append(Issue(N_("Enter the name of the contact person for this e-mail."),
                                key="contact_name"))
    entry.phone = phone_as_typed(cell("phone"))
    if entry.phone and not re.fullmatch(r"[0-9+()\- ]{6,}(?:\s*(?:内線|ext\.?)\s*\d+)?",
                                        entry.phone):
        notes.append(Issue(N_("\"%(value)s\" does not look like a phone number."),
                           {"value": entry.phone}, key="phone"))
    elif re.fullmatch(r"[1-9]\d{8,9}", entry.phone):
        # Digits only, 9-10 of them, no leading 0: a Japanese number that Excel stored as
        # a number and so lost its 0 (0531234567 -> 531234567).
        notes.append(Issue(N_("\"%(value)s\" may have lost its leading 0 (Excel stores "
                              "phone numbers typed as digits as numbers): check it."),
                           {"value": entry.phone}, key="phone"))
    return entry, errors, notes


def _integer(text: str, key: str, errors: list[Issue], *, minimum: int,
             suffixes: Sequence[str]) -> int | None:
    text = unicodedata.normalize("NFKC", text).replace(",", "").strip()
    for suffix in suffixes:
        text = text.removesuffix(suffix).strip()
    if not text:
        return None
    if not re.fullmatch(r"[+-]?\d+", text):
        errors.append(Issue(N_("\"%(value)s\" is not a whole number."), {"value": text}, key=key))
        return None
    value = int(text)
    if value < minimum:
        errors.append(Issue(N_("Must be %(minimum)d or more."), {"minimum": minimum}, key=key))
        return None
    return value


def _split_list(text: str) -> list[str]:
    words: list[str] = []
    for piece in _LIST_SEPARATORS.split(text):
        parts = [p.strip() for p in _SLASHES.split(piece) if p.strip()]
        start = 0
        while start < len(parts):
            # The longest run of slash-separated parts that is one known label.
            end = next((end for end in range(len(parts), start + 1, -1)
                        if _is_known_word("/".join(parts[start:end]))), start + 1)
            words.append("/".join(parts[start:end]))
            start = end
    return words


def _is_known_word(text: str) -> bool:
    return _fold(text) in _TECHNOLOGY_WORDS or _fold(text) in _CERTIFICATION_WORDS


def _append_once(items: list[str], item: str) -> None:
    if item not in items:
        items.append(item)


# --------------------------------------------------------------------------- matching


@dataclass(slots=True)
class _Plan:
    """How one entry lands in the database: the objects it touches and the changes."""

    action: RowAction
    organization: Organization | None
    participant: Participant | None
    person: Person | None
    organization_values: dict[str, Any]
    participant_values: dict[str, Any]
    person_values: dict[str, Any]
    make_contact: bool
    changes: list[str]
    errors: list[Issue]
    warnings: list[Issue]


class _Directory:
    """The organizations, participants and people an import compares against.

    Loaded once per import (not per row), indexed, and kept up to date while writing.
    """

    def __init__(self, session: Session, event: Event, name_keys: Iterable[str]) -> None:
        self.session = session
        self.event = event
        self.participants: list[Participant] = []
        # Keyed by the objects themselves, so rows written in this import (not yet
        # flushed, without ids) are found too.
        self._by_organization: dict[Organization, Participant] = {}
        self._by_code: dict[str, Participant] = {}
        for participant in session.scalars(
            select(Participant).where(Participant.event_id == event.id)
            .options(selectinload(Participant.organization),
                     selectinload(Participant.attendances).selectinload(Attendance.person))
        ):
            self.add_participant(participant)
        by_key: dict[str, list[Organization]] = {}
        keys = sorted(set(name_keys))
        for start in range(0, len(keys), 500):
            chunk = keys[start:start + 500]
            for org in session.scalars(select(Organization)
                                       .where(Organization.name_key.in_(chunk))
                                       .options(selectinload(Organization.people))
                                       .order_by(Organization.id)):
                by_key.setdefault(org.name_key, []).append(org)
        self.organizations = by_key

    def organization(self, name: str) -> tuple[Organization | None, list[Issue]]:
        """The organization called ``name``: the same name key and no other legal form.

        Of several, the one in this event first, then one stating the same legal form,
        then the oldest. A company of the same name key but another legal form is not
        it; the returned warning says so.
        """
        same_key = self.organizations.get(company_name_key(name), [])
        candidates = called_alike(name, same_key, lambda o: o.name)
        if not candidates:
            if not same_key:
                return None, []
            return None, [Issue(
                N_("The directory has %(name)s, the same name with another legal form: this "
                   "row is added as a different company."),
                {"name": same_key[0].name}, key="company")]
        chosen = next((o for o in candidates if o in self._by_organization), candidates[0])
        notes = []
        if len(candidates) > 1:
            notes.append(Issue(N_("Several companies in the directory have this name; using "
                                  "\"%(name)s\" (no. %(id)d)."),
                               {"name": chosen.name, "id": chosen.id}, key="company"))
        return chosen, notes

    def participant_of(self, organization: Organization | None) -> Participant | None:
        return None if organization is None else self._by_organization.get(organization)

    def participant_with_code(self, code: str) -> Participant | None:
        return self._by_code.get(code.upper())

    def add_organization(self, organization: Organization) -> None:
        self.organizations.setdefault(organization.name_key, []).append(organization)

    def add_participant(self, participant: Participant) -> None:
        """Index a participant (call again after its code or organization is set)."""
        if participant not in self.participants:
            self.participants.append(participant)
        self._by_organization[participant.organization] = participant
        if participant.code:
            self._by_code[participant.code.upper()] = participant


def _in_other_events(person: Person, event: Event) -> bool:
    """Whether ``person`` attends a participant of another event than ``event`` (in any
    status): what is written of it then shows in that event as well."""
    return any(a.participant.event_id != event.id for a in person.attendances)


def _find_person(organization: Organization | None, entry: ParticipantEntry) -> Person | None:
    if organization is None:
        return None
    people = organization.people
    if entry.email:
        match = next((p for p in people if p.email.casefold() == entry.email.casefold()), None)
        if match is not None:
            return match
    if entry.contact_name:
        name = _fold(entry.contact_name)
        return next((p for p in people if _fold(p.name) == name), None)
    return None


def _organization_values(entry: ParticipantEntry, existing: Organization | None) -> dict[str, Any]:
    """The organization fields the entry sets: only the given ones (a blank cell keeps)."""
    values: dict[str, Any] = {}
    if existing is None:
        values["name"] = entry.company
        values["name_key"] = entry.name_key
    for name in ("company_kana", "prefecture", "city", "industry", "website"):
        value = getattr(entry, name)
        if value:
            values["name_kana" if name == "company_kana" else name] = value
    if entry.employees is not None:
        values["employees"] = entry.employees
    if entry.technologies is not None:
        values["technologies"] = list(entry.technologies)
        # Free tags are added, never removed: they may have been typed by hand.
        tags = list(existing.tags) if existing is not None else []
        for tag in entry.tags:
            _append_once(tags, tag)
        values["tags"] = tags
    if entry.certifications is not None:
        values["certifications"] = list(entry.certifications)
    return values


def _participant_values(entry: ParticipantEntry) -> dict[str, Any]:
    values: dict[str, Any] = {"role": entry.role}
    if entry.code:
        values["code"] = entry.code
    if entry.department:
        values["department"] = entry.department
    if entry.max_meetings is not None:
        values["max_meetings"] = entry.max_meetings
    if entry.desks is not None:
        values["parallel_desks"] = entry.desks
    return values


def _person_values(entry: ParticipantEntry) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if entry.contact_name:
        values["name"] = entry.contact_name
    if entry.contact_kana:
        values["name_kana"] = entry.contact_kana
    if entry.email:
        values["email"] = entry.email
    if entry.phone:
        values["phone"] = entry.phone
    return values


def _spacing_key(value: object) -> object:
    """How stored and imported values are compared: text without regard to its spacing
    (a full-width or doubled space is the same text), anything else as it is."""
    return re.sub(r"\s+", " ", value).strip() if isinstance(value, str) else value


def _changed_values(obj: object | None, values: Mapping[str, Any]) -> dict[str, Any]:
    """The ``values`` that differ from what ``obj`` stores (all of them for a new object).

    Only these are written: a value that differs in its spacing only (「望月　太郎」
    registered, 「望月 太郎」 in a file) is neither reported as a change nor rewritten.
    """
    if obj is None:
        return dict(values)
    return {name: value for name, value in values.items()
            if _spacing_key(getattr(obj, name)) != _spacing_key(value)}


def _plan(directory: _Directory, entry: ParticipantEntry) -> _Plan:
    errors: list[Issue] = []
    organization, notes = directory.organization(entry.company)
    participant = directory.participant_of(organization)
    person = _find_person(organization, entry)
    if (person is None and participant is not None and entry.contact_name
            and not entry.email):
        # A name the company has nobody of, and no e-mail address to tell who it is: the
        # contact's name is corrected, and the blank e-mail cell keeps its address, as
        # blank cells do (the preview says so, and what to do if it is someone else).
        # Unless the contact serves another event too: a person is shared across events,
        # so renaming it would rewrite that fair's contact. Then the new name becomes a
        # new person without an address (giving it the old one would send the new
        # contact's e-mail to someone else by name), and the old one is left as it is.
        old = contact_of(participant)
        if old is not None and not _in_other_events(old, directory.event):
            person = old

    if entry.code:
        holder = directory.participant_with_code(entry.code)
        if holder is not None and holder is not participant:
            errors.append(Issue(N_("The code %(code)s is already used by %(name)s."),
                                {"code": entry.code, "name": holder.organization.name},
                                key="code"))

    organization_values = _changed_values(organization, _organization_values(entry, organization))
    participant_values = _changed_values(participant, _participant_values(entry))
    person_values = _person_values(entry)
    if person_values:
        person_values = _changed_values(person, person_values)
    changes = ([f"organization.{name}" for name in organization_values]
               + [f"participant.{name}" for name in participant_values]
               + [f"person.{name}" for name in person_values])
    make_contact = bool(entry.contact_name)
    if make_contact and participant is not None:
        attendance = next((a for a in participant.attendances
                           if person is not None and a.person is person), None)
        others = [a for a in participant.attendances if a is not attendance and a.is_contact]
        if attendance is None or not attendance.is_contact or others:
            changes.append("participant.contact")

    if organization is None:
        action = RowAction.CREATE
    elif participant is None:
        action = RowAction.REUSE
    else:
        action = RowAction.UPDATE if changes else RowAction.UNCHANGED
    return _Plan(action, organization, participant, person, organization_values,
                 participant_values, person_values, make_contact, changes, errors, notes)


# --------------------------------------------------------------------------- preview


def preview_import(session: Session, event: Event, data: bytes, filename: str, *,
                   max_rows: int = DEFAULT_MAX_ROWS) -> ImportPreview:
    """Read and check a participant file against ``event``; write nothing.

    File-level problems (unreadable, empty, required columns missing, too many rows)
    go to ``file_errors``; everything else is reported per row and column.
    """
    preview = ImportPreview(filename=filename)
    try:
        table = _read_table(data, filename, max_rows=max_rows)
    except _Unreadable as error:
        preview.file_errors.append(error.issue)
        return preview
    preview.file_format = table.file_format
    if not table.rows:
        preview.file_errors.append(Issue(N_("The file is empty.")))
        return preview

    header_index = header_row_index(table.rows)
    header_number, headers = table.rows[header_index]
    if header_index:
        skipped = [c for _number, cells in table.rows[:header_index] for c in cells if c]
        first, last = table.rows[0][0], table.rows[header_index - 1][0]
        text = " / ".join(skipped)
        text = text if len(text) <= 80 else text[:79] + "…"
        preview.file_warnings.append(
            Issue(N_("Row %(row)s, above the column names, was not read: %(text)s"),
                  {"row": first, "text": text})
            if first == last else
            Issue(N_("Rows %(first)s–%(last)s, above the column names, were not read: "
                     "%(text)s"), {"first": first, "last": last, "text": text}))
    preview.headers = headers
    for header in headers:
        if not header or header in FIX_HEADERS:
            continue  # the app's own columns in a file of rows to fix: nothing to say
        key = _HEADER_LOOKUP.get(_header_key(header))
        if key is None and _header_key(header) in _ROW_COUNTER_HEADERS:
            preview.file_warnings.append(Issue(
                N_("The column \"%(header)s\" was ignored: a row number is not a participant "
                   "code. If it holds the codes, name it \"コード\" (code)."),
                {"header": header}, header=header))
        elif key is None:
            preview.file_warnings.append(Issue(N_("The column \"%(header)s\" is not known and "
                                                  "was ignored."), {"header": header},
                                               header=header))
        elif key in preview.columns:
            preview.file_errors.append(Issue(
                N_("The columns \"%(first)s\" and \"%(second)s\" both mean %(meaning)s."),
                {"first": preview.columns[key], "second": header,
                 "meaning": COLUMNS_BY_KEY[key].header}, header=header))
        else:
            preview.columns[key] = header
    positions = {key: headers.index(header) for key, header in preview.columns.items()}

    missing = [COLUMNS_BY_KEY[k] for k in REQUIRED_KEYS if k not in preview.columns]
    if missing:
        preview.file_errors.append(Issue(
            N_("Required columns are missing: %(missing)s. The column names should be in the "
               "first row, or below a title of at most %(title_rows)s rows; found in row "
               "%(row)s: %(found)s."),
            # Lists, joined in the reader's language (、 in Japanese) when shown.
            {"missing": [f"{c.header} ({c.aliases[0]})" for c in missing],
             "title_rows": TITLE_ROWS_MAX, "row": header_number,
             "found": [h for h in headers if h] or ["-"]}))
    data_rows = table.rows[header_index + 1 :]
    row_count = len(data_rows) + table.more_rows
    if not row_count and not missing:
        preview.file_errors.append(Issue(N_("The file has a header row (row %(row)d) but no "
                                            "participants below it."), {"row": header_number}))
    if row_count > max_rows:
        preview.file_errors.append(Issue(N_("The file has %(count)d rows; at most %(max)d can be "
                                            "imported at once. Please split it."),
                                         {"count": row_count, "max": max_rows}))
    if preview.file_errors:
        return preview

    # The rows not duplicates of earlier ones, by name key: (row, legal form, name).
    rows_of_key: dict[str, list[tuple[int, str, str]]] = {}
    first_row_of_code: dict[str, int] = {}
    for number, cells in data_rows:
        by_key = {key: cells[pos] if pos < len(cells) else "" for key, pos in positions.items()}
        entry, errors, notes = validate_entry(by_key)
        row = RowPreview(number=number, cells=by_key, entry=entry, errors=errors, warnings=notes,
                         raw=cells)
        if entry.company:
            _check_same_name(row, rows_of_key.setdefault(entry.name_key, []))
        if entry.code:
            earlier = first_row_of_code.setdefault(entry.code, number)
            if earlier != number:
                row.errors.append(Issue(N_("The code %(code)s is also used in row %(row)d."),
                                        {"code": entry.code, "row": earlier}, key="code"))
        preview.rows.append(row)

    directory = _Directory(session, event, (r.entry.name_key for r in preview.rows))
    first_row_of_organization: dict[int, int] = {}
    planned: list[tuple[RowPreview, _Plan]] = []
    for row in preview.rows:
        if not row.entry.company or row.action is RowAction.DUPLICATE:
            continue
        plan = _plan(directory, row.entry)
        if plan.organization is not None:
            # Rows of two legal forms both match a company of the directory whose name
            # states none: they cannot both be it.
            earlier = first_row_of_organization.setdefault(plan.organization.id, row.number)
            if earlier != row.number:
                row.action = RowAction.DUPLICATE
                row.warnings[:] = [i for i in row.warnings if i.key != "company"]
                row.errors.append(Issue(
                    N_("The same company as row %(row)d: both rows match %(name)s in the "
                       "directory."), {"row": earlier, "name": plan.organization.name},
                    key="company"))
                continue
        row.action = plan.action
        row.changes = plan.changes
        row.errors.extend(plan.errors)
        row.warnings.extend(plan.warnings)
        row.organization_id = plan.organization.id if plan.organization else None
        row.participant_id = plan.participant.id if plan.participant else None
        planned.append((row, plan))
    # Once every row's errors are known: the codes the rows get, as apply_import gives
    # them (to the valid rows, in order), so that a change of code can be said.
    codes = _CodeAllocator(directory, [r.entry.code for r in preview.valid_rows if r.entry.code])
    for row, plan in planned:
        code = row.entry.code
        if row.is_valid:
            code = _code_after(plan.participant, row.entry, codes)
            codes.reserve(code)
        if plan.action is RowAction.UPDATE:
            warnings, notes = _update_notes(plan, row.entry, preview.columns, code)
            row.warnings.extend(warnings)
            row.notes.extend(notes)
        if plan.participant is not None and plan.participant.status in _NOT_TAKING_PART:
            row.warnings.append(Issue(_NOT_TAKING_PART[plan.participant.status], key="company"))
        if not _reachable_by_email(plan, row.entry) and "email" not in row.error_keys():
            row.warnings.append(Issue(
                N_("No e-mail address: this company's link and schedule cannot be e-mailed "
                   "to it; you will have to hand them over yourself (on its link slip, for "
                   "example)."), key="email"))
    for row in preview.rows:
        for issue_list in (row.errors, row.warnings):
            issue_list[:] = [_with_header(i, preview.columns) for i in issue_list]
    return preview


#: What the preview says of a row for a company of the event that does not take part:
#: the import updates its details but does not change its status.
_NOT_TAKING_PART: dict[str, str] = {
    ParticipantStatus.PENDING: N_("This company's registration is waiting for approval: "
                                  "importing the row does not approve it."),
    ParticipantStatus.REJECTED: N_("This company's registration was declined: importing the "
                                   "row does not make it take part."),
    ParticipantStatus.WITHDRAWN: N_("This company withdrew from this event: importing the row "
                                    "does not make it take part again."),
}


def _check_same_name(row: RowPreview, earlier: list[tuple[int, str, str]]) -> None:
    """Mark ``row`` a duplicate of the first ``earlier`` row (same name key) that names
    the same company, or add it to them, with a warning if one differs in its legal form
    only."""
    entry = row.entry
    same = next((number for number, form, _name in earlier
                 if same_legal_form(form, entry.legal_form)), None)
    if same is not None:
        row.action = RowAction.DUPLICATE
        row.errors.append(Issue(
            N_("The same company as row %(row)d (names are compared ignoring spaces, "
               "full-width forms and a missing legal form; 株式会社, (株) and ㈱ are the "
               "same, but 有限会社 and 株式会社 are different companies)."),
            {"row": same}, key="company"))
        return
    if earlier:
        number, _form, name = earlier[0]
        row.warnings.append(Issue(
            N_("Row %(row)d has the same name with another legal form (%(name)s): the two "
               "are taken to be different companies."),
            {"row": number, "name": name}, key="company"))
    earlier.append((row.number, entry.legal_form, entry.company))


def _reachable_by_email(plan: _Plan, entry: ParticipantEntry) -> bool:
    """Whether, once the row is written, someone of the participant has an e-mail address
    (e-mails go to its contacts, else to any attendee: see :mod:`scheduler.notifications`).
    A blank cell keeps what is stored, so an update may keep an address."""
    if entry.email:
        return True
    if entry.contact_name and plan.person is not None and plan.person.email:
        return True  # the person of that name in the directory becomes the contact
    participant = plan.participant
    return participant is not None and any(a.person.email for a in participant.attendances)


# Where each change of an update comes from: "table.attribute" -> the file's column key.
_CHANGE_COLUMNS = {
    "organization.name_kana": "company_kana", "organization.tags": "technologies",
    "participant.parallel_desks": "desks", "participant.contact": "contact_name",
    "person.name": "contact_name", "person.name_kana": "contact_kana",
}


def changed_columns(changes: Iterable[str]) -> list[str]:
    """The column keys an update changes, in the file's column order, each once."""
    keys = {_CHANGE_COLUMNS.get(change, change.split(".", 1)[1]) for change in changes}
    return [column.key for column in COLUMNS if column.key in keys]


def _update_notes(
    plan: _Plan, entry: ParticipantEntry, headers: Mapping[str, str], code: str
) -> tuple[list[Issue], list[Issue]]:
    """What an update of an existing participant changes, said before it is written:
    warnings for what matters beyond the row (another contact person, or the contact
    renamed; another role; another code, which slips and schedules show), and the other
    changed columns as a note. ``code`` is the participant's code after the import."""
    warnings: list[Issue] = []
    said: set[str] = set()
    contact = _contact_note(plan, entry)
    if contact is not None:
        warnings.append(contact)
        said.add("contact_name")
    participant = plan.participant
    if participant is None:  # not an update of a participant of the event
        return warnings, _change_notes(plan, headers, said)
    if entry.role and participant.role != entry.role:
        warnings.append(Issue(_ROLE_CHANGES[entry.role], key="role"))
        said.add("role")
        if code == participant.code and _is_role_code(code, participant.role):
            warnings.append(Issue(
                N_("The code %(code)s is kept, as the file gives it; leave the code cell blank "
                   "to give the next free code of the new role instead."),
                {"code": code}, key="code"))
    if participant.code and code and code != participant.code:
        warnings.append(Issue(
            N_("The code changes from %(old)s to %(new)s: what was printed with %(old)s "
               "(link slips, schedules) shows the old code."),
            {"old": participant.code, "new": code}, key="code"))
        said.add("code")
    return warnings, _change_notes(plan, headers, said)


#: What the preview says of a change of role, by the new role (a message each, so that
#: the roles are named in the reader's language).
_ROLE_CHANGES: dict[str, str] = {
    ParticipantRole.BUYER: N_("The role changes from supplier to buyer."),
    ParticipantRole.SUPPLIER: N_("The role changes from buyer to supplier."),
}


def _contact_note(plan: _Plan, entry: ParticipantEntry) -> Issue | None:
    """A warning when another person becomes the contact (the old one stops being it), or
    when the contact's name is written anew; none when the contact stays as it is."""
    old = contact_of(plan.participant) if plan.participant is not None else None
    if not entry.contact_name or old is None or _fold(old.name) == _fold(entry.contact_name):
        return None
    if plan.person is None and not entry.email and old.email:
        # Not renamed, as the contact serves another event too (see _plan): a new person
        # without an address, while e-mails go to the attendees who have one.
        return Issue(N_("The contact person changes from %(old)s to %(new)s. %(old)s is not "
                        "renamed, as they also take part in another event, and %(new)s has "
                        "no e-mail address, as the e-mail cell is blank: e-mails go to %(old)s "
                        "(%(email)s) until you enter the address of %(new)s."),
                     {"old": old.name, "new": entry.contact_name, "email": old.email},
                     key="contact_name")
    if plan.person is not old or entry.email:
        # Another person becomes the contact, or the contact's name is written anew next
        # to its e-mail address.
        return Issue(N_("The contact person changes from %(old)s to %(new)s."),
                     {"old": old.name, "new": entry.contact_name}, key="contact_name")
    # No e-mail address to tell who it is: the contact is renamed (see _plan).
    if old.email:
        return Issue(N_("The contact person %(old)s is renamed %(new)s and keeps the e-mail "
                        "address %(email)s, as the e-mail cell is blank. If %(new)s is "
                        "someone else, enter their e-mail address."),
                     {"old": old.name, "new": entry.contact_name, "email": old.email},
                     key="contact_name")
    return Issue(N_("The contact person %(old)s is renamed %(new)s. If %(new)s is someone "
                    "else, enter their e-mail address."),
                 {"old": old.name, "new": entry.contact_name}, key="contact_name")


def _change_notes(plan: _Plan, headers: Mapping[str, str], said: set[str]) -> list[Issue]:
    """Which columns an update changes, as plain information (not a warning)."""
    notes: list[Issue] = []
    columns = [key for key in changed_columns(plan.changes) if key not in said]
    if columns:
        notes.append(Issue(
            N_("Changes: %(columns)s."),
            {"columns": [headers.get(key, COLUMNS_BY_KEY[key].header) for key in columns]},
        ))
    return notes


def _with_header(issue: Issue, columns: Mapping[str, str]) -> Issue:
    if not issue.key or issue.header:
        return issue
    return Issue(issue.message, issue.params, key=issue.key,
                 header=columns.get(issue.key, COLUMNS_BY_KEY[issue.key].header))


# --------------------------------------------------------------------------- writing


def apply_import(session: Session, event: Event, preview: ImportPreview, *, only_valid: bool,
                 user_id: int | None) -> ImportResult:
    """Write the rows of ``preview`` to ``event`` (flush only; the caller commits).

    Organizations are found again by name key at write time, so importing the same
    file twice creates nothing twice. A blank cell leaves the stored value as it is.
    Raises :class:`ValidationFailed` if the file has errors and ``only_valid`` is not
    set, and :class:`Conflict` if the database changed so that a row no longer fits.
    """
    if preview.file_errors:
        raise _failure(preview.file_errors[0])
    if preview.error_rows and not only_valid:
        raise ValidationFailed(
            N_("%(count)d rows have errors: correct the file, or import only the valid rows."),
            params={"count": len(preview.error_rows)})
    rows = preview.valid_rows
    result = ImportResult(skipped=len(preview.rows) - len(rows))
    directory = _Directory(session, event, (r.entry.name_key for r in rows))
    codes = _CodeAllocator(directory, [r.entry.code for r in rows if r.entry.code])
    written: list[Participant] = []
    for row in rows:
        plan = _plan(directory, row.entry)
        if plan.errors:
            raise Conflict(N_("Row %(row)d no longer fits, the data changed since the "
                              "preview: %(problem)s"),
                           params={"row": row.number, "problem": plan.errors[0].text()})
        participant, person_added = _write(session, directory, codes, row.entry, plan)
        written.append(participant)
        result.people_added += person_added
        counter = {RowAction.CREATE: "created", RowAction.REUSE: "reused",
                   RowAction.UPDATE: "updated"}.get(plan.action, "unchanged")
        setattr(result, counter, getattr(result, counter) + 1)
    session.flush()
    result.participant_ids = [p.id for p in written]
    audit.record(session, "participants.import", event_id=event.id, user_id=user_id,
                 details={"filename": preview.filename, "created": result.created,
                          "reused": result.reused, "updated": result.updated,
                          "unchanged": result.unchanged, "skipped": result.skipped})
    return result


# The key of a run's parameters under which it keeps which participant each of its
# codes meant (:func:`scheduler.problem_builder.participant_ids`). A code names a
# company only for a while: a role change re-codes it, and an organizer may type another
# code by hand. The problem's strict format has no room for the record, so it is kept
# beside it; publishing checks by it that each code still means the same company.
PARTICIPANT_IDS = "participant_ids"


def codes_of_runs(session: Session, event: Event) -> set[str]:
    """Every code a stored run of ``event`` used (as its :data:`PARTICIPANT_IDS` say).

    Code allocators never hand these out again: a freed code given to a newcomer would
    make an older run's meetings of that code look like the newcomer's.
    """
    codes: set[str] = set()
    for parameters in session.scalars(
        select(ScheduleRun.parameters).where(ScheduleRun.event_id == event.id)
    ):
        codes.update((parameters or {}).get(PARTICIPANT_IDS) or {})
    return codes


def next_participant_code(session: Session, event: Event, role: str) -> str:
    """The next code of ``role`` (``B``/``S`` and three digits) after the highest any
    participant of ``event`` holds or any stored run used (:func:`codes_of_runs`): a
    stored run still means, by a code freed since, the company that had it."""
    prefix = CODE_PREFIX[ParticipantRole(role)]
    held = session.scalars(
        select(Participant.code).where(
            Participant.event_id == event.id, Participant.code.like(f"{prefix}%")
        )
    )
    numbers = [
        int(code[len(prefix) :])
        for code in [*held, *codes_of_runs(session, event)]
        if code.startswith(prefix)
        and code[len(prefix) :].isascii()
        and code[len(prefix) :].isdigit()
    ]
    return f"{prefix}{max(numbers, default=0) + 1:03d}"


class _CodeAllocator:
    """Gives participants without a code the next B001/S001-style code after the highest.

    The highest of the event's participants (whatever their status) and of the codes its
    stored runs used: a code freed by a role change must not go to a newcomer while a
    run still means the company that had it (:func:`codes_of_runs`).
    """

    def __init__(self, directory: _Directory, reserved: Iterable[str]) -> None:
        self.highest: dict[str, int] = {}
        for code in [
            *(p.code for p in directory.participants),
            *codes_of_runs(directory.session, directory.event),
            *reserved,
        ]:
            self.reserve(code)

    def reserve(self, code: str) -> None:
        code = code.upper()
        if code[:1] in CODE_PREFIX.values() and code[1:].isdigit():
            self.highest[code[0]] = max(self.highest.get(code[0], 0), int(code[1:]))

    def next_code(self, role: str) -> str:
        prefix = CODE_PREFIX[role]
        number = self.highest.get(prefix, 0) + 1
        self.highest[prefix] = number
        return f"{prefix}{number:03d}"


def _is_role_code(code: str, role: str) -> bool:
    """Whether ``code`` is of the B001/S001 kind given to participants of ``role``."""
    return code[:1].upper() == CODE_PREFIX.get(role) and code[1:].isdigit()


def code_for_new_role(participant: Participant, code: str, role: str) -> str:
    """The code the participant form saves when it shows ``code`` with ``role``: blank
    (the next free code of the new role) where only the role was changed and the code
    is the old role's kind (S003 is no buyer's code), else ``code`` as typed. An import
    keeps a code its file gives, and says so (:func:`_update_notes`)."""
    unchanged = code.strip().upper() == (participant.code or "").upper()
    if unchanged and role != participant.role and _is_role_code(code.strip(), participant.role):
        return ""
    return code


def code_holder(session: Session, event: Event, code: str) -> Participant | None:
    """The participant of ``event`` that has ``code`` (codes compare without case)."""
    return session.scalars(
        select(Participant).where(
            Participant.event_id == event.id, func.upper(Participant.code) == code.upper()
        )
    ).first()


def _code_after(participant: Participant | None, entry: ParticipantEntry,
                codes: _CodeAllocator) -> str:
    """The participant's code once ``entry`` is saved, on the form as on import: the code
    given; else its own, unless it has none or its role changes (the letter of a B001 or
    S001 code names the role): then the next free code of its role.

    A registration not approved that has no code keeps having none: it gets one when
    approved (:func:`scheduler.registration.approve`), not by an update of its details.
    """
    if entry.code:
        return entry.code
    if participant is None:
        return codes.next_code(entry.role)
    if not participant.code and participant.status in _NOT_TAKING_PART:
        return ""
    if participant.code and participant.role == entry.role:
        return participant.code
    return codes.next_code(entry.role)


def code_sort_key(code: str) -> tuple[bool, tuple[str | int, ...]]:
    """How codes are ordered: by their letters, then by their number as a number
    (S2 before S10 before S100), with participants without a code last."""
    parts = re.split(r"([0-9]+)", code.upper())
    # The parts alternate text, digits, text…, so a position always compares alike.
    return (not code, tuple(int(p) if i % 2 else p for i, p in enumerate(parts)))


def _write(session: Session, directory: _Directory, codes: _CodeAllocator,
           entry: ParticipantEntry, plan: _Plan) -> tuple[Participant, int]:
    organization = plan.organization
    if organization is None:
        organization = Organization(name=entry.company, name_key=entry.name_key)
        session.add(organization)
        directory.add_organization(organization)
    for name, value in plan.organization_values.items():
        setattr(organization, name, value)

    participant = plan.participant
    code = _code_after(participant, entry, codes)  # before the role is set: it may change
    if participant is None:
        participant = Participant(event_id=directory.event.id, organization=organization,
                                  role=entry.role)
        session.add(participant)
    for name, value in plan.participant_values.items():
        setattr(participant, name, value)
    participant.code = code
    codes.reserve(code)

    person_added = 0
    person = plan.person
    if plan.person_values:
        if person is None:
            person = Person(organization=organization, name=entry.contact_name)
            session.add(person)
            person_added = 1
        for name, value in plan.person_values.items():
            setattr(person, name, value)

    if person is not None and plan.make_contact:
        attendance = next((a for a in participant.attendances if a.person is person), None)
        if attendance is None:
            attendance = Attendance(participant=participant, person=person)
            session.add(attendance)
        for other in participant.attendances:
            if other is not attendance and other.is_contact:
                other.is_contact = False
        attendance.is_contact = True
    directory.add_participant(participant)
    return participant, person_added


# --------------------------------------------------------------------------- one by hand


def save_entry(session: Session, event: Event, entry: ParticipantEntry, *,
               participant: Participant | None = None, user_id: int | None) -> Participant:
    """Add a participant to ``event`` from the form, or change ``participant``.

    For a new participant, an organization with the same name key in the directory is
    reused (as on import). Editing renames the participant's own organization unless
    the new name belongs to another company. Unlike an import, blank fields of the form
    clear the stored values. Raises :class:`ValidationFailed` naming the field.
    """
    directory = _Directory(session, event, [entry.name_key])
    codes = _CodeAllocator(directory, [entry.code] if entry.code else [])
    if participant is None:
        plan = _plan(directory, entry)
        if plan.participant is not None:
            raise ValidationFailed(N_("%(name)s already takes part in this event."),
                                   params={"name": plan.participant.organization.name},
                                   field="company")
        if plan.errors:
            raise _failure(plan.errors[0])
        participant, _ = _write(session, directory, codes, entry, plan)
        session.flush()
        audit.record(session, "participant.create", event_id=event.id, user_id=user_id,
                     participant_id=participant.id, target=participant)
        return participant

    organization = participant.organization
    other, _ = directory.organization(entry.company)
    if other is not None and other is not organization:
        raise ValidationFailed(N_("Another company in the directory is called %(name)s."),
                               params={"name": other.name}, field="company")
    holder = directory.participant_with_code(entry.code) if entry.code else None
    if holder is not None and holder is not participant:
        raise ValidationFailed(N_("The code %(code)s is already used by %(name)s."),
                               params={"code": entry.code, "name": holder.organization.name},
                               field="code")
    before = _snapshot(participant)
    organization.name = entry.company
    organization.name_key = entry.name_key
    organization.name_kana = entry.company_kana
    for name in ("prefecture", "city", "industry", "website", "employees"):
        setattr(organization, name, getattr(entry, name))
    organization.technologies = list(entry.technologies or [])
    organization.tags = list(entry.tags)
    organization.certifications = list(entry.certifications or [])
    participant.code = _code_after(participant, entry, codes)  # as an import does
    participant.role = entry.role
    participant.department = entry.department
    participant.max_meetings = entry.max_meetings
    participant.parallel_desks = entry.desks or 1
    _set_contact(session, participant, entry)
    session.flush()
    after = _snapshot(participant)
    audit.record(session, "participant.update", event_id=event.id, user_id=user_id,
                 participant_id=participant.id, target=participant,
                 details={k: [before[k], after[k]] for k in after if before.get(k) != after[k]})
    return participant


def _failure(issue: Issue) -> ValidationFailed:
    """An issue as a domain error (same msgid and parameters, so it translates alike; a
    list parameter written out, since the error's reader fills it in as it is)."""
    return ValidationFailed(issue.message, params=joined(issue.params, ", "),
                            field=issue.key or None)


def contact_of(participant: Participant) -> Person | None:
    """The participant's contact person (the first attendee if none is marked)."""
    attendances = sorted(participant.attendances, key=lambda a: (not a.is_contact, a.id or 0))
    return attendances[0].person if attendances else None


def _set_contact(session: Session, participant: Participant, entry: ParticipantEntry) -> None:
    """The form edits the contact person in place (the person, not a new one).

    Unless the contact also serves another event and the form names someone else (another
    name or e-mail address): a person is shared across events, so editing it in place
    would rewrite that fair's contact (review: the organizer's form did, an import did
    not). The contact is then the company's person with that address or name, or a new
    one; the former contact is left as it is, no longer this participant's contact. A
    contact shared with another event keeps what the form leaves blank."""
    person = contact_of(participant)
    if not entry.contact_name:
        for attendance in participant.attendances:
            attendance.is_contact = False
        return
    if (
        person is not None
        and _someone_else(person, entry)
        and _in_other_events(person, participant.event)
    ):
        other = _find_person(participant.organization, entry)
        if other is None or other is person:
            other = Person(organization=participant.organization, name=entry.contact_name)
            session.add(other)
        if not any(a.person is other for a in participant.attendances):
            session.add(Attendance(participant=participant, person=other, is_contact=True))
        person = other
    if person is None:
        person = _find_person(participant.organization, entry) or Person(
            organization=participant.organization, name=entry.contact_name)
        session.add(person)
        session.add(Attendance(participant=participant, person=person, is_contact=True))
    # A person who serves another event keeps what the form leaves blank: a blank field
    # here would clear it in that fair too (review: another event's contact lost its
    # phone number). Their corrections, like anyone's, apply everywhere.
    shared = person.id is not None and _in_other_events(person, participant.event)
    for name, value in (
        ("name", entry.contact_name),
        ("name_kana", entry.contact_kana),
        ("email", entry.email),
        ("phone", entry.phone),
    ):
        if value or not shared:
            setattr(person, name, value)
    for attendance in participant.attendances:
        attendance.is_contact = attendance.person is person


def _someone_else(person: Person, entry: ParticipantEntry) -> bool:
    """Whether the form's contact is another person than ``person``: another e-mail
    address when both have one, else another name. The same address with a corrected
    name is the same person, and so is the same name given or cleared an address."""
    email = (entry.email or "").casefold()
    if email and person.email:
        return email != person.email.casefold()
    return _fold(person.name) != _fold(entry.contact_name)


def _snapshot(participant: Participant) -> dict[str, Any]:
    organization = participant.organization
    person = contact_of(participant)
    return {
        "name": organization.name, "role": participant.role, "code": participant.code,
        "department": participant.department, "max_meetings": participant.max_meetings,
        "parallel_desks": participant.parallel_desks,
        "contact": person.name if person else "", "email": person.email if person else "",
    }


def entry_cells(participant: Participant, language: str = "ja") -> dict[str, str]:
    """The participant as cells by column key, as the export and the edit form show it:
    the role and the technology and certification names in ``language`` ("ja" or "en";
    the import reads both)."""
    from scheduler.vocabulary import certification_label, technology_label

    english = language.startswith("en")
    separator = ", " if english else "、"
    organization = participant.organization
    person = contact_of(participant)
    return {
        "code": participant.code,
        "company": organization.name,
        "company_kana": organization.name_kana,
        "role": (ROLE_LABELS_EN if english else ROLE_LABELS).get(participant.role,
                                                                participant.role),
        "department": participant.department,
        "prefecture": organization.prefecture,
        "city": organization.city,
        "industry": organization.industry,
        "employees": "" if organization.employees is None else str(organization.employees),
        "website": organization.website,
        "technologies": separator.join(
            [technology_label(c, language) for c in organization.technologies]
            + list(organization.tags)),
        "certifications": separator.join(certification_label(c, language)
                                         for c in organization.certifications),
        "contact_name": person.name if person else "",
        "contact_kana": person.name_kana if person else "",
        "email": person.email if person else "",
        "phone": person.phone if person else "",
        "max_meetings": "" if participant.max_meetings is None else str(participant.max_meetings),
        "desks": str(participant.parallel_desks),
    }
