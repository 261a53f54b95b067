"""Audit-trail cost: regulated saves with their hash-chained entries, and verifying a long chain.

DATABASE_URL=postgres://postgres@127.0.0.1:5432/qms_bench .venv/bin/python bench/core_audit_trail.py
"""

import time

import _setup  # noqa: F401  (django.setup)
from _setup import summary, timed
from django.core.management import call_command
from django.db import connection, transaction

from compliance.audit_trail import verify_chain
from compliance.models import AuditEntry
from qms.core.audit import audit_context
from qms.core.models import Part, PartType

N_SAVES = 2000
N_BULK = 100_000

call_command("migrate", verbosity=0)
print(f"database: {connection.vendor}; audit entries before: {AuditEntry.objects.count()}")
stamp = str(int(time.time()))

counter = iter(range(10**9))


def one_save():
    with audit_context(reason="bench"):
        Part.objects.create(number=f"BN-{stamp}-{next(counter)}", name="bench", part_type=PartType.RAW, unit="kg")


print(summary("one regulated create + audit entry (own txn)", timed(one_save, N_SAVES)))


def edit_batch():
    with transaction.atomic(), audit_context(reason="bench edit"):
        for p in Part.objects.filter(number__startswith=f"BN-{stamp}-")[:100]:
            p.name = f"edited {time.perf_counter()}"
            p.save()


print(summary("100 edits in one transaction", timed(edit_batch, 10)))

t0 = time.perf_counter()
with audit_context(reason="bench bulk"):
    Part.objects.bulk_create(
        [Part(number=f"BB-{stamp}-{i}", name="bulk", part_type=PartType.RAW, unit="kg") for i in range(N_BULK)],
        batch_size=5000,
    )
dt = time.perf_counter() - t0
print(f"{'bulk_create 100,000 parts with audit entries':<48} {dt:9.2f} s  ({N_BULK / dt:,.0f} rows/s)")

total = AuditEntry.objects.count()
t0 = time.perf_counter()
result = verify_chain()
dt = time.perf_counter() - t0
print(
    f"{'verify_audit_trail over the whole chain':<48} {dt:9.2f} s  ({total:,} entries, {total / dt:,.0f}/s, ok={result.ok})"
)
