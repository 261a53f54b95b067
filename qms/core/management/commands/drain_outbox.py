from django.core.management.base import BaseCommand

from qms.core.jobs import outbox_drain
from qms.core.models import OutboxJob


class Command(BaseCommand):
    help = "Publish the background jobs waiting in the outbox (after a broker outage; cron or by hand)."

    def handle(self, *args, **options):
        handed = outbox_drain()
        waiting = OutboxJob.objects.filter(delivered_at__isnull=True, failed_at__isnull=True).count()
        self.stdout.write(f"handed over: {handed}; not yet delivered: {waiting}")
