from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from qms.core.importing import import_file
from qms.core.registries import registry


class Command(BaseCommand):
    help = "Import master or domain data from CSV/XLSX. Validates every row; writes nothing unless all rows are good."

    def add_arguments(self, parser):
        parser.add_argument("kind", help="What the file holds: " + ", ".join(sorted(registry.import_kinds)))
        parser.add_argument("file", help="CSV (UTF-8) or XLSX file; the first row names the columns")
        parser.add_argument("--dry-run", action="store_true", help="Validate only, write nothing")

    def handle(self, *args, kind, file, dry_run, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"{file}: no such file")
        report = import_file(kind=kind, filename=path.name, content=path.read_bytes(), dry_run=dry_run)
        for line, message in report.errors:
            self.stderr.write(f"{path.name}:{line}: {message}")
        if report.errors:
            raise CommandError(f"{len(report.errors)} bad row(s) in {path.name}; nothing was written.")
        if dry_run:
            self.stdout.write(f"{report.row_count} row(s) valid; dry run, nothing written.")
        else:
            self.stdout.write(self.style.SUCCESS(f"{report.written} row(s) written from {path.name}."))
