"""``careline audit seal [--follow]``: link unsealed audit entries into the chain.

Without ``--follow`` it seals what is waiting, writes a checkpoint and exits; with it, it
keeps sealing until interrupted (what ``careline worker`` also runs in a thread).
"""

from __future__ import annotations

import signal
import threading
from argparse import ArgumentParser
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand

from careline.platform.audit.checkpoints import record_last_seal
from careline.platform.audit.services import SEAL_BATCH_SIZE, run_sealer, seal_pending


class Command(BaseCommand):
    help = "Seal unsealed audit entries into the keyed chain (--follow: keep sealing)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--follow", action="store_true", help="Keep sealing until stopped.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["follow"]:
            stop = threading.Event()

            def request_stop(signal_number: int, frame: FrameType | None) -> None:
                stop.set()

            signal.signal(signal.SIGTERM, request_stop)
            signal.signal(signal.SIGINT, request_stop)
            run_sealer(stop=stop)
            return
        sealed = 0
        while True:
            batch = len(seal_pending().events)
            sealed += batch
            if batch < SEAL_BATCH_SIZE:
                break
        checkpoint = record_last_seal()
        reached = f"; the chain reaches #{checkpoint.position}" if checkpoint else ""
        self.stdout.write(f"Sealed {sealed} audit entries{reached}")
