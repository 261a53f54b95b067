from django import forms
from django.utils.translation import gettext_lazy as _

from qms.core.models import Role, Site

from .models import Event, System

ROLE_CHOICES = [(v, label) for v, label in Role.choices if v != Role.ADMINISTRATOR]


class AccountForm(forms.Form):
    username = forms.CharField(label=_("Name"), max_length=60, help_text=_("e.g. mes-brg, erp"))
    system = forms.ChoiceField(label=_("System"), choices=System.choices)
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    sites = forms.ModelMultipleChoiceField(label=_("Sites"), queryset=Site.objects.none())
    roles = forms.MultipleChoiceField(
        label=_("Roles at these sites"), choices=ROLE_CHOICES, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, site_ids=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["sites"].queryset = Site.objects.filter(pk__in=site_ids)


class TokenForm(forms.Form):
    name = forms.CharField(label=_("Token name"), max_length=100)
    expires_in_days = forms.IntegerField(label=_("Valid for (days)"), min_value=1, max_value=3650, initial=365)


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=300)


class WebhookForm(forms.Form):
    event = forms.ChoiceField(label=_("Event"), choices=Event.choices)
    url = forms.URLField(label=_("Address (https://…)"), max_length=500, assume_scheme="https")
