"""Checkpoints: the sealer's notes, outside the database, of how far the chain reached.

A checkpoint is one JSON line ``{"position", "hash", "recorded_at", "key_id"}``, written
after a sealing round commits, at most every ``CARELINE_AUDIT_CHECKPOINT_SECONDS``: appended
(and fsynced) to ``CARELINE_AUDIT_CHECKPOINT_FILE`` and sent to syslog at
``CARELINE_AUDIT_CHECKPOINT_SYSLOG``. Either copy is read back by ``careline audit verify
--checkpoints FILE`` (a syslog extract works too: each line is read from its first ``{``),
which then finds entries removed from the end of the chain and a chain rebuilt from scratch.
Keep the file where the database's users cannot write (another host, write-once storage).
"""

from __future__ import annotations

import json
import logging
import logging.handlers
import os
import threading
import time
from datetime import UTC
from pathlib import Path

from django.conf import settings

from careline.platform import clock
from careline.platform.audit.chain import Checkpoint
from careline.platform.models import AuditEvent

SYSLOG_TAG = "careline-audit-checkpoint"


class _Written:
    """What this process last wrote (one sealer per process; the lock covers the thread)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.at = float("-inf")  # time.monotonic()
        self.position = 0


_written = _Written()


def record_if_due(*, position: int, link: str, key_id: str) -> Checkpoint | None:
    with _written.lock:
        due = time.monotonic() - _written.at >= settings.CARELINE_AUDIT_CHECKPOINT_SECONDS
    return record_checkpoint(position=position, link=link, key_id=key_id) if due else None


def record_now_if_behind() -> Checkpoint | None:
    """A checkpoint of the last sealed entry unless this process already wrote it."""
    last = _last_seal()
    if last is None or last[0] <= _written.position:
        return None
    return record_checkpoint(position=last[0], link=last[1], key_id=last[2])


def record_last_seal() -> Checkpoint | None:
    """A checkpoint of the last sealed entry now (None while nothing is sealed)."""
    last = _last_seal()
    return (
        None if last is None else record_checkpoint(position=last[0], link=last[1], key_id=last[2])
    )


def _last_seal() -> tuple[int, str, str] | None:
    last = (
        AuditEvent.objects.filter(sequence__isnull=False)
        .order_by("-sequence")
        .values_list("sequence", "hash", "key_id")
        .first()
    )
    if last is None:
        return None
    position, link, key_id = last
    return position or 0, link, key_id


def record_checkpoint(*, position: int, link: str, key_id: str) -> Checkpoint:
    checkpoint = Checkpoint(
        position=position,
        hash=link,
        recorded_at=clock.now().astimezone(UTC).isoformat(),
        key_id=key_id,
    )
    line = json.dumps(
        {
            "position": checkpoint.position,
            "hash": checkpoint.hash,
            "recorded_at": checkpoint.recorded_at,
            "key_id": checkpoint.key_id,
        },
        separators=(",", ":"),
    )
    if settings.CARELINE_AUDIT_CHECKPOINT_FILE:
        _append_line(Path(settings.CARELINE_AUDIT_CHECKPOINT_FILE), line)
    if settings.CARELINE_AUDIT_CHECKPOINT_SYSLOG:
        _syslog(settings.CARELINE_AUDIT_CHECKPOINT_SYSLOG, line)
    with _written.lock:
        _written.at, _written.position = time.monotonic(), position
    return checkpoint


def _append_line(path: Path, line: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        os.write(descriptor, (line + "\n").encode())
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _syslog(address: str, line: str) -> None:
    host, _, port = address.rpartition(":")
    target: str | tuple[str, int] = (host, int(port)) if host and port.isdigit() else address
    handler = logging.handlers.SysLogHandler(
        address=target, facility=logging.handlers.SysLogHandler.LOG_AUTH
    )
    try:
        record = logging.LogRecord(SYSLOG_TAG, logging.INFO, __file__, 0, "%s", None, None)
        record.msg = f"{SYSLOG_TAG}: {line}"
        handler.emit(record)
    finally:
        handler.close()


class CheckpointFileError(ValueError):
    pass


def read_checkpoints(path: Path) -> list[Checkpoint]:
    """Every checkpoint in a checkpoint file (or a syslog extract of them)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise CheckpointFileError(f"Cannot read {path}: {error.strerror}") from error
    checkpoints = []
    for number, line in enumerate(text.splitlines(), start=1):
        start = line.find("{")
        if start < 0:
            continue
        try:
            data = json.loads(line[start:])
            checkpoints.append(
                Checkpoint(
                    position=int(data["position"]),
                    hash=str(data["hash"]),
                    recorded_at=str(data["recorded_at"]),
                    key_id=str(data["key_id"]),
                )
            )
        except (ValueError, KeyError, TypeError) as error:
            raise CheckpointFileError(f"{path} line {number} is not a checkpoint") from error
    return checkpoints
