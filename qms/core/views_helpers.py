"""Small helpers shared by thin views."""

from django.contrib import messages
from django.shortcuts import redirect

from .errors import DomainError


def run_and_redirect(request, url: str, action, success_message, *, form=None, invalid=""):
    """Call a service; show its DomainError as an error message or `success_message`; back to `url`.
    With a `form`: an invalid one calls nothing and says `invalid` (what to fill in) instead."""
    if form is not None and not form.is_valid():
        messages.error(request, invalid)
        return redirect(url)
    try:
        action()
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, success_message)
    return redirect(url)


def form_action(request, form, act, *, done: str, to: str, allowed: bool = True):
    """The POST of a decision or edit page: with a valid form (and `allowed`: the page's offer), call the
    service `act()`; its refusal goes onto the form (the page is shown again, nothing written), success
    is said and leads to `to`. Returns the redirect, or None to render the page."""
    if request.method != "POST" or not allowed or not form.is_valid():
        return None
    try:
        act()
    except DomainError as exc:
        form.add_error(None, exc.message)
        return None
    messages.success(request, done)
    return redirect(to)
