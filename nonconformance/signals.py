"""Upward news from nonconformance (capa listens; nonconformance never imports capa)."""

from django.dispatch import Signal

# Sent after commit when an NCR is opened: ncr.
ncr_opened = Signal()
# Sent after commit when an NCR is closed or cancelled: ncr.
ncr_closed = Signal()
# Sent inside the transaction when a "return to supplier" line is executed: line, ncr, user.
# capa opens a SCAR to the supplier from it.
supplier_return_executed = Signal()
