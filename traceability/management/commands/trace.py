import json

from django.core.management.base import BaseCommand, CommandError

from traceability.models import Lot
from traceability.selectors import BACKWARD, FORWARD, trace_backward, trace_forward


class Command(BaseCommand):
    help = (
        "Trace a lot backward (where from) or forward (where used): every lot once at its smallest depth, "
        "the start lot excluded."
    )

    def add_arguments(self, parser):
        parser.add_argument("lot_code")
        parser.add_argument("--direction", choices=[BACKWARD, FORWARD], default=BACKWARD)
        parser.add_argument("--format", choices=["json", "text"], default="text")

    def handle(self, *args, lot_code, direction, format, **options):
        lot = Lot.objects.filter(code=lot_code).first()
        if lot is None:
            raise CommandError(f"No lot has the code {lot_code!r}.")
        rows = trace_backward(lot) if direction == BACKWARD else trace_forward(lot)
        codes = {r["lot_id"]: r["code"] for r in rows}
        codes[lot.pk] = lot.code
        out = [
            {
                "lot": r["code"],
                "depth": r["depth"],
                "via": codes.get(r["via_id"]),
                "quantity": str(r["quantity"]),
                "status": r["status"],
            }
            for r in rows
        ]
        if format == "json":
            self.stdout.write(json.dumps(out, ensure_ascii=False))
        else:
            for r in out:
                self.stdout.write(
                    f"{'  ' * r['depth']}{r['lot']}  (depth {r['depth']}, {r['quantity']} from/into {r['via']}, {r['status']})"
                )
