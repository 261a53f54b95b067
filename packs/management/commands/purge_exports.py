"""Remove export files whose retention date has passed: `manage.py purge_exports [--dry-run]`.

Every candidate is asked through compliance.retention.purge_refusal (the retention policies of the packs
app): a file still under retention is kept, whatever its age. Generated reports (the stored originals)
are evidence and never purged; only the export job's copy of a CSV/XLSX goes."""

from django.core.management.base import BaseCommand

from qms.core.scoping import system_scope


class Command(BaseCommand):
    help = "Purge expired export files; never before their retention date."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true")

    def handle(self, *args, **opts):
        from compliance.models import ExportJob, ExportStatus
        from compliance.retention import purge_refusal

        purged = kept = 0
        with system_scope():
            for job in ExportJob.objects.filter(status__in=[ExportStatus.READY, ExportStatus.FAILED]).iterator():
                if job.generated_report_id:
                    continue  # the stored original: evidence, never purged
                refusal = purge_refusal(job)
                if refusal:
                    kept += 1
                    continue
                purged += 1
                if not opts["dry_run"]:
                    if job.file:
                        job.file.delete(save=False)
                    job.delete()
        self.stdout.write(f"purged {purged}, kept {kept} under retention")
