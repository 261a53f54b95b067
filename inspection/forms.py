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
    site = forms.ModelChoiceField(label=_("Site"), queryset=None)
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

    def __init__(self, *args, site_ids=(), **kwargs):
        super().__init__(*args, **kwargs)
        from qms.core.models import Part, Site

        # only the sites where the user may edit plans; a user of one such site has nothing to choose
        self.fields["site"].queryset = Site.objects.filter(pk__in=list(site_ids), is_active=True)
        if len(site_ids) == 1:
            self.fields["site"].initial = next(iter(site_ids))
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


class _SetupForm(forms.Form):
    """Set-up forms offer only the sites where the user may edit plans; the service re-checks each choice."""

    reason = forms.CharField(label=_("Reason for change"), max_length=500, required=False)

    def __init__(self, *args, site_ids=(), editing=False, **kwargs):
        super().__init__(*args, **kwargs)
        from qms.core.models import Equipment, EquipmentKind, Site

        self.site_ids = list(site_ids)
        self.editing = editing
        self.fields["site"].queryset = Site.objects.filter(pk__in=self.site_ids)
        if editing:
            self.fields["site"].disabled = True
            self.fields["reason"].required = True
        else:
            del self.fields["reason"]
        self.fields["line"].queryset = Equipment.objects.filter(
            site_id__in=self.site_ids, kind=EquipmentKind.LINE, is_active=True
        ).select_related("site")


class StationForm(_SetupForm):
    site = forms.ModelChoiceField(label=_("Site"), queryset=None)
    code = forms.CharField(label=_("Code"), max_length=30)
    name = forms.CharField(label=_("Name"), max_length=120)
    stages = forms.MultipleChoiceField(label=_("Stages"), choices=Stage.choices, widget=forms.CheckboxSelectMultiple)
    line = forms.ModelChoiceField(label=_("Line"), queryset=None, required=False)
    inspectors = forms.ModelMultipleChoiceField(label=_("Inspectors"), queryset=None, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from qms.core import policy
        from qms.core.models import User

        self.fields["inspectors"].queryset = User.objects.filter(
            is_active=True,
            memberships__site_id__in=self.site_ids,
            memberships__is_active=True,
            memberships__role__in=policy.PERMISSIONS["inspection.perform"],
        ).distinct()
        self.order_fields(["site", "code", "name", "stages", "line", "inspectors", "reason"])


class ScheduleForm(_SetupForm):
    site = forms.ModelChoiceField(label=_("Site"), queryset=None)
    plan = forms.ModelChoiceField(label=_("IPQC plan"), queryset=None)
    line = forms.ModelChoiceField(label=_("Line"), queryset=None)
    operation_name = forms.CharField(label=_("Operation"), max_length=120, required=False)
    station = forms.ModelChoiceField(label=_("Station"), queryset=None, required=False)
    every_minutes = forms.IntegerField(label=_("Every (minutes)"), min_value=5, max_value=7 * 24 * 60, initial=120)
    pieces = forms.IntegerField(label=_("Pieces"), min_value=1, max_value=1000, initial=5)
    grace_minutes = forms.IntegerField(label=_("Overdue after (minutes)"), min_value=0, initial=30)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from .models import InspectionPlan, PlanStatus, Station

        self.fields["plan"].queryset = InspectionPlan.objects.filter(
            site_id__in=self.site_ids, stage=Stage.IPQC, status__in=[PlanStatus.APPROVED, PlanStatus.DRAFT]
        ).select_related("part")
        self.fields["station"].queryset = Station.objects.filter(site_id__in=self.site_ids, stages__contains=Stage.IPQC)
        if not self.editing:
            del self.fields["is_active"]
        self.order_fields(
            ["site", "plan", "line", "operation_name", "station", "every_minutes", "pieces", "grace_minutes"]
        )


class ControlLimitsFreezeForm(SignatureForm):
    """Freeze Phase II control limits: the rules to apply, the points left out of the baseline (each with
    its reason) and the e-signature."""

    sign_purpose = "freeze control limits"

    rules = forms.TypedMultipleChoiceField(
        label=_("Nelson rules"),
        coerce=int,
        choices=[],
        widget=forms.CheckboxSelectMultiple,
        initial=[1, 2, 3, 5],
    )
    excluded = forms.CharField(
        label=_("Points left out of the baseline"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One per line: inspection number, a colon, the reason (e.g. “IPQC-123: gauge dropped”)."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, require_reason=True, **kwargs)
        from .spc import NELSON_RULES

        self.fields["rules"].choices = [(n, f"{n} · {RULE_LABELS[n]}") for n in NELSON_RULES]

    def clean_excluded(self) -> dict[str, str]:
        parsed: dict[str, str] = {}
        for number, line in enumerate(self.cleaned_data.get("excluded", "").splitlines(), start=1):
            if not line.strip():
                continue
            code, sep, why = line.partition(":")
            if not sep or not code.strip() or not why.strip():
                raise forms.ValidationError(
                    _("Line %(n)d: write the inspection number, a colon and the reason.") % {"n": number}
                )
            parsed[code.strip()[:30]] = why.strip()[:500]
        return parsed


RULE_LABELS = {
    1: _("one point beyond 3σ"),
    2: _("nine points in a row on one side"),
    3: _("six points in a row rising or falling"),
    4: _("fourteen points alternating up and down"),
    5: _("two of three points beyond 2σ"),
    6: _("four of five points beyond 1σ"),
    7: _("fifteen points in a row within 1σ"),
    8: _("eight points in a row beyond 1σ"),
}


class PlanDocumentForm(forms.Form):
    """The controlled document a plan implements (documents of the plan's site)."""

    document = forms.ModelChoiceField(label=_("Controlled document"), queryset=None, required=False)

    def __init__(self, *args, site=None, **kwargs):
        super().__init__(*args, **kwargs)
        from documents.models import Document

        self.fields["document"].queryset = Document.objects.filter(site=site, status="active").order_by("number")
