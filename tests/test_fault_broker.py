"""Fault test (issue 10): Redis — broker and cache — stops while people write, then comes back.

A private redis-server on a free port is the broker and the cache. Writes made while it is down answer
302 (the CAPA is saved, nothing to retry), the public trace page answers 200 without its rate-limit cache,
and every job asked for before, during and after the outage is delivered exactly once by a real Celery
worker, even though the drain publishes some of them twice and the restart lost the queued messages.
"""

import shutil
import socket
import subprocess
import time

import pytest
from django.core import mail
from django.urls import reverse

from capa.models import Capa
from qms.core.models import OutboxJob, Role
from traceability import services as trace_services
from traceability.tests.factories import lot, part

pytestmark = pytest.mark.skipif(not shutil.which("redis-server"), reason="needs redis-server on PATH")


class PrivateRedis:
    def __init__(self):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(100):
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()  # a crash, not a clean shutdown: queued messages are lost
            self.proc.wait(10)


@pytest.fixture
def redis_server():
    server = PrivateRedis()
    server.start()
    yield server
    server.stop()


def _create_capa(client, site, owner, title):
    return client.post(
        reverse("capa:capa_create"),
        {
            "site": site.pk,
            "title": title,
            "kind": "corrective",
            "source": "other",
            "owner": owner.pk,
            "effectiveness_days": 30,
        },
    )


@pytest.mark.django_db(transaction=True)
def test_redis_outage_during_writes_loses_nothing_and_delivers_once(
    redis_server, celery_broker, settings, client, site, make_user
):
    from celery.contrib.testing.worker import start_worker

    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": redis_server.url}
    }
    settings.OUTBOX_REPUBLISH_SECONDS = 0  # republish at once what the restart may have lost
    settings.OUTBOX_BROKER_PAUSE_SECONDS = 0  # and try the broker again at once once it is back
    app = celery_broker(redis_server.url)
    qm = make_user("qm", roles=[Role.QUALITY_MANAGER])
    owners = [make_user(f"owner{i}", roles=[Role.QUALITY_ENGINEER]) for i in range(4)]
    fin = lot(site, "FIN-FAULT", part_obj=part(number="FG-FAULT"))
    fin = trace_services.lot_public_enable(lot=fin, user=qm)
    client.force_login(qm)

    # Broker up: two CAPAs, their owners' e-mails go to the broker.
    for i in (0, 1):
        response = _create_capa(client, site, owners[i], f"before outage {i}")
        assert response.status_code == 302
    assert OutboxJob.objects.filter(published_at__isnull=False).count() == 2

    redis_server.stop()
    # Broker and cache down: writes still answer 302, once; the public page still answers.
    for i in (2, 3):
        response = _create_capa(client, site, owners[i], f"during outage {i}")
        assert response.status_code == 302, response.content[:500]
    public = client.get(reverse("traceability:public", args=[fin.public_token]))
    assert public.status_code == 200 and "FIN-FAULT" in public.content.decode()
    assert client.get("/healthz").status_code == 200  # degraded, not down
    assert Capa.objects.count() == 4  # saved once each: nobody had a reason to retry
    waiting = OutboxJob.objects.filter(delivered_at__isnull=True)
    assert waiting.count() == 4 and waiting.filter(published_at__isnull=True).count() == 2
    assert mail.outbox == []

    redis_server.start()  # back, empty: the two messages queued before the crash are gone
    from qms.core.jobs import outbox_drain

    assert outbox_drain() == 4
    assert outbox_drain() == 4  # published twice: the worker must still deliver each once
    with start_worker(app, pool="solo", perform_ping_check=False, loglevel="WARNING", shutdown_timeout=10):
        deadline = time.monotonic() + 60
        while OutboxJob.objects.filter(delivered_at__isnull=True).exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(1)  # let the duplicate messages reach the worker too
    assert not OutboxJob.objects.filter(delivered_at__isnull=True).exists()
    recipients = sorted(m.to[0] for m in mail.outbox)
    assert recipients == sorted(o.email for o in owners)  # every owner told, exactly once
