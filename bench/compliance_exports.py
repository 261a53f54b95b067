"""Big evidence stays cheap: 10,000 audit entries exported as CSV (target <= 2 s) and as PDF
(target <= 30 s and <= 500 MB peak memory). Each export runs in a child process so its peak memory
(ru_maxrss) is its own.

DATABASE_URL=postgres://postgres@127.0.0.1:5432/qms_bench .venv/bin/python bench/compliance_exports.py
"""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import _setup  # noqa: F401  (django.setup)
from django.core.management import call_command

from compliance.models import AuditEntry
from qms.core.audit import audit_context
from qms.core.models import Part, PartType

N = 10_000
call_command("migrate", verbosity=0)

marker = "bench-export"
have = AuditEntry.objects.filter(reason=marker).count()
if have < N:
    stamp = str(int(time.time()))
    with audit_context(reason=marker):
        Part.objects.bulk_create(
            [
                Part(number=f"BX-{stamp}-{i}", name="bench export part", part_type=PartType.RAW, unit="kg")
                for i in range(N - have)
            ],
            batch_size=5000,
        )
print(
    f"audit entries to export: {AuditEntry.objects.filter(reason=marker).count():,} (of {AuditEntry.objects.count():,})"
)

CHILD = r"""
import io, json, resource, sys, time
sys.path.insert(0, "bench")
import _setup  # noqa
from compliance.exports import write_csv
from compliance.reports_builtin import _audit_table, pdf_max_entries
from compliance.selectors import audit_entries
from compliance.pdf import render_report_pdf

fmt = sys.argv[1]
qs = audit_entries().filter(reason="bench-export")
t0 = time.perf_counter()
if fmt == "csv":
    import tempfile
    with tempfile.TemporaryFile() as fh:
        rows = write_csv(_audit_table(qs), fh)
        size = fh.tell()
else:
    import compliance.reports_builtin as rb
    # the trail report over the bench entries: every entry is in today's period
    pdf, _stored, ctx = render_report_pdf(key="audit.trail", params={}, store=False, with_context=True)
    rows, size = ctx["shown"], len(pdf)
    extra = {"total": ctx["total"], "truncated": ctx["truncated"], "cap": pdf_max_entries()}
dt = time.perf_counter() - t0
out = {"fmt": fmt, "seconds": dt, "rows": rows, "bytes": size, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
if fmt == "pdf":
    out.update(extra)
print(json.dumps(out))
"""

root = Path(__file__).resolve().parent.parent
for fmt in ("csv", "pdf"):
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, fmt], cwd=root, capture_output=True, text=True, env=os.environ.copy()
    )
    if proc.returncode:
        print(proc.stderr[-2000:])
        continue
    r = json.loads(proc.stdout.strip().splitlines()[-1])
    line = f"{fmt.upper()} {r['rows']:,} rows: {r['seconds']:.2f} s, {r['bytes'] / 1e6:.1f} MB file, peak RSS {r['peak_mb']:.0f} MB"
    if fmt == "pdf":
        line += f" (first {r['cap']:,} of {r['total']:,} entries, cut with a note: {r['truncated']})"
    target = "<= 2 s" if fmt == "csv" else "<= 30 s, <= 500 MB"
    print(f"{line}   target {target}")
