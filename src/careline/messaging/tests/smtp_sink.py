"""A real SMTP server for the tests and the benchmark (aiosmtpd on a free local port) that
counts what arrives by Message-ID."""

from __future__ import annotations

import logging
import socket
import threading
from collections import Counter
from email import message_from_bytes
from typing import Any

from aiosmtpd.controller import Controller

# aiosmtpd logs every envelope (addresses) at INFO: keep addresses out of the logs.
logging.getLogger("mail.log").setLevel(logging.WARNING)


class CountingHandler:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.message_ids: Counter[str] = Counter()
        self.recipients: list[str] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = message_from_bytes(envelope.content)
        with self.lock:
            self.message_ids[str(parsed["Message-ID"])] += 1
            self.recipients.extend(envelope.rcpt_tos)
        return "250 OK"

    @property
    def total(self) -> int:
        return sum(self.message_ids.values())

    @property
    def duplicates(self) -> int:
        return sum(count - 1 for count in self.message_ids.values() if count > 1)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_smtp_sink(port: int = 0) -> tuple[Controller, CountingHandler]:
    """Start on ``port`` (a free one if 0; aiosmtpd must know its port to check it is up)."""
    port = port or free_port()
    handler = CountingHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    return controller, handler
