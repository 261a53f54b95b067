"""Upward news from monitoring (the integration API listens; monitoring never imports it).

- `alarm_raised(sender=Alarm, alarm=alarm)`: sent after the transaction that raised the alarm commits.
"""

from django.dispatch import Signal

alarm_raised = Signal()
