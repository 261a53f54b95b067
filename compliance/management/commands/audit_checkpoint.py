from django.core.management.base import BaseCommand

from compliance.anchors import anchor_log_path, checkpoint_create


class Command(BaseCommand):
    help = (
        "Anchor the audit trail's head now: a signed checkpoint (sequence, hash, time) in the database and "
        "one line in the anchor log (AUDIT_ANCHOR_LOG). Also run hourly by the periodic jobs."
    )

    def handle(self, *args, **options):
        cp = checkpoint_create()
        if cp is None:
            self.stdout.write("The audit trail is empty: nothing to anchor yet.")
            return
        self.stdout.write(
            self.style.SUCCESS(f"Checkpoint #{cp.seq} {cp.head_hash[:16]} at {cp.created_at:%Y-%m-%d %H:%M:%S} UTC")
            + f" → {anchor_log_path()}"
        )
