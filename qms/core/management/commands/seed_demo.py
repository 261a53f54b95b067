from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from qms.core.demo import DEMO_LOGINS, DEMO_PASSWORD, seed_core
from qms.core.registries import registry


class Command(BaseCommand):
    help = "Build the demo plants (idempotent). Demo only: refused unless QMS_DEMO is on."

    def handle(self, *args, **options):
        if not settings.QMS_DEMO:
            raise CommandError("seed_demo builds demo logins and is refused in production (set QMS_DEMO=1 to allow).")
        with transaction.atomic():
            seed_core()
            for seeder in sorted(registry.demo_seeders.values(), key=lambda s: s.order):
                self.stdout.write(f"seeding {seeder.name} ...")
                seeder.seed()
        self.stdout.write(self.style.SUCCESS("Demo plants ready. Demo logins (password for all: %s):" % DEMO_PASSWORD))
        for username, name, roles, sites in DEMO_LOGINS:
            self.stdout.write(f"  {username:<12} {roles:<32} sites {sites:<10} {name}")
