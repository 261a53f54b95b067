"""Check a stored pack: `manage.py verify_pack DOCUMENT-NUMBER` (file SHA-256, embedded manifest, bookmarks)."""

from django.core.management.base import BaseCommand, CommandError

from qms.core.scoping import system_scope


class Command(BaseCommand):
    help = "Verify a stored compliance pack against its SHA-256 and manifest."

    def add_arguments(self, parser):
        parser.add_argument("document_number")

    def handle(self, *args, **opts):
        from ...assemble import verify_pack
        from ...models import PackManifest

        with system_scope():
            row = PackManifest.objects.filter(generated_report__document_number=opts["document_number"]).first()
            if row is None:
                raise CommandError(f"No pack has the document number {opts['document_number']!r}.")
            result = verify_pack(row)
        if not result.ok:
            raise CommandError("; ".join(str(p) for p in result.problems))
        self.stdout.write(f"OK {opts['document_number']} {row.generated_report.sha256}")
