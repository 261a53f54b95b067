"""Writes and verifies the hash-chained audit trail.

Every regulated write (qms.core.audit signals) appends one entry in the same transaction. Appends are
serialised (a PostgreSQL advisory lock held to the end of the transaction; SQLite serialises writers
itself), so the sequence has no gaps and every entry hashes its predecessor.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from dataclasses import dataclass, field

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction

from qms.core.audit import current_actor

from .models import AuditEntry

GENESIS = "0" * 64
CHAIN_LOCK_KEY = 7_263_501  # arbitrary constant naming the audit-chain advisory lock
MASKED_FIELDS = {"password"}


def normalise(value):
    """What JSON will give back after a round trip through the database, so hashes recompute exactly."""
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder, sort_keys=True))


def _ts(at: datetime.datetime) -> str:
    return at.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def entry_hash(
    *, seq, at, user_id, username, source, model, object_id, object_repr, action, changes, reason, prev_hash
) -> str:
    payload = json.dumps(
        [
            seq,
            _ts(at),
            user_id,
            username,
            source,
            model,
            str(object_id),
            object_repr,
            action,
            changes,
            reason,
            prev_hash,
        ],
        cls=DjangoJSONEncoder,
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _hash_of(e: AuditEntry) -> str:
    return entry_hash(
        seq=e.seq,
        at=e.at,
        user_id=e.user_id,
        username=e.username,
        source=e.source,
        model=e.model,
        object_id=e.object_id,
        object_repr=e.object_repr,
        action=e.action,
        changes=e.changes,
        reason=e.reason,
        prev_hash=e.prev_hash,
    )


def lock_chain() -> tuple[int, str]:
    """Serialise appends (and checkpoints) and return (sequence, hash) of the newest entry."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CHAIN_LOCK_KEY])
    last = AuditEntry.objects.order_by("-seq").values_list("seq", "hash").first()
    return last or (0, GENESIS)


_lock_chain = lock_chain


def site_of(instance) -> int | None:
    """The site a record belongs to: its `site`, or the path it declares in `audit_site_path`
    ("lot__site", or a tuple of alternatives); None for global records (users, parts, suppliers)."""
    from django.core.exceptions import ObjectDoesNotExist

    opts = instance._meta
    if opts.label_lower == "core.site":
        return instance.pk
    if any(f.name == "site" and f.is_relation for f in opts.concrete_fields):
        return getattr(instance, "site_id", None)
    paths = getattr(type(instance), "audit_site_path", None) or ()
    for path in (paths,) if isinstance(paths, str) else paths:
        obj = instance
        parts = path.split("__")
        try:
            for part in parts[:-1]:
                obj = getattr(obj, part, None)
                if obj is None:
                    break
            else:
                value = getattr(obj, f"{parts[-1]}_id", None)
                if value is not None:
                    return value
        except ObjectDoesNotExist:
            continue
    return None


@dataclass
class PendingEntry:
    model: str
    object_id: str
    object_repr: str
    action: str
    changes: dict
    reason: str = ""
    site_id: int | None = None


def append(entries: list[PendingEntry], actor=None) -> list[AuditEntry]:
    """Append entries to the chain. Must run inside the transaction of the write it records."""
    if not entries:
        return []
    actor = actor or current_actor()
    user = actor.user if getattr(actor.user, "pk", None) else None
    from django.utils import timezone

    with transaction.atomic():
        seq, prev = lock_chain()
        now = timezone.now()
        rows = []
        for pending in entries:
            seq += 1
            row = AuditEntry(
                seq=seq,
                at=now,
                user_id=user.pk if user else None,
                username=user.get_username() if user else "",
                source=actor.source,
                model=pending.model,
                object_id=str(pending.object_id),
                object_repr=pending.object_repr[:300],
                action=pending.action,
                changes=normalise(pending.changes),
                reason=pending.reason or actor.reason,
                prev_hash=prev,
                site_id=pending.site_id,
            )
            row.hash = _hash_of(row)
            prev = row.hash
            rows.append(row)
        if connection.vendor == "postgresql" and len(rows) >= COPY_THRESHOLD:
            _copy_rows(rows)
        else:
            AuditEntry.objects.bulk_create(rows, batch_size=2000)
    return rows


