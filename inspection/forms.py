from django import forms
from django.utils.translation import gettext_lazy as _

from compliance.forms import SignatureForm

from .models import DefectClass, Kind, Scheme, Special, Stage


class CompleteForm(SignatureForm):
    sign_purpose = "inspection result"


class ReleaseForm(SignatureForm):
    sign_purpose = "lot release"


class PlanApproveForm(SignatureForm):
    sign_purpose = "inspection plan approval"


class StartForm(forms.Form):
    code = forms.CharField(label=_("Lot or work order"), max_length=60)
    stage = forms.ChoiceField(label=_("Stage"), choices=[(Stage.FAI, Stage.FAI.label), (Stage.FQC, Stage.FQC.label)])


class CorrectionForm(forms.Form):
    correction = forms.CharField(label=_("Correction made"), widget=forms.Textarea(attrs={"rows": 3}))


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}))


class PlanForm(forms.Form):
    part = forms.ModelChoiceField(label=_("Part"), queryset=None)
    stage = forms.ChoiceField(label=_("Stage"), choices=Stage.choices)
    title = forms.CharField(label=_("Title"), max_length=200)
    scheme = forms.ChoiceField(label=_("Sampling scheme"), choices=Scheme.choices)
    aql = forms.CharField(label=_("AQL"), max_length=8, required=False, initial="1.0")
    level = forms.ChoiceField(
        label=_("Inspection level"),
        choices=[(x, x) for x in ("S-1", "S-2", "S-3", "S-4", "I", "II", "III")],
        initial="II",
    )
    fixed_sample_size = forms.IntegerField(label=_("Fixed sample size"), required=False, min_value=1)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from qms.core.models import Part

        self.fields["part"].queryset = Part.objects.filter(is_active=True)


class CharacteristicForm(forms.Form):
    name = forms.CharField(label=_("Characteristic"), max_length=200)
    kind = forms.ChoiceField(label=_("Kind"), choices=Kind.choices)
    nominal = forms.DecimalField(label=_("Nominal"), required=False)
    tolerance = forms.DecimalField(label=_("± tolerance"), required=False)
    lower_limit = forms.DecimalField(label=_("Lower limit"), required=False)
    upper_limit = forms.DecimalField(label=_("Upper limit"), required=False)
    unit = forms.CharField(label=_("Unit"), max_length=20, required=False)
    decimals = forms.IntegerField(label=_("Decimals"), min_value=0, max_value=6, initial=2)
    defect_class = forms.ChoiceField(label=_("Defect class"), choices=DefectClass.choices, initial="major")
    special = forms.ChoiceField(label=_("Special characteristic"), choices=Special.choices, required=False)
    method = forms.CharField(label=_("Gauge / method"), max_length=200, required=False)
