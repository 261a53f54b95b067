"""Signals the kernel sends (higher apps receive them in AppConfig.ready).

file_downloaded(sender=<model class of the record>, user, record, file_name, content_type, request)
    A stored file was handed out by `qms.core.uploads.file_response` after the view checked the
    user's permission at the record's site. compliance records it in the access log.
"""

from django.dispatch import Signal

file_downloaded = Signal()
