"""Idempotent create forms: one kernel mechanism for every create form.

The form carries a single-use token (`{% form_token %}`); the view is wrapped in `@create_once`. The first
POST with a token records it in the same transaction as what the view creates, together with the page the
view redirects to; a repeated POST with the same token (double click, back button, a retry, concurrent
requests) creates nothing and is sent to that first result. A POST that ends in form errors leaves the
token unused, so the corrected form can be sent again.
"""

from __future__ import annotations

import uuid
from functools import wraps

from django.contrib import messages
from django.db import IntegrityError, transaction
from django.http import HttpResponseRedirect
from django.shortcuts import redirect
from django.utils.translation import gettext as _

FIELD = "form_token"


def new_token() -> str:
    return uuid.uuid4().hex


def create_once(view):
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        from .models import SubmittedForm

        raw = request.POST.get(FIELD, "") if request.method == "POST" else ""
        if not raw or not request.user.is_authenticated:
            return view(request, *args, **kwargs)
        try:
            token = uuid.UUID(str(raw))
        except ValueError:
            messages.error(request, _("This form is out of date; it was reloaded. Check it and send it again."))
            return redirect(request.get_full_path())
        with transaction.atomic():
            try:
                with transaction.atomic():
                    row = SubmittedForm.objects.create(token=token, user=request.user, path=request.path[:300])
            except IntegrityError:
                # Sent before (the first request has committed or we waited for it): its result, nothing new.
                first = SubmittedForm.objects.filter(token=token).first()
                if first is None or first.user_id != request.user.pk or not first.result_url:
                    messages.error(request, _("This form was already sent. Reload the page to start again."))
                    return redirect(request.get_full_path())
                messages.info(request, _("This form was already sent; here is what it created."))
                return redirect(first.result_url)
            response = view(request, *args, **kwargs)
            if isinstance(response, HttpResponseRedirect) or getattr(response, "status_code", 200) in (301, 302, 303):
                row.result_url = response["Location"][:500]
                row.save(update_fields=["result_url"])
            else:
                row.delete()  # form errors: the token stays usable for the corrected form
        return response

    wrapped.qms_create_once = True
    return wrapped
