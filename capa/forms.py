from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from compliance.forms import SignatureForm
from qms.core.models import Site, User

from .models import FISHBONE_KEYS, FISHBONE_LABELS, ActionKind, CapaFormat, CapaKind, CapaSource, CheckResult, TeamRole

DATE = forms.DateInput(attrs={"type": "date"})
TEXT = forms.Textarea(attrs={"rows": 2})


def site_users(site):
    return (
        User.objects.filter(is_active=True, memberships__site=site, memberships__is_active=True)
        .exclude(memberships__role="auditor", memberships__site=site)
        .distinct()
        .order_by("username")
    )


class CapaCreateForm(forms.Form):
    site = forms.ModelChoiceField(Site.objects.none(), label=_("Site"))
    title = forms.CharField(label=_("Title"), max_length=200)
    kind = forms.ChoiceField(label=_("Type"), choices=CapaKind.choices)
    source = forms.ChoiceField(label=_("Source"), choices=CapaSource.choices, initial=CapaSource.OTHER)
    source_reference = forms.CharField(label=_("Source reference"), required=False, max_length=100)
    form = forms.ChoiceField(
        label=_("Form"), choices=[("", _("By site (8D for automotive)")), *CapaFormat.choices], required=False
    )
    owner = forms.ModelChoiceField(User.objects.filter(is_active=True).order_by("username"), label=_("Owner"))
    problem_statement = forms.CharField(label=_("Problem description"), widget=TEXT, required=False)
    due_on = forms.DateField(label=_("Target date"), required=False, widget=DATE)
    effectiveness_days = forms.IntegerField(label=_("Effectiveness check after (days)"), min_value=1, initial=30)

    def __init__(self, *args, site_ids=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = Site.objects.filter(pk__in=site_ids)


class CapaContentForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    due_on = forms.DateField(label=_("Target date"), required=False, widget=DATE)
    effectiveness_days = forms.IntegerField(label=_("Effectiveness check after (days)"), min_value=1)
    d0_emergency_response = forms.CharField(label=_("D0 emergency response"), widget=TEXT, required=False)
    problem_statement = forms.CharField(label=_("Problem description"), widget=TEXT, required=False)
    what = forms.CharField(label=_("What"), required=False)
    where = forms.CharField(label=_("Where"), required=False)
    when = forms.CharField(label=_("When"), required=False)
    who = forms.CharField(label=_("Who"), required=False)
    why = forms.CharField(label=_("Why (why is it a problem)"), required=False)
    how = forms.CharField(label=_("How (detected)"), required=False)
    how_many = forms.CharField(label=_("How many"), required=False)
    d3_containment = forms.CharField(label=_("D3 containment"), widget=TEXT, required=False)
    why1 = forms.CharField(label=_("Why 1"), required=False)
    why2 = forms.CharField(label=_("Why 2"), required=False)
    why3 = forms.CharField(label=_("Why 3"), required=False)
    why4 = forms.CharField(label=_("Why 4"), required=False)
    why5 = forms.CharField(label=_("Why 5"), required=False)
    root_cause = forms.CharField(label=_("Root cause"), widget=TEXT, required=False)
    escape_point = forms.CharField(label=_("Why it escaped detection"), widget=TEXT, required=False)
    d5_chosen_actions = forms.CharField(label=_("D5 chosen corrective actions"), widget=TEXT, required=False)
    d6_validation = forms.CharField(label=_("D6 implementation and validation"), widget=TEXT, required=False)
    d7_prevention = forms.CharField(label=_("D7 prevent recurrence"), widget=TEXT, required=False)
    d7_documents_updated = forms.BooleanField(label=_("Procedures / work instructions updated"), required=False)
    d7_fmea_updated = forms.BooleanField(label=_("FMEA updated"), required=False)
    d7_control_plan_updated = forms.BooleanField(label=_("Control plan updated"), required=False)
    d8_recognition = forms.CharField(label=_("D8 team recognition"), widget=TEXT, required=False)
    reason = forms.CharField(label=_("Reason for change"), required=False, max_length=300)

    SIMPLE_FIELDS = ("title", "due_on", "effectiveness_days", "problem_statement", "root_cause", "reason")

    def __init__(self, *args, is_8d=True, **kwargs):
        super().__init__(*args, **kwargs)
        for key in FISHBONE_KEYS:
            self.fields[f"fb_{key}"] = forms.CharField(
                label=_("Fishbone: %(m)s") % {"m": FISHBONE_LABELS[key]}, required=False
            )
        if not is_8d:
            for name in list(self.fields):
                if name not in self.SIMPLE_FIELDS:
                    del self.fields[name]
        else:
            order = [n for n in self.fields if not n.startswith("fb_") and n not in ("root_cause", "reason")]
            idx = order.index("why5") + 1
            order[idx:idx] = [f"fb_{k}" for k in FISHBONE_KEYS] + ["root_cause"]
            self.order_fields([*order, "reason"])

    @classmethod
    def initial_for(cls, capa) -> dict:
        data = {name: getattr(capa, name) for name in cls.base_fields if hasattr(capa, name)}
        for i, why in enumerate((capa.five_whys or [])[:5], start=1):
            data[f"why{i}"] = why
        for key in FISHBONE_KEYS:
            data[f"fb_{key}"] = (capa.fishbone or {}).get(key, "")
        return data

    def service_kwargs(self) -> dict:
        d = dict(self.cleaned_data)
        reason = d.pop("reason", "")
        whys = [d.pop(f"why{i}", "") for i in range(1, 6)]
        fishbone = {k: d.pop(f"fb_{k}", "") for k in FISHBONE_KEYS}
        kwargs = {"reason": reason, **d}
        if "why1" in self.fields:
            kwargs["five_whys"] = whys
            kwargs["fishbone"] = fishbone
        return kwargs


class TeamForm(forms.Form):
    member = forms.ModelChoiceField(User.objects.none(), label=_("Team member"))
    role = forms.ChoiceField(label=_("Role"), choices=TeamRole.choices, initial=TeamRole.MEMBER)
    department = forms.CharField(label=_("Department"), required=False)

    def __init__(self, *args, site=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["member"].queryset = site_users(site)


class ActionForm(forms.Form):
    kind = forms.ChoiceField(label=_("Type"), choices=ActionKind.choices, initial=ActionKind.CORRECTIVE)
    description = forms.CharField(label=_("Action"))
    owner = forms.ModelChoiceField(User.objects.none(), label=_("Owner"))
    due_on = forms.DateField(label=_("Due on"), widget=DATE)

    def __init__(self, *args, site=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = site_users(site)


class EvidenceForm(forms.Form):
    evidence = forms.CharField(label=_("Evidence"), widget=TEXT)


class ScheduleCheckForm(forms.Form):
    criteria = forms.CharField(label=_("What proves it effective"), widget=TEXT, required=False)
    check_due_on = forms.DateField(
        label=_("Check due on"), required=False, widget=DATE, help_text=_("Empty: after the CAPA's number of days.")
    )


class EffectivenessForm(SignatureForm):
    result = forms.ChoiceField(
        label=_("Result"),
        choices=[
            (CheckResult.EFFECTIVE, CheckResult.EFFECTIVE.label),
            (CheckResult.NOT_EFFECTIVE, CheckResult.NOT_EFFECTIVE.label),
        ],
        widget=forms.RadioSelect,
    )
    evidence = forms.CharField(label=_("Evidence"), widget=TEXT)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["reason"]
        self.order_fields(["result", "evidence", "username", "password"])


class ScarCreateForm(forms.Form):
    site = forms.ModelChoiceField(Site.objects.none(), label=_("Site"))
    supplier = forms.ModelChoiceField(queryset=None, label=_("Supplier"))
    title = forms.CharField(label=_("Title"), max_length=200)
    description = forms.CharField(label=_("Problem description"), widget=TEXT, required=False)
    contact_email = forms.EmailField(label=_("Supplier contact"), required=False)

    def __init__(self, *args, site_ids=(), **kwargs):
        super().__init__(*args, **kwargs)
        from suppliers.models import Supplier

        self.fields["site"].queryset = Site.objects.filter(pk__in=site_ids)
        # Only suppliers serving a site the user may act for here (the site scope is only the floor).
        serving = Supplier.sites.through.objects.filter(site_id__in=site_ids).values("supplier_id")
        self.fields["supplier"].queryset = Supplier.objects.filter(pk__in=serving).order_by("code")


class ScarSendForm(forms.Form):
    due_on = forms.DateField(label=_("Response due on"), widget=DATE)


class ScarResponseForm(forms.Form):
    containment = forms.CharField(label=_("Supplier containment (D3)"), widget=TEXT, required=False)
    root_cause = forms.CharField(label=_("Supplier root cause (D4)"), widget=TEXT)
    corrective_action = forms.CharField(label=_("Supplier corrective actions (D5/D6)"), widget=TEXT)
    preventive_action = forms.CharField(label=_("Supplier prevention (D7)"), widget=TEXT, required=False)
    responded_on = forms.DateField(label=_("Responded on"), widget=DATE, required=False)


class ScarRejectForm(forms.Form):
    comment = forms.CharField(label=_("What is missing"), widget=TEXT)
    due_on = forms.DateField(label=_("New response deadline"), widget=DATE)
