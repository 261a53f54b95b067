"""Upward news from inspection (DESIGN.md: nonconformance listens, inspection never calls it).

- `inspection_rejected(sender=Inspection, inspection=...)`: after commit; nonconformance opens an NCR.
- `inspection_accepted(sender=Inspection, inspection=...)`: after commit.
"""

from django.dispatch import Signal

inspection_rejected = Signal()
inspection_accepted = Signal()
