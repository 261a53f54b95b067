"""Access log overhead: one logged page view costs one INSERT.

DATABASE_URL=postgres://postgres@127.0.0.1:5432/qms_bench .venv/bin/python bench/compliance_access_log.py
"""

import os

import _setup  # noqa: F401  (django.setup)
from _setup import summary, timed
from django.core.management import call_command
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from compliance.access import access_logged, log_access
from compliance.models import AccessEvent, AccessKind
from qms.core.audit import audit_context
from qms.core.models import User

N = 2000


def _show(name):
    with connection.cursor() as cur:
        cur.execute(f"SHOW {name}")
        return cur.fetchone()[0]


call_command("migrate", verbosity=0)
with audit_context(reason="bench"):
    user = User.objects.filter(username="bench-access").first() or User.objects.create(username="bench-access")
request = RequestFactory().get("/ncr/NCR-1/", HTTP_USER_AGENT="bench", REMOTE_ADDR="10.0.0.1")
request.user = user

with CaptureQueriesContext(connection) as ctx:
    log_access(request=request, kind=AccessKind.VIEW, model="nonconformance.ncr", object_code="NCR-1")
print(f"queries per logged event: {len(ctx.captured_queries)} ({ctx.captured_queries[0]['sql'][:30]}...)")


def page(request, code):
    from django.http import HttpResponse

    return HttpResponse("ok")


logged_page = access_logged("nonconformance.ncr")(page)
before = AccessEvent.objects.count()
plain = timed(lambda: page(request, code="NCR-1"), N)
logged = timed(lambda: logged_page(request, code="NCR-1"), N)
print(summary("view without access log", plain))
print(summary("view with @access_logged (one INSERT)", logged))
s_plain, s_logged = sorted(plain), sorted(logged)
print(f"{'overhead of one logged page view (median)':<48} {s_logged[N // 2] - s_plain[N // 2]:9.2f} ms")


def in_transaction():
    from django.db import transaction

    with transaction.atomic():
        for _ in range(100):
            logged_page(request, code="NCR-1")


batch = timed(in_transaction, 10)
print(f"{'logged view inside a transaction (no own commit)':<48} {sorted(batch)[5] / 100:9.2f} ms per view")
print(f"events written: {AccessEvent.objects.count() - before}")
print(f"server: synchronous_commit={_show('synchronous_commit')}, load average {os.getloadavg()[0]:.1f}")
