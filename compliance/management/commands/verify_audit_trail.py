from django.core.management.base import BaseCommand, CommandError

from compliance.audit_trail import verify_chain


class Command(BaseCommand):
    help = "Recompute the audit trail's hash chain; exit non-zero and name the first bad row if anything was altered or removed."

    def handle(self, *args, **options):
        result = verify_chain()
        if not result.ok:
            raise CommandError(
                f"Audit trail NOT intact: row #{result.first_bad_seq} (id {result.first_bad_id}): {result.problem}. "
                f"{result.checked} row(s) before it verified."
            )
        self.stdout.write(self.style.SUCCESS(f"Audit trail intact: {result.checked} entries verified."))
