from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from compliance.forms import SignatureForm
from qms.core.models import Equipment, Part, Site, User

from .models import ChangeType, CheckResult, ImpactKind, Urgency, Vote

DATE = forms.DateInput(attrs={"type": "date"})
TEXT = forms.Textarea(attrs={"rows": 2})


def site_people(site):
    return (
        User.objects.filter(is_active=True, memberships__site=site, memberships__is_active=True)
        .exclude(memberships__role="auditor", memberships__site=site)
        .distinct()
        .order_by("username")
    )


class ChangeCreateForm(forms.Form):
    site = forms.ModelChoiceField(Site.objects.none(), label=_("Site"))
    title = forms.CharField(label=_("What changes"), max_length=200)
    reason = forms.CharField(label=_("Why"), widget=TEXT, max_length=8000)
    description = forms.CharField(label=_("Description"), widget=TEXT, required=False, max_length=8000)
    change_type = forms.ChoiceField(label=_("Type"), choices=ChangeType.choices)
    urgency = forms.ChoiceField(label=_("Urgency"), choices=Urgency.choices)
    part = forms.ModelChoiceField(Part.objects.filter(is_active=True), label=_("Part"), required=False)
    supplier = forms.ModelChoiceField(None, label=_("Supplier"), required=False)
    equipment = forms.ModelChoiceField(Equipment.objects.none(), label=_("Equipment"), required=False)

    def __init__(self, *args, site_ids=(), **kwargs):
        from suppliers.models import Supplier

        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = Site.objects.filter(pk__in=site_ids)
        self.fields["supplier"].queryset = Supplier.objects.filter(sites__in=site_ids).distinct().order_by("code")
        self.fields["equipment"].queryset = Equipment.objects.filter(site_id__in=site_ids, is_active=True)


class ImpactAddForm(forms.Form):
    kind = forms.ChoiceField(label=_("Affected"), choices=ImpactKind.choices)
    reference = forms.CharField(
        label=_("Reference"),
        max_length=200,
        help_text=_("part number, lot code, supplier code, work order/operation (WO-1/20), document number"),
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=2000)


class ImpactSetForm(forms.Form):
    included = forms.TypedChoiceField(
        label=_("Affected"), choices=[("1", _("Yes")), ("0", _("No"))], coerce=lambda v: v == "1"
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=2000)


class AssessmentForm(forms.Form):
    summary = forms.CharField(label=_("Impact assessment"), widget=TEXT, max_length=8000)
    risk = forms.CharField(label=_("Risks and mitigations"), widget=TEXT, required=False, max_length=8000)


class VoteForm(SignatureForm):
    vote = forms.ChoiceField(label=_("Vote"), choices=Vote.choices, widget=forms.RadioSelect)
    role = forms.ChoiceField(label=_("Board role"), choices=())

    def __init__(self, *args, roles=(), **kwargs):
        from qms.core.models import Role

        super().__init__(*args, **kwargs)
        self.fields["role"].choices = [(r, Role(r).label) for r in roles]


class TaskForm(forms.Form):
    description = forms.CharField(label=_("Task"), widget=TEXT, max_length=4000)
    owner = forms.ModelChoiceField(User.objects.none(), label=_("Owner"))
    due_on = forms.DateField(label=_("Due on"), widget=DATE)

    def __init__(self, *args, site=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = site_people(site)


class EvidenceForm(forms.Form):
    evidence = forms.CharField(label=_("Evidence"), max_length=4000)


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=4000)


class ImplementedForm(forms.Form):
    criteria = forms.CharField(label=_("What proves it effective"), widget=TEXT, required=False, max_length=4000)
    check_due_on = forms.DateField(label=_("Check due on"), required=False, widget=DATE)


class EffectivenessForm(SignatureForm):
    result = forms.ChoiceField(
        label=_("Result"), choices=[c for c in CheckResult.choices if c[0] != CheckResult.PENDING]
    )
    evidence = forms.CharField(label=_("Evidence"), widget=TEXT, max_length=4000)


class OutputForm(forms.Form):
    plan = forms.TypedChoiceField(label=_("Inspection plan version"), required=False, coerce=int, empty_value=None)
    document_version = forms.TypedChoiceField(label=_("Document version"), required=False, coerce=int, empty_value=None)

    def __init__(self, *args, plans=(), document_versions=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["plan"].choices = [("", "—")] + [(p.pk, str(p)) for p in plans]
        if document_versions:
            self.fields["document_version"].choices = [("", "—")] + [(v.pk, str(v)) for v in document_versions]
        else:
            del self.fields["document_version"]
