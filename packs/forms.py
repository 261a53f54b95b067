from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from qms.core.models import Part

from .models import Basis, RecordType


class ControlPlanForm(forms.Form):
    part = forms.ModelChoiceField(queryset=Part.objects.none(), label=_("Part"))

    def __init__(self, *args, site=None, **kwargs):
        super().__init__(*args, **kwargs)
        from .iatf import parts_with_plans

        if site is not None:
            self.fields["part"].queryset = Part.objects.filter(pk__in=[p.pk for p in parts_with_plans(site)])


class RetentionForm(forms.Form):
    record_type = forms.ChoiceField(choices=RecordType.choices, label=_("Record type"))
    basis = forms.ChoiceField(choices=Basis.choices, label=_("Counted from"))
    months = forms.IntegerField(min_value=0, max_value=1200, label=_("Months after the basis date"))
    months_without_basis = forms.IntegerField(
        min_value=0, max_value=1200, initial=0, label=_("Months when there is no basis date")
    )
    months_from_record = forms.IntegerField(
        min_value=0, max_value=1200, initial=0, label=_("At least months after the record date")
    )
    note = forms.CharField(max_length=300, required=False, label=_("Legal basis"))
    reason = forms.CharField(max_length=500, label=_("Reason for the change"))
