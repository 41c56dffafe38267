"""Pages of a long list (a 950-company fair's participants or directory), with links that
keep the list's search and filters.

A page's links are the current address with only ``page`` changed, so every filter,
search word and sort in the query string travels from page to page. A page number
that is not a number, or outside the list, shows the nearest page instead of an error
(an old bookmark after companies withdrew still opens the last page).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar
from urllib.parse import urlencode, urlsplit

from flask import request

T = TypeVar("T")

PAGE_ARG = "page"


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a list: its items, where it stands, and the links to the others."""

    items: list[T]
    number: int  # 1-based
    per_page: int
    total: int  # items in the whole (filtered) list
    path: str  # the list's address without its query string
    args: tuple[tuple[str, str], ...]  # the query string without ``page``
    fragment: str = ""  # where on the page the links land (an element's id), if anywhere

    @property
    def pages(self) -> int:
        """How many pages the list has (one, even when it is empty)."""
        return max(1, -(-self.total // self.per_page))

    @property
    def first(self) -> int:
        """The 1-based position of the page's first item in the list (0 when empty)."""
        return (self.number - 1) * self.per_page + 1 if self.items else 0

    @property
    def last(self) -> int:
        """The 1-based position of the page's last item in the list."""
        return self.first + len(self.items) - 1 if self.items else 0

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages

    def url(self, number: int) -> str:
        """This list's address at page ``number``, every other argument kept.

        Page 1 has no ``page`` argument, so the first page has one address.
        """
        pairs = list(self.args)
        if number > 1:
            pairs.append((PAGE_ARG, str(number)))
        address = f"{self.path}?{urlencode(pairs)}" if pairs else self.path
        return f"{address}#{self.fragment}" if self.fragment else address

    @property
    def here(self) -> str:
        """This page's own address (where a form on it sends the reader back to)."""
        return self.url(self.number)

    def numbers(self, around: int = 2) -> list[int | None]:
        """The page numbers to link: the first, the last, and ``around`` either side of
        this one; ``None`` where numbers are left out (shown as an ellipsis)."""
        wanted = {1, self.pages, *range(self.number - around, self.number + around + 1)}
        shown: list[int | None] = []
        previous = 0
        for number in sorted(n for n in wanted if 1 <= n <= self.pages):
            if number > previous + 1:
                shown.append(None)
            shown.append(number)
            previous = number
        return shown


def requested_page() -> int:
    """The page number the query string asks for; 1 when it is missing or not a number."""
    raw = request.args.get(PAGE_ARG, "").strip()
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 7 else 1


def list_args() -> tuple[tuple[str, str], ...]:
    """The current query string without ``page`` and without empty values (an empty
    filter means "any", so leaving it out keeps the addresses short)."""
    return tuple(
        (key, value)
        for key, values in request.args.lists()
        if key != PAGE_ARG
        for value in values
        if value.strip()
    )


def paginate(items: Sequence[T], per_page: int, number: int | None = None) -> Page[T]:
    """The page ``number`` (default: the one asked for) of ``items``, for this request.

    A number beyond the last page gives the last page; below 1, the first.
    """
    total = len(items)
    pages = max(1, -(-total // per_page))
    wanted = requested_page() if number is None else number
    current = min(max(wanted, 1), pages)
    start = (current - 1) * per_page
    return Page(list(items[start : start + per_page]), current, per_page, total,
                current_path(), list_args())


def current_path() -> str:
    """This request's path as links write it (under the site's prefix, if it has one)."""
    return request.script_root + request.path



def back_to(list_path: str) -> str | None:
    """The request's ``back`` argument when it is an address of the list at ``list_path``
    (one of its pages, with its filters), else None: a form opened from page 7 of a
    list returns there, and no link can send anyone elsewhere."""
    back = request.args.get("back", "")
    parts = urlsplit(back)
    if not back or "\\" in back or parts.scheme or parts.netloc or parts.path != list_path:
        return None
    return back
