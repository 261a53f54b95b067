"""Upward news from traceability. Higher apps connect in their AppConfig.ready().

- `lot_received(sender=Lot, lot=lot)`: a purchased lot was received (sent after the transaction commits);
  inspection creates the IQC from it.
- `lot_released(sender=Lot, lot=lot)` / `lot_rejected(sender=Lot, lot=lot)`: after commit.
- `lot_hold_placed(sender=LotHold, hold=hold)` / `lot_hold_lifted(sender=LotHold, hold=hold)`: after commit.
- `recall_approved(sender=Recall, recall=recall)`: after commit.
"""

from django.dispatch import Signal

lot_received = Signal()
lot_released = Signal()
lot_rejected = Signal()
lot_hold_placed = Signal()
lot_hold_lifted = Signal()
recall_approved = Signal()
