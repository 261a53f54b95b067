from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from qms.core import importing
from qms.core.importing import import_file
from qms.core.registries import registry


class Command(BaseCommand):
    help = "Import master or domain data from CSV/XLSX. Validates every row; writes nothing unless all rows are good."

    def add_arguments(self, parser):
        parser.add_argument("kind", help="What the file holds: " + ", ".join(sorted(registry.import_kinds)))
        parser.add_argument("file", help="CSV (UTF-8) or XLSX file; the first row names the columns")
        parser.add_argument("--dry-run", action="store_true", help="Validate only, write nothing")
        parser.add_argument(
            "--user",
            help="Username the import is recorded for; needed to import lots as released (release authority at the site)",
        )

    def handle(self, *args, kind, file, dry_run, user=None, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"{file}: no such file")
        importer = None
        if user:
            from django.contrib.auth import get_user_model

            importer = get_user_model().objects.filter(username=user, is_active=True).first()
            if importer is None:
                raise CommandError(f"{user}: no such active user")
        with path.open("rb") as fh:
            content = fh.read(importing.max_bytes() + 1)  # import_file refuses a larger file with a message
        report = import_file(kind=kind, filename=path.name, content=content, dry_run=dry_run, user=importer)
        for line, message in report.errors:
            self.stderr.write(f"{path.name}:{line}: {message}")
        if report.errors:
            raise CommandError(f"{len(report.errors)} bad row(s) in {path.name}; nothing was written.")
        if dry_run:
            self.stdout.write(f"{report.row_count} row(s) valid; dry run, nothing written.")
        else:
            self.stdout.write(self.style.SUCCESS(f"{report.written} row(s) written from {path.name}."))