COPY_THRESHOLD = 500
_COPY_COLUMNS = [
    "seq",
    "at",
    "user_id",
    "username",
    "source",
    "model",
    "object_id",
    "object_repr",
    "action",
    "changes",
    "reason",
    "prev_hash",
    "hash",
    "site_id",
]


def _copy_rows(rows: list[AuditEntry]) -> None:
    """Large appends (imports of 100,000 lots) go through COPY: several times faster than INSERT."""
    table = AuditEntry._meta.db_table
    with connection.cursor() as cursor:
        with cursor.cursor.copy(f"COPY {table} ({', '.join(_COPY_COLUMNS)}) FROM STDIN") as copy:
            for r in rows:
                copy.write_row(
                    (
                        r.seq,
                        r.at,
                        r.user_id,
                        r.username,
                        r.source,
                        r.model,
                        r.object_id,
                        r.object_repr,
                        r.action,
                        json.dumps(r.changes, cls=DjangoJSONEncoder),
                        r.reason,
                        r.prev_hash,
                        r.hash,
                        r.site_id,
                    )
                )


def _mask(changes: dict) -> dict:
    return {k: (["***", "***"] if k in MASKED_FIELDS else v) for k, v in changes.items()}


def record(instance, *, action: str, changes: dict | None = None, reason: str = "", actor=None) -> AuditEntry:
    """Record an event on a record that is not a plain save: sign, void, release, export ..."""
    return append(
        [
            PendingEntry(
                instance._meta.label_lower,
                str(instance.pk),
                str(instance),
                action,
                _mask(changes or {}),
                reason,
                site_of(instance),
            )
        ],
        actor=actor,
    )[0]


def on_regulated_saved(sender, instance, action, changes, actor, **kwargs):
    append(
        [
            PendingEntry(
                sender._meta.label_lower,
                str(instance.pk),
                str(instance),
                action,
                _mask(changes),
                site_id=site_of(instance),
            )
        ],
        actor=actor,
    )


def on_regulated_bulk_created(sender, instances, actor, **kwargs):
    from qms.core.audit import snapshot

    pending = []
    for obj in instances:
        values = {k: [None, v] for k, v in snapshot(obj).items() if v not in (None, "")}
        pending.append(
            PendingEntry(sender._meta.label_lower, str(obj.pk), str(obj), "create", _mask(values), site_id=site_of(obj))
        )
    append(pending, actor=actor)


def _m2m_field(model, through):
    for f in model._meta.many_to_many:
        if f.remote_field.through is through:
            return f
    return None


def _labels(model, pks) -> list[str]:
    if not pks:
        return []
    return sorted(str(o) for o in model._base_manager.filter(pk__in=list(pks)))


def _current_pks(obj, f) -> set:
    return set(getattr(obj, f.name).values_list("pk", flat=True))


