import getpass
import os
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from qms.core import importing
from qms.core.importing import import_file
from qms.core.registries import registry

PASSWORD_ENV = "QMS_SIGNER_PASSWORD"


class Command(BaseCommand):
    help = "Import master or domain data from CSV/XLSX. Validates every row; writes nothing unless all rows are good."

    def add_arguments(self, parser):
        parser.add_argument("kind", help="What the file holds: " + ", ".join(sorted(registry.import_kinds)))
        parser.add_argument("file", help="CSV (UTF-8) or XLSX file; the first row names the columns")
        parser.add_argument("--dry-run", action="store_true", help="Validate only, write nothing")
        parser.add_argument("--user", help="Username the import is recorded for (its sites bound what it may import)")
        parser.add_argument(
            "--released-as-history",
            action="store_true",
            help="lots only: import rows with status 'released' as released (history import), e-signed by --signer, "
            "who needs release authority at the site of every such row",
        )
        parser.add_argument(
            "--signer",
            help=f"Username signing the history import (meaning 'released'); the password is asked for, or read "
            f"from the environment variable {PASSWORD_ENV} for automation. The import is recorded for the signer.",
        )

    def handle(self, *args, kind, file, dry_run, user=None, released_as_history=False, signer=None, **options):
        from django.contrib.auth import get_user_model

        path = Path(file)
        if not path.is_file():
            raise CommandError(f"{file}: no such file")
        User = get_user_model()
        if released_as_history:
            if kind != "lots":
                raise CommandError("--released-as-history applies to the kind 'lots' only.")
            if not signer:
                raise CommandError("--released-as-history needs --signer USER: the person who signs the release.")
            if user and user != signer:
                raise CommandError(
                    "--user and --signer name different people: a history import is recorded for its signer."
                )
            user = signer
        elif signer:
            raise CommandError("--signer is used with --released-as-history only.")
        importer = None
        if user:
            importer = User.objects.filter(username=user, is_active=True).first()
            if importer is None:
                raise CommandError(f"{user}: no such active user")
        credential = None
        if released_as_history and not dry_run:
            credential = self._sign(importer)
        with path.open("rb") as fh:
            content = fh.read(importing.max_bytes() + 1)  # import_file refuses a larger file with a message
        report = import_file(
            kind=kind,
            filename=path.name,
            content=content,
            dry_run=dry_run,
            user=importer,
            options={"release_as_history": released_as_history, "credential": credential},
        )
        for line, message in report.errors:
            self.stderr.write(f"{path.name}:{line}: {message}")
        if report.errors:
            raise CommandError(f"{len(report.errors)} bad row(s) in {path.name}; nothing was written.")
        if dry_run:
            self.stdout.write(f"{report.row_count} row(s) valid; dry run, nothing written.")
        else:
            self.stdout.write(self.style.SUCCESS(f"{report.written} row(s) written from {path.name}."))

    def _sign(self, signer):
        """The signer's password (from the environment for automation, else asked for), checked as an
        e-signature: failures are logged and count towards the lock-out, as on the release page."""
        from qms.core.errors import DomainError

        if registry.signature_authenticate is None:
            raise CommandError("E-signatures are not available (the compliance app is not installed).")
        password = os.environ.get(PASSWORD_ENV)
        if password is None:
            try:
                password = getpass.getpass(f"Password of {signer.get_username()} (signs the history import): ")
            except (EOFError, KeyboardInterrupt):
                raise CommandError("No password given: nothing was imported.") from None
        try:
            return registry.signature_authenticate(
                user=signer, password=password, purpose="history import (command line)"
            )
        except DomainError as exc:
            raise CommandError(f"{exc.message} Nothing was imported.") from None
