from django.core.management.base import BaseCommand, CommandError

from compliance.audit_trail import verify_chain


class Command(BaseCommand):
    help = (
        "Recompute the audit trail's hash chain and hold it against every checkpoint (database and anchor log); "
        "exit non-zero and name the first bad row, or the missing entries, if anything was altered or removed."
    )

    def handle(self, *args, **options):
        result = verify_chain()
        for warning in result.warnings:
            self.stderr.write(self.style.WARNING(f"Warning: {warning}"))
        if not result.ok:
            where = f"row #{result.first_bad_seq}" if result.first_bad_seq else "checkpoints"
            if result.first_bad_id:
                where += f" (id {result.first_bad_id})"
            raise CommandError(
                f"Audit trail NOT intact: {where}: {result.problem}. {result.checked} row(s) before it verified."
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"Audit trail intact: {result.checked} entries verified against {result.anchors_checked} checkpoint(s)."
            )
        )
