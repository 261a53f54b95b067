"""Big evidence stays cheap: the audit trail exported as CSV (target for 10,000 entries <= 2 s) and as PDF
(target <= 30 s and <= 500 MB peak memory), for 1,000 and 10,000 entries. Each export runs in a fresh
child process through the same code as an export job (report table / render_report_pdf), so its peak
memory (ru_maxrss) and time are its own. Wall and CPU seconds are both printed: on a shared machine the
wall time grows with the load (printed too), the CPU time much less.

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
    f"audit entries: {AuditEntry.objects.count():,} ({AuditEntry.objects.filter(reason=marker).count():,} made by the "
    "bench: a part created, 9 fields each)"
)

CHILD = r"""
import io, json, resource, sys, tempfile, time
sys.path.insert(0, "bench")
import _setup  # noqa
from django.test.utils import override_settings
from compliance.exports import write_csv
from compliance.pdf import render_report_pdf
from compliance.reports_builtin import _audit_table
from compliance.selectors import audit_entries

fmt, n = sys.argv[1], int(sys.argv[2])
t0, c0 = time.perf_counter(), time.process_time()
extra = {}
if fmt == "csv":
    with tempfile.TemporaryFile() as fh:
        rows = write_csv(_audit_table(audit_entries(viewer=None)[:n]), fh)
        size = fh.tell()
else:
    # The audit-trail report (last 30 days) as an export job renders it, cut at n entries.
    with override_settings(QMS_PDF_MAX_ENTRIES=n):
        pdf, _stored, ctx = render_report_pdf(key="audit.trail", params={}, store=False, with_context=True)
    rows, size = ctx["shown"], len(pdf)
    from pypdf import PdfReader
    extra["pages"] = len(PdfReader(io.BytesIO(pdf)).pages)
out = {"fmt": fmt, "seconds": time.perf_counter() - t0, "cpu": time.process_time() - c0, "rows": rows,
       "bytes": size, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, **extra}
print(json.dumps(out))
"""

root = Path(__file__).resolve().parent.parent
print(
    f"load average before: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f} ({os.cpu_count()} cores)"
)
for n in (1_000, N):
    for fmt in ("csv", "pdf"):
        proc = subprocess.run(
            [sys.executable, "-c", CHILD, fmt, str(n)], cwd=root, capture_output=True, text=True, env=os.environ.copy()
        )
        if proc.returncode:
            print(proc.stderr[-2000:])
            continue
        r = json.loads(proc.stdout.strip().splitlines()[-1])
        line = (
            f"{fmt.upper():<4} {r['rows']:>6,} entries: {r['seconds']:6.2f} s wall, {r['cpu']:6.2f} s CPU, "
            f"peak RSS {r['peak_mb']:4.0f} MB, {r['bytes'] / 1e6:5.1f} MB file"
        )
        if fmt == "pdf":
            line += f", {r['pages']:,} pages"
        if n == N:
            line += "   target " + ("<= 2 s" if fmt == "csv" else "<= 30 s, <= 500 MB")
        print(line)
print(f"load average after:  {os.getloadavg()[0]:.2f}")
