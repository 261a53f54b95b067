"""Small helpers shared by thin views."""

from django.contrib import messages
from django.shortcuts import redirect

from .errors import DomainError


def run_and_redirect(request, url: str, action, success_message):
    """Call a service; show its DomainError as an error message or `success_message`; back to `url`."""
    try:
        action()
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, success_message)
    return redirect(url)
