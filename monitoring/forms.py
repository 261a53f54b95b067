from django import forms
from django.utils.translation import gettext_lazy as _

from compliance.forms import SignatureForm
from qms.core.kpis import kpis_sorted
from qms.core.models import User

from .models import AlarmAction, Comparator, Dimension, Period, Severity, WindowKind


def kpi_choices():
    return [(k.key, f"{k.label} ({k.unit_label})") for k in kpis_sorted()]


class ObjectiveForm(forms.Form):
    site = forms.ChoiceField(label=_("Site"))
    title = forms.CharField(label=_("Title"), max_length=200)
    kpi = forms.ChoiceField(label=_("KPI"))
    dim_key = forms.ChoiceField(label=_("Narrowed to"), choices=Dimension.choices, required=False)
    dim_value = forms.CharField(label=_("Value (line, part, supplier or customer code)"), required=False)
    comparator = forms.ChoiceField(label=_("Comparator"), choices=Comparator.choices)
    target = forms.FloatField(label=_("Target"))
    period = forms.ChoiceField(label=_("Period"), choices=Period.choices)
    year = forms.IntegerField(label=_("Year"), min_value=2000, max_value=2100)
    owner = forms.ChoiceField(label=_("Owner"))
    review_every_months = forms.IntegerField(label=_("Review every (months)"), min_value=1, initial=3)
    escalate_after_periods = forms.IntegerField(label=_("Escalate after (periods off track)"), min_value=1, initial=2)

    def __init__(self, *args, sites=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["site"].choices = [(s.pk, str(s)) for s in sites]
        self.fields["kpi"].choices = kpi_choices()
        # people working at these sites (the service checks the owner works at the objective's site)
        people = (
            User.objects.filter(memberships__site__in=list(sites), memberships__is_active=True, is_active=True)
            .distinct()
            .order_by("display_name", "username")
        )
        self.fields["owner"].choices = [("", "—")] + [(u.username, f"{u.printed_name} ({u.username})") for u in people]


class RuleForm(forms.Form):
    site = forms.ChoiceField(label=_("Site"))
    name = forms.CharField(label=_("Name"), max_length=200)
    kpi = forms.ChoiceField(label=_("KPI"))
    dim_key = forms.ChoiceField(label=_("Per"), choices=Dimension.choices, required=False)
    dim_value = forms.CharField(label=_("Only for (code, empty = each)"), required=False)
    window = forms.ChoiceField(label=_("Window"), choices=WindowKind.choices)
    window_size = forms.IntegerField(label=_("Window size (N)"), min_value=1, initial=8)
    comparator = forms.ChoiceField(label=_("Comparator"), choices=Comparator.choices)
    threshold = forms.FloatField(label=_("Threshold"))
    consecutive = forms.IntegerField(label=_("For N consecutive windows"), min_value=1, initial=1)
    min_denominator = forms.FloatField(label=_("Minimum sample"), min_value=0, initial=0)
    severity = forms.ChoiceField(label=_("Severity"), choices=Severity.choices)
    recipient_roles = forms.CharField(label=_("Recipients (roles, comma separated)"), initial="quality_manager")
    cooldown_minutes = forms.IntegerField(label=_("Cool-down (minutes)"), min_value=0, initial=60)
    action = forms.ChoiceField(label=_("Action"), choices=AlarmAction.choices)
    evaluate_on_event = forms.BooleanField(label=_("Evaluate on each event"), required=False)

    def __init__(self, *args, sites=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["site"].choices = [(s.pk, str(s)) for s in sites]
        self.fields["kpi"].choices = kpi_choices()


class AckForm(forms.Form):
    comment = forms.CharField(label=_("Comment"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class ResolveForm(forms.Form):
    reason = forms.CharField(label=_("What was done"), widget=forms.Textarea(attrs={"rows": 2}))


class ReviewForm(SignatureForm):
    conclusion = forms.CharField(label=_("Review conclusion"), widget=forms.Textarea(attrs={"rows": 3}))


class CsvImportForm(forms.Form):
    file = forms.FileField(label=_("CSV file"))