def on_m2m_changed(sender, instance, action, reverse, model, pk_set, **kwargs):
    """Adding or removing links of a regulated record's many-to-many field (an NCR's defect codes, a
    station's inspectors) appends an entry on that record: {field: [old labels, new labels]}."""
    from qms.core.audit import RegulatedModel

    if action not in ("pre_clear", "post_add", "post_remove", "post_clear"):
        return
    if reverse:
        # instance is on the related side; the records whose field changed are `model` rows.
        forward_model, f = model, _m2m_field(model, sender)
        if action == "pre_clear":
            rel = f.related_query_name() if f else None
            instance._audit_m2m_clear = set(model._base_manager.filter(**{rel: instance}).values_list("pk", flat=True))
            return
        targets = pk_set if action != "post_clear" else getattr(instance, "_audit_m2m_clear", set())
        records = list(forward_model._base_manager.filter(pk__in=list(targets or ())))
        moved = {instance.pk}
    else:
        forward_model, f = type(instance), _m2m_field(type(instance), sender)
        if f is None:
            return
        if action == "pre_clear":
            instance._audit_m2m_clear = _current_pks(instance, f)
            return
        records = [instance]
        moved = set(pk_set or ()) if action != "post_clear" else getattr(instance, "_audit_m2m_clear", set())
    if f is None or not issubclass(forward_model, RegulatedModel) or not moved:
        return
    related = f.remote_field.model
    pending = []
    for rec in records:
        new = _current_pks(rec, f)
        old = new - moved if action == "post_add" else new | moved
        pending.append(
            PendingEntry(
                forward_model._meta.label_lower,
                str(rec.pk),
                str(rec),
                "update",
                {f.name: [_labels(related, old), _labels(related, new)]},
                site_id=site_of(rec),
            )
        )
    append(pending)


@dataclass
class VerifyResult:
    ok: bool
    checked: int
    first_bad_seq: int | None = None
    first_bad_id: int | None = None
    problem: str = ""
    anchors_checked: int = 0
    warnings: list[str] = field(default_factory=list)


def verify_chain(chunk_size: int = 5000) -> VerifyResult:
    """Recompute every hash in order, then hold the chain against every checkpoint (database table and
    anchor log). The first row whose content, link or position is wrong is named; so are entries a
    checkpoint proves existed but the chain no longer has, and forged checkpoints."""
    from .anchors import collect_anchors

    report = collect_anchors()
    wanted = {a.seq for a in report.anchors}
    seen_hash: dict[int, str] = {}
    expected_seq, prev, checked = 1, GENESIS, 0
    for e in AuditEntry.objects.order_by("seq").iterator(chunk_size=chunk_size):
        if e.seq != expected_seq:
            return VerifyResult(
                False, checked, e.seq, e.pk, f"sequence gap: expected #{expected_seq}, found #{e.seq} (rows removed)"
            )
        if e.prev_hash != prev:
            return VerifyResult(
                False,
                checked,
                e.seq,
                e.pk,
                "link broken: prev_hash does not match the previous row (a row was removed or altered)",
            )
        if _hash_of(e) != e.hash:
            return VerifyResult(False, checked, e.seq, e.pk, "content altered: the stored hash does not match the row")
        if e.seq in wanted:
            seen_hash[e.seq] = e.hash
        prev, expected_seq, checked = e.hash, expected_seq + 1, checked + 1
    last = checked
    n = len(report.anchors)
    if report.problems:
        return VerifyResult(False, checked, None, None, "; ".join(report.problems), n, report.warnings)
    if report.anchors:
        newest = max(report.anchors, key=lambda a: a.seq)
        if last == 0:
            return VerifyResult(
                False,
                0,
                1,
                None,
                f"the audit trail is empty but {n} checkpoint(s) exist: entries #1..#{newest.seq} are missing "
                f"(the checkpoint of {newest.at} covers #{newest.seq}; all entries were removed)",
                n,
                report.warnings,
            )
        if last < newest.seq:
            return VerifyResult(
                False,
                checked,
                last + 1,
                None,
                f"entries #{last + 1}..#{newest.seq} are missing: the chain ends at #{last} but the checkpoint "
                f"of {newest.at} covers #{newest.seq} (the newest entries were removed)",
                n,
                report.warnings,
            )
        for a in sorted(report.anchors, key=lambda a: a.seq):
            if seen_hash.get(a.seq) != a.head_hash:
                return VerifyResult(
                    False,
                    checked,
                    a.seq,
                    None,
                    f"entry #{a.seq} does not match the checkpoint of {a.at}: the chain was rewritten at or before #{a.seq}",
                    n,
                    report.warnings,
                )
    return VerifyResult(True, checked, anchors_checked=n, warnings=report.warnings)


