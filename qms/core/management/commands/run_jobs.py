import time

from django.core.management.base import BaseCommand, CommandError

from qms.core.jobs import run_job_now
from qms.core.registries import registry


class Command(BaseCommand):
    help = "Run the periodic jobs once (for cron), or in a loop (the quick start's stand-in for Celery beat)."

    def add_arguments(self, parser):
        parser.add_argument("names", nargs="*", help="Jobs to run (default: all). --list shows them.")
        parser.add_argument("--list", action="store_true")
        parser.add_argument("--loop", action="store_true", help="Keep running each job at its interval")
        parser.add_argument("--tick", type=int, default=30, help="Seconds between checks in --loop")

    def handle(self, *args, names, list, loop, tick, **options):
        jobs = registry.periodic_jobs
        if list:
            for job in jobs.values():
                self.stdout.write(f"{job.name}\tevery {job.every_seconds}s\t{job.description}")
            return
        unknown = set(names) - set(jobs)
        if unknown:
            raise CommandError(f"Unknown job(s): {', '.join(sorted(unknown))}. Known: {', '.join(sorted(jobs))}")
        selected = names or sorted(jobs)
        if not loop:
            failed = [n for n in selected if not run_job_now(n)]
            for n in selected:
                self.stdout.write(f"{n}: {'FAILED' if n in failed else 'ok'}")
            if failed:
                raise CommandError(f"{len(failed)} job(s) failed; see the job log in the admin.")
            return
        due = dict.fromkeys(selected, 0.0)
        while True:
            now = time.monotonic()
            for name in selected:
                if now >= due[name]:
                    run_job_now(name)
                    due[name] = now + jobs[name].every_seconds
            time.sleep(tick)
