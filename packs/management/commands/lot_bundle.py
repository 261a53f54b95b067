"""Everything about lot X from the command line: `manage.py lot_bundle LOT-CODE [--lang zh-hans] [--out f.pdf]`.

Runs as the system (every site) unless --user names a person, whose sites and rights then apply. Prints the
document number, SHA-256, manifest hash and where the file is stored; --out also writes a copy."""

from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from compliance.reports import ReportError
from qms.core.models import User
from qms.core.scoping import site_scope, system_scope


class Command(BaseCommand):
    help = "Make the bundle of everything about one lot (one PDF with bookmarks and a SHA-256 manifest)."

    def add_arguments(self, parser):
        parser.add_argument("lot")
        parser.add_argument("--lang", default="en")
        parser.add_argument("--user", default="", help="username whose sites and rights apply")
        parser.add_argument("--out", default="", help="also write the PDF to this path")

    def handle(self, *args, **opts):
        from qms.core import policy

        from ...bundle import lot_for_bundle, make_lot_bundle

        user = None
        if opts["user"]:
            user = User.objects.filter(username=opts["user"], is_active=True).first()
            if user is None:
                raise CommandError(f"No active user {opts['user']!r}.")
        scope = site_scope(policy.sites_for(user, "packs.export")) if user else system_scope()

        def progress(done, total):
            self.stderr.write(f"  {done}/{total} sections")

        with translation.override(opts["lang"]), scope:
            try:
                lot = lot_for_bundle(opts["lot"], user)
                stored, row = make_lot_bundle(lot=lot, user=user, progress=progress)
            except ReportError as exc:
                raise CommandError(str(exc)) from exc
            if opts["out"]:
                with stored.file.open("rb") as src, open(opts["out"], "wb") as dst:
                    dst.write(src.read())
        self.stdout.write(f"{stored.document_number} {stored.sha256} manifest {row.manifest_sha256} {stored.file.name}")
