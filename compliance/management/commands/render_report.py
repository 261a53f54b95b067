from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from compliance.pdf import render_report_pdf
from compliance.reports import REPORTS, ReportError


class Command(BaseCommand):
    help = (
        "Render a registered report to PDF and store it with its SHA-256. "
        "`render_report --list` shows the reports; `render_report KEY --lang zh-hans -o F.pdf --param name=value`."
    )

    def add_arguments(self, parser):
        parser.add_argument("key", nargs="?", help="report key, e.g. audit.record (see --list)")
        parser.add_argument("--list", action="store_true", help="list the registered reports and their parameters")
        parser.add_argument(
            "--lang",
            default=settings.LANGUAGE_CODE,
            choices=[code for code, _name in settings.LANGUAGES],
            help="language of the document (default %(default)s)",
        )
        parser.add_argument("-o", "--output", help="PDF file to write (default: DOCUMENT-NUMBER.pdf here)")
        parser.add_argument(
            "--param", action="append", default=[], metavar="NAME=VALUE", help="a report parameter; repeat as needed"
        )
        parser.add_argument("--user", help="username recorded as the one who generated it (default: system)")
        parser.add_argument("--no-store", action="store_true", help="do not store the PDF in the generated reports")

    def handle(self, *args, **options):
        if options["list"]:
            self._list()
            return
        key = options["key"]
        if not key:
            raise CommandError("Give a report key (see `render_report --list`).")
        if key not in REPORTS:
            raise CommandError(f"Unknown report “{key}”. Known reports: {', '.join(sorted(REPORTS)) or '-'}.")
        params = {}
        for item in options["param"]:
            name, sep, value = item.partition("=")
            if not sep or not name.strip():
                raise CommandError(f"Bad --param “{item}”: write it as NAME=VALUE, e.g. --param id=42.")
            params[name.strip()] = value
        user = None
        if options["user"]:
            user = get_user_model().objects.filter(username__iexact=options["user"]).first()
            if user is None:
                raise CommandError(f"No user “{options['user']}”.")
        try:
            pdf, stored = render_report_pdf(
                key=key, params=params, language=options["lang"], user=user, store=not options["no_store"]
            )
        except ReportError as exc:
            missing = exc.field in {p.name for p in REPORTS[key].params} and not params.get(exc.field)
            hint = f" Give it as --param {exc.field}=VALUE." if missing else ""
            raise CommandError(f"{exc}{hint}") from None
        out = Path(options["output"] or f"{stored.document_number if stored else key}.pdf")
        out.write_bytes(pdf)
        self.stdout.write(
            self.style.SUCCESS(
                f"Wrote {out} ({len(pdf)} bytes)"
                + (f", document {stored.document_number}, SHA-256 {stored.sha256}" if stored else "")
            )
        )

    def _list(self):
        with translation.override("en"):
            for key in sorted(REPORTS):
                report = REPORTS[key]
                self.stdout.write(f"{key}  {report.title}  (permission {report.perm})")
                for p in report.params:
                    need = "required" if p.required else "optional"
                    default = f", default {p.default}" if p.default else ""
                    self.stdout.write(f"    --param {p.name}=...  {need}{default}  {p.help}")
                if not report.params:
                    self.stdout.write("    (no parameters)")
