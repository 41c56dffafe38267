"""Form fields shared by the app's forms."""

from __future__ import annotations

from typing import Any

from wtforms import IntegerField as _IntegerField
from wtforms.validators import StopValidation


class IntegerField(_IntegerField):
    """WTForms' integer field, with one error for text that is not a whole number.

    WTForms reports "Not a valid integer value." and then still runs the field's
    validators on the missing number, so a range check adds a second, false error
    ("Number must be between 0 and 1000.") to "1.5". Here the validators run only on
    a number that was read.
    """

    def pre_validate(self, form: Any) -> None:
        typed = bool(self.raw_data and str(self.raw_data[0]).strip())
        # An empty field is left to Optional() or InputRequired(), which clear the parse
        # error WTForms gives "" and say what applies (nothing, or "required").
        if self.process_errors and typed:
            raise StopValidation()  # the parse error is already in self.errors
        if self.raw_data and not typed:
            self.raw_data = [""]  # spaces only: empty, as InputRequired() must see it
        super().pre_validate(form)
