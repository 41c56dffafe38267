"""A local SMTP server that keeps what it receives, for the tests of e-mail notices."""

from __future__ import annotations

import socket

from aiosmtpd.handlers import Message

__all__ = ["Inbox", "free_port"]


class Inbox(Message):
    """The messages received, in order."""

    def __init__(self) -> None:
        super().__init__()
        self.messages: list = []

    def handle_message(self, message) -> None:  # type: ignore[no-untyped-def]
        self.messages.append(message)


def free_port() -> int:
    """A port nobody listens on (for a server to start on, or for a send that must fail)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
