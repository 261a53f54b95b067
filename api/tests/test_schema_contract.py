"""Schemathesis against the live schema, through the WSGI app (no network), with a service account's token:
every operation called alone with generated input (no 500, every answer as the schema says), then
stateful: chains of calls following the links Schemathesis infers between operations (a lot listed, then
read, checked, traced; an NCR created, then read), over a plant with a lot, an approved supplier, an open
inspection and a customer to ship to."""

import os

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings

from qms.core.models import Role

from .factories import account, token

RAW = SchemaGenerator().get_schema(request=None, public=True)
schema = schemathesis.openapi.from_dict(RAW)
schema.app = get_wsgi_application()
# The same examples every run, so the suite passes or fails on the code alone (CI lands nothing on a red run);
# SCHEMATHESIS_EXPLORE=1 lets Hypothesis search new ground (what found the ±17:34 offset and `?open=null`).
DERANDOMIZE = os.environ.get("SCHEMATHESIS_EXPLORE", "") != "1"
CALLER: dict[str, str] = {}  # the test's service-account token, set by the `auth` fixture


@schema.auth(refresh_interval=None)
class ServiceAccountToken:
    """The token as Schemathesis' own auth: its checks then know the caller is authenticated on purpose and
    probe that a call without it, or with a wrong one, is refused."""

    def get(self, case, ctx):
        return CALLER.get("token", "")

    def set(self, case, data, ctx):
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


# Each operation alone; the CoA is a PDF rendered per call (slow, its own tests check it).
subset = schema.exclude(path_regex=r"coa\.pdf$")


@pytest.fixture
def wsgi_keeps_the_test_connection():
    """As Django's test client does: the WSGI handler must not close the test's database connection."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def auth(db, make_user, site, wsgi_keeps_the_test_connection):
    admin = make_user("admin", roles=[Role.ADMINISTRATOR])
    acc = account(
        admin, site, name="contract", roles=[Role.INSPECTOR, Role.QUALITY_MANAGER, Role.PRODUCTION_SUPERVISOR]
    )
    _tok, raw = token(admin, acc)
    CALLER["token"] = raw
    yield {"Idempotency-Key": "contract-test"}
    CALLER.clear()


@subset.parametrize()
@settings(max_examples=6, deadline=None, suppress_health_check=list(HealthCheck), derandomize=DERANDOMIZE)
@pytest.mark.django_db
def test_api_conforms_to_its_schema(case, auth):
    # Business refusals of schema-valid input (an unknown site or part code: 400/422 with problem details)
    # are the API's answer, not a contract breach; every other check runs (no 500, status codes, content
    # types, response bodies and headers as the schema says).
    case.call_and_validate(
        headers={**auth, **(case.headers or {})},
        excluded_checks=[schemathesis.checks.positive_data_acceptance],
    )


@pytest.fixture
def plant(db, make_user, site):
    """A small plant for the workflows to find: released and received lots, an approved supplier, an open
    inspection, a customer."""
    from inspection import services as insp_services
    from inspection.models import Stage
    from inspection.tests import factories as insp_f
    from suppliers.tests import factories as sf
    from traceability.tests import factories as tf

    qe = make_user("qe", roles=[Role.QUALITY_ENGINEER])
    qm = make_user("qm", roles=[Role.QUALITY_MANAGER])
    part = insp_f.part("WF-1")
    sup = sf.approved_supplier(qm, site, code="SUP-WF", part=part)
    finished = tf.lot(site, code="WF-LOT-1", part_obj=part)
    tf.link(tf.lot(site, code="WF-RAW-1", part_obj=part, supplier=sup), finished)
    plan = insp_f.plan(site, part, qe, qm, stage=Stage.FQC)
    insp_services.inspection_create(stage=Stage.FQC, plan=plan, lot=finished, user=qe, sample_size=3)
    tf.customer("CUST-WF")
    return {"lot": finished, "supplier": sup}


def test_api_workflows_hold_their_contract(auth, plant):
    workflow = schema.as_state_machine()

    class Workflow(workflow):
        def get_call_kwargs(self, case):
            return {"headers": {**auth, **(case.headers or {})}}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            case.validate_response(
                response,
                additional_checks=additional_checks,
                excluded_checks=[schemathesis.checks.positive_data_acceptance],
                transport_kwargs=kwargs or None,
            )

    Workflow.run(
        settings=settings(
            max_examples=25,
            stateful_step_count=6,
            deadline=None,
            derandomize=DERANDOMIZE,
            suppress_health_check=list(HealthCheck),
        )
    )
