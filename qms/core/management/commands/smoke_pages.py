"""The quick-start check: every top-level page, for every demo role, answers 200 where the role may see
it and 403 where it may not, never 500. Used by CI on the embedded SQLite database."""

from django.core.management.base import BaseCommand, CommandError
from django.test import Client
from django.urls import reverse

from qms.core import policy
from qms.core.demo import DEMO_USERS
from qms.core.models import User
from qms.core.registries import registry


class Command(BaseCommand):
    help = "Request every top-level page as every demo user and check the status codes."

    def handle(self, *args, **options):
        failures, checked = [], 0
        for username, *_rest in DEMO_USERS:
            user = User.objects.get(username=username)
            client = Client()
            client.force_login(user)
            for item in registry.nav_items.values():
                url = reverse(item.url_name)
                expected = 200 if policy.can(user, item.perm) else 403
                status = client.get(url).status_code
                checked += 1
                if status != expected:
                    failures.append(f"{username} {url}: {status}, expected {expected}")
        anon = Client()
        for item in registry.nav_items.values():
            status = anon.get(reverse(item.url_name)).status_code
            checked += 1
            if status != 302:
                failures.append(f"anonymous {reverse(item.url_name)}: {status}, expected 302 to login")
        for line in failures:
            self.stderr.write(line)
        if failures:
            raise CommandError(f"{len(failures)} of {checked} page checks failed")
        self.stdout.write(self.style.SUCCESS(f"{checked} page checks passed"))
