"""Errors raised by the solver package.

The solver draws one line that the CLI and the web app both rely on: a file that
is *malformed* (wrong type, unknown field, dangling id, naive time, ...) raises
:class:`ProblemFormatError` while reading, and the CLI exits with status 2.
A well-formed problem that *cannot be satisfied* (a must-meet pair without a
common slot, a lock at a third party's table) is not an error at all: the solver
answers with an ``INFEASIBLE`` schedule that says why (exit status 1).
"""

from __future__ import annotations


class ProblemFormatError(Exception):
    """A problem or schedule file that does not follow its documented format.

    ``field`` is the JSON path of the offending value, e.g. ``pairs[3].b`` or
    ``slots[0].start``; it is empty when the file as a whole is at fault (it
    cannot be read, or is not JSON). ``message`` says what is wrong with it.
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(field, message)
        self.field = field
        self.message = message

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message
