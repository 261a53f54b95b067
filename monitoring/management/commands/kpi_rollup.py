"""Rebuild the KPI daily roll-ups from the records (after an import, a data correction, or to backfill)."""

from django.core.management.base import BaseCommand, CommandError

from monitoring.engine import rollup_recent
from qms.core.kpis import KPIS
from qms.core.models import Site


class Command(BaseCommand):
    help = "Recompute the KPI daily roll-ups of the last N days (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=3)
        parser.add_argument("--site", help="site code (all active sites when omitted)")
        parser.add_argument("--kpi", action="append", help="KPI key (repeatable; all when omitted)")

    def handle(self, *args, days, site, kpi, **options):
        if days < 1:
            raise CommandError("--days must be at least 1")
        unknown = set(kpi or []) - set(KPIS)
        if unknown:
            raise CommandError(f"unknown KPI {', '.join(sorted(unknown))}; known: {', '.join(sorted(KPIS))}")
        sites = None
        if site:
            sites = list(Site.objects.filter(code=site))
            if not sites:
                raise CommandError(f"no site {site}")
        rows = rollup_recent(days=days, sites=sites, kpi_keys=set(kpi) if kpi else None)
        self.stdout.write(f"{rows} daily rows written")