@dataclass
class QuickCheck:
    """A cheap look at the chain for pages: row count against the sequence (rows removed in the middle),
    and the hashes and links of the newest rows. The full proof is `verify_chain` (command or button)."""

    ok: bool
    total: int
    tail_checked: int
    problem: str = ""
    bad_seq: int | None = None


def chain_quick_check(tail: int = 200) -> QuickCheck:
    from django.db.models import Count, Max, Min

    from .anchors import latest_checkpoint

    agg = AuditEntry.objects.aggregate(n=Count("id"), lo=Min("seq"), hi=Max("seq"))
    total = agg["n"] or 0
    anchored = latest_checkpoint()
    if anchored is not None and (agg["hi"] or 0) < anchored.seq:
        return QuickCheck(
            False,
            total,
            0,
            f"entries #{(agg['hi'] or 0) + 1}..#{anchored.seq} are missing: a checkpoint covers #{anchored.seq}",
            (agg["hi"] or 0) + 1,
        )
    if not total:
        return QuickCheck(True, 0, 0)
    if agg["lo"] != 1 or agg["hi"] != total:
        return QuickCheck(
            False,
            total,
            0,
            f"{total} rows for sequence #{agg['lo']}..#{agg['hi']}: rows were removed",
        )
    rows = list(AuditEntry.objects.order_by("-seq")[:tail])
    rows.reverse()
    for i, e in enumerate(rows):
        if _hash_of(e) != e.hash:
            return QuickCheck(False, total, i, "content altered: the stored hash does not match the row", e.seq)
        expected_prev = rows[i - 1].hash if i else (GENESIS if e.seq == 1 else None)
        if expected_prev is not None and e.prev_hash != expected_prev:
            return QuickCheck(False, total, i, "link broken: prev_hash does not match the previous row", e.seq)
    return QuickCheck(True, total, len(rows))


VERIFY_MODEL = "compliance.auditentry"
VERIFY_OBJECT_ID = "chain"


def chain_verify_and_record(*, user=None, source: str = "web") -> VerifyResult:
    """Run the full verification and append its result to the trail itself (evidence that checks ran)."""
    from qms.core.audit import audit_context

    result = verify_chain()
    changes = {"result": [None, "intact" if result.ok else "broken"], "checked": [None, result.checked]}
    if not result.ok:
        changes["first_bad_seq"] = [None, result.first_bad_seq]
        changes["problem"] = [None, result.problem]
    with audit_context(user=user, source=source):
        append([PendingEntry(VERIFY_MODEL, VERIFY_OBJECT_ID, "audit trail", "verify", changes)])
    return result


def last_verification() -> AuditEntry | None:
    return (
        AuditEntry.objects.filter(model=VERIFY_MODEL, object_id=VERIFY_OBJECT_ID, action="verify")
        .order_by("-seq")
        .first()
    )


def audit_chain_check_and_alert() -> VerifyResult:
    """The scheduled full verification: a broken chain alerts quality managers and administrators at once
    (once per broken row)."""
    from django.utils.translation import gettext_lazy

    from qms.core.i18n import LazyFormat
    from qms.core.models import Role, User
    from qms.core.services import notification_send

    # Recorded in the trail like a manual run: the audit page's "last full verification" reads it.
    result = chain_verify_and_record(source="job")
    if not result.ok:
        recipients = User.objects.filter(
            is_active=True,
            memberships__is_active=True,
            memberships__role__in=[Role.QUALITY_MANAGER, Role.ADMINISTRATOR],
        ).distinct()
        notification_send(
            recipients=list(recipients),
            subject=LazyFormat(
                gettext_lazy("Audit trail integrity check failed at entry #%(seq)s"), seq=result.first_bad_seq
            ),
            body=result.problem,
            dedup_key=f"audit-chain-broken:{result.first_bad_seq}",
            level="error",
        )
    return result
