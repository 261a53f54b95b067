import datetime

from django.utils import timezone

from capa import services
from nonconformance.tests.factories import credential  # noqa: F401


def capa_with_done_action(site, owner, user, *, form="8d"):
    capa = services.capa_create(site=site, title="Bore oversize", owner=owner, user=user, form=form)
    capa = services.capa_update(
        capa=capa,
        user=user,
        problem_statement="Bore 20.05 mm on lot L-1",
        root_cause="Worn grinding wheel not dressed",
        five_whys=["bore oversize", "wheel worn", "no dressing interval"],
        fishbone={"machine": "wheel wear", "method": "no dressing interval"},
    )
    action = services.capa_action_add(
        capa=capa,
        description="Dress wheel every 500 parts",
        owner=owner,
        due_on=timezone.localdate() + datetime.timedelta(days=7),
        user=user,
    )
    services.capa_action_complete(action=action, user=owner, evidence="WI-17 rev B")
    capa.refresh_from_db()
    return capa
