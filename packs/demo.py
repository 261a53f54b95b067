"""Demo data: a control plan of the automotive plant's first part with an approved plan."""

from __future__ import annotations


def seed_demo() -> None:
    from qms.core.models import Industry, Site, User
    from qms.core.scoping import system_scope

    from .iatf import control_plan_generate, parts_with_plans

    with system_scope():
        qe = User.objects.filter(username="qe").first() or User.objects.filter(is_superuser=True).first()
        for site in Site.objects.filter(industry=Industry.AUTOMOTIVE):
            for part in parts_with_plans(site)[:2]:
                control_plan_generate(site=site, part=part, user=qe)
