"""Checkpoints: the audit chain's head anchored outside the audit table.

A checkpoint is (sequence, head hash, time) of the newest entry, signed with HMAC-SHA256 under a key that
lives outside the database (`AUDIT_ANCHOR_KEY`: a file path or the value itself), stored in
`compliance.AuditCheckpoint` AND appended, fsync'd, as one JSON line to a log file outside the database
(`AUDIT_ANCHOR_LOG`). `audit_trail.verify_chain` checks every anchor from both places: someone who
removes the newest entries, or all of them, leaves the chain shorter than a checkpoint; someone who
forges a checkpoint without the key leaves a signature that does not verify. See docs/audit-trail.md.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import json
import os
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import transaction

from .models import AuditCheckpoint

DEV_KEY_LABEL = b"qms-audit-anchor-dev-key"


def anchor_key_configured() -> bool:
    return bool(getattr(settings, "AUDIT_ANCHOR_KEY", ""))


def anchor_key() -> bytes:
    """The signing key: the file's content when the setting names an existing file, else the value.
    Unset (quick start), a key derived from SECRET_KEY, so checkpoints work out of the box; the deploy
    check warns, because whoever reads the settings could then forge checkpoints."""
    raw = getattr(settings, "AUDIT_ANCHOR_KEY", "") or ""
    if raw:
        path = Path(raw)
        if len(raw) < 4096 and path.is_file():
            return path.read_bytes().strip()
        return raw.encode("utf-8")
    return hmac.new(settings.SECRET_KEY.encode("utf-8"), DEV_KEY_LABEL, hashlib.sha256).digest()


def key_id(key: bytes | None = None) -> str:
    return hashlib.sha256(key or anchor_key()).hexdigest()[:16]


def _ts(at: datetime.datetime) -> str:
    return at.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def sign(seq: int, head_hash: str, created_at: datetime.datetime, key: bytes | None = None) -> str:
    message = f"qms-audit-checkpoint|{int(seq)}|{head_hash}|{_ts(created_at)}".encode()
    return hmac.new(key or anchor_key(), message, hashlib.sha256).hexdigest()


def anchor_log_path() -> Path:
    return Path(settings.AUDIT_ANCHOR_LOG)


def _append_log_line(cp: AuditCheckpoint) -> None:
    line = json.dumps(
        {
            "seq": cp.seq,
            "hash": cp.head_hash,
            "at": _ts(cp.created_at),
            "key_id": cp.key_id,
            "sig": cp.signature,
        },
        sort_keys=True,
    )
    path = anchor_log_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    # O_APPEND: each write lands at the end whatever else writes; fsync: the line survives a crash.
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        os.write(fd, (line + "\n").encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)


def checkpoint_create() -> AuditCheckpoint | None:
    """Anchor the current head. Nothing to anchor (empty chain) gives None; an unchanged head since the
    last checkpoint returns that checkpoint. The log line is written before the commit: should the commit
    fail, the line still names a real, committed chain state, so it stays a valid anchor."""
    from .audit_trail import lock_chain

    with transaction.atomic():
        seq, head = lock_chain()
        if not seq:
            return None
        last = AuditCheckpoint.objects.order_by("-seq", "-pk").first()
        if last is not None and last.seq == seq and last.head_hash == head:
            return last
        from django.utils import timezone

        now = timezone.now()
        key = anchor_key()
        cp = AuditCheckpoint.objects.create(
            seq=seq, head_hash=head, created_at=now, key_id=key_id(key), signature=sign(seq, head, now, key)
        )
        _append_log_line(cp)
    return cp


def latest_checkpoint() -> AuditCheckpoint | None:
    return AuditCheckpoint.objects.order_by("-seq", "-pk").first()


@dataclass
class Anchor:
    seq: int
    head_hash: str
    at: str  # ISO UTC as signed
    key_id: str
    sig: str
    origin: str  # "table" or "log line N"


def _anchors_from_table() -> list[Anchor]:
    return [
        Anchor(cp.seq, cp.head_hash, _ts(cp.created_at), cp.key_id, cp.signature, "table")
        for cp in AuditCheckpoint.objects.order_by("seq", "pk")
    ]


def _anchors_from_log() -> tuple[list[Anchor], list[str], bool]:
    """(anchors, unreadable-line problems, whether the log exists)."""
    path = anchor_log_path()
    if not path.exists():
        return [], [], False
    anchors, problems = [], []
    with path.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                d = json.loads(line)
                anchors.append(
                    Anchor(
                        int(d["seq"]), str(d["hash"]), str(d["at"]), str(d["key_id"]), str(d["sig"]), f"log line {n}"
                    )
                )
            except (ValueError, KeyError, TypeError):
                problems.append(f"anchor log {path} line {n} is unreadable (altered or truncated)")
    return anchors, problems, True


def _sig_ok(a: Anchor, key: bytes) -> bool:
    try:
        at = datetime.datetime.strptime(a.at, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.UTC)
    except ValueError:
        return False
    return hmac.compare_digest(sign(a.seq, a.head_hash, at, key), a.sig)


@dataclass
class AnchorReport:
    anchors: list[Anchor]
    problems: list[str]
    warnings: list[str]


def collect_anchors() -> AnchorReport:
    """Every anchor from the table and the log, deduplicated, with forged ones reported."""
    key = anchor_key()
    table = _anchors_from_table()
    logged, problems, log_exists = _anchors_from_log()
    warnings = []
    if table and not log_exists:
        warnings.append(f"anchor log {anchor_log_path()} is missing although {len(table)} checkpoint(s) exist")
    in_log = {(a.seq, a.head_hash, a.at, a.sig) for a in logged}
    in_table = {(a.seq, a.head_hash, a.at, a.sig) for a in table}
    if log_exists:
        gone = [a for a in table if (a.seq, a.head_hash, a.at, a.sig) not in in_log]
        if gone:
            warnings.append(
                f"{len(gone)} checkpoint(s) of the database are not in the anchor log (first #{gone[0].seq} at {gone[0].at})"
            )
    only_log = [a for a in logged if (a.seq, a.head_hash, a.at, a.sig) not in in_table]
    if only_log:
        warnings.append(
            f"{len(only_log)} anchor log line(s) have no checkpoint row in the database "
            f"(first #{only_log[0].seq} at {only_log[0].at}, {only_log[0].origin})"
        )
    seen, anchors = set(), []
    for a in table + logged:
        ident = (a.seq, a.head_hash, a.at, a.sig)
        if ident in seen:
            continue
        seen.add(ident)
        if not _sig_ok(a, key):
            problems.append(
                f"checkpoint #{a.seq} of {a.at} ({a.origin}) has an invalid signature: forged or altered"
                + ("" if a.key_id == key_id(key) else f", or signed with another key (key id {a.key_id})")
            )
            continue
        anchors.append(a)
    return AnchorReport(anchors, problems, warnings)
