"""Upward news from inspection (DESIGN.md: nonconformance listens, inspection never calls it).

- `inspection_rejected(sender=Inspection, inspection=...)`: after commit; nonconformance opens an NCR.
- `inspection_accepted(sender=Inspection, inspection=...)`: after commit.
"""

from django.dispatch import Signal

inspection_rejected = Signal()
inspection_accepted = Signal()

# - `spc_signals_raised(sender=SpcSignal, site_id=..., signal_ids=[...])`: after commit, when a completed
#   inspection broke a Nelson rule of frozen control limits (monitoring re-evaluates its alarm rules).
spc_signals_raised = Signal()
