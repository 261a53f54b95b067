from django import forms
from django.utils.translation import gettext_lazy as _

from .models import SignatureMeaning
from .signatures import SignatureRefused, signature_authenticate


class SignatureForm(forms.Form):
    """The reusable signing step. Put it in any decision form (`{% include "compliance/partials/_sign_fields.html" %}`)
    or subclass it to add the decision's own fields. After is_valid(), `form.credential` goes to the service."""

    username = forms.CharField(
        label=_("Username"), required=False, widget=forms.TextInput(attrs={"autocomplete": "username"})
    )
    password = forms.CharField(
        label=_("Password"),
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text=_("Your password signs this decision electronically (21 CFR Part 11)."),
    )
    reason = forms.CharField(label=_("Reason / comment"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    sign_purpose = ""  # e.g. "approve supplier S-001": logged with a failed attempt

    def __init__(self, *args, request=None, meaning: str = "", require_reason: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.request = request
        self.meaning = meaning
        self.credential = None
        self.needs_username = request is not None and not request.session.get("signed_once")
        if not self.needs_username:
            del self.fields["username"]
        else:
            self.fields["username"].required = True
        self.fields["reason"].required = require_reason

    @property
    def meaning_label(self):
        return SignatureMeaning(self.meaning).label if self.meaning in SignatureMeaning.values else ""

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        try:
            self.credential = signature_authenticate(
                user=self.request.user,
                password=data.get("password", ""),
                username=data.get("username"),
                session=self.request.session,
                purpose=self.sign_purpose or self.meaning,
            )
        except SignatureRefused as exc:
            raise forms.ValidationError(str(exc))
        return data
