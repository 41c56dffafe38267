"""Form fields shared by the app's forms."""

from __future__ import annotations

import unicodedata
from typing import Any

from flask_babel import lazy_gettext
from wtforms import IntegerField as _IntegerField
from wtforms import TextAreaField as _TextAreaField
from wtforms.validators import NumberRange as _NumberRange
from wtforms.validators import StopValidation, ValidationError

from scheduler.participant_import import phone_as_typed
from scheduler.profiles import is_web_address, typed_line_breaks, web_address_as_typed


def typed_email(value: object) -> object:
    """An e-mail address as typed, made one spelling (a WTForms filter): a pasted
    address's spaces or line breaks at either end go, and full-width letters and ＠
    from a Japanese keyboard become the address itself (NFKC) before it is checked."""
    return unicodedata.normalize("NFKC", value).strip() if isinstance(value, str) else value


def typed_web_address(value: object) -> object:
    """A website as typed, made an address (a WTForms filter): full-width characters
    folded and ``https://`` put before a bare host such as ``www.abc.co.jp``, so the
    form shows, checks and saves the address it will link to."""
    return web_address_as_typed(value) if isinstance(value, str) else value


def typed_phone(value: object) -> object:
    """A phone number as typed, in the one spelling every entry stores (a WTForms filter):
    half-width digits, each dash between them a hyphen ("０５３ー１２３ー４５６７" is
    "053-123-4567"), spaces and "内線" as typed
    (:func:`scheduler.participant_import.phone_as_typed`)."""
    return phone_as_typed(value) if isinstance(value, str) else value


class TextAreaField(_TextAreaField):
    """WTForms' text area, its line breaks read as one character each.

    Browsers send a line break as CRLF, but count it as one character, as the page's
    counter (``field-limits.js``) does; the services store it as LF. Read as LF, a
    text of many short lines is measured by ``Length`` as the page counted it (not
    refused at the limit the counter said it fitted), and shown again as it was typed.
    """

    def process_formdata(self, valuelist: list[Any]) -> None:
        super().process_formdata(valuelist)
        if isinstance(self.data, str):
            self.data = typed_line_breaks(self.data)


class IntegerField(_IntegerField):
    """WTForms' integer field, reading full-width digits, with one error for text that is
    not a whole number.

    WTForms reports "Not a valid integer value." and then still runs the field's
    validators on the missing number, so a range check adds a second, false error
    ("Number must be between 0 and 1000.") to "1.5". Here the validators run only on
    a number that was read.
    """

    def process_formdata(self, valuelist: list[Any]) -> None:
        # Full-width digits (as a Japanese keyboard types them) and thousands separators
        # are still a whole number: "１，２００" is 1200.
        if valuelist and isinstance(valuelist[0], str):
            text = unicodedata.normalize("NFKC", valuelist[0]).strip().replace(",", "")
            valuelist = [text, *valuelist[1:]]
        super().process_formdata(valuelist)

    def pre_validate(self, form: Any) -> None:
        typed = bool(self.raw_data and str(self.raw_data[0]).strip())
        # An empty field is left to Optional() or InputRequired(), which clear the parse
        # error WTForms gives "" and say what applies (nothing, or "required").
        if self.process_errors and typed:
            raise StopValidation()  # the parse error is already in self.errors
        if self.raw_data and not typed:
            self.raw_data = [""]  # spaces only: empty, as InputRequired() must see it
        super().pre_validate(form)


class NumberRange(_NumberRange):
    """WTForms' range check, saying in the app's own words what to enter.

    WTForms' message reads "Number must be between 0 and 1000." and its Japanese
    catalog puts an ASCII comma into a Japanese sentence.
    """

    def __init__(
        self, min: float | None = None, max: float | None = None, message: str | None = None
    ) -> None:
        if message is None and min is not None and max is not None:
            message = lazy_gettext("Enter a number from %(min)s to %(max)s.")
        super().__init__(min=min, max=max, message=message)


class WebAddress:
    """A website field's rule from the profile service, checked with the form's other
    fields, so every error shows on the first submit (the service checks it again)."""

    def __call__(self, form: Any, field: Any) -> None:
        value = (field.data or "").strip()
        if value and not is_web_address(value):
            raise ValidationError(
                lazy_gettext("Please enter a web address starting with http:// or https://.")
            )
