"""What an integration gets for a wrong address or a malformed query: problem details naming the fault,
never a web page, never a silently ignored parameter."""

import pytest

from qms.core.models import Role

from .factories import api_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def mes(admin, site):
    return api_client(admin, site, name="mes", roles=[Role.INSPECTOR])


@pytest.mark.parametrize(
    "method, path",
    [
        ("get", "/api/v1/nothing-here/"),
        ("get", "/api/v1/webhooks/null/"),
        ("post", "/api/v1/work-orders/WO-1/operations/first/start/"),
        ("delete", "/api/v1/webhooks/abc/"),
    ],
)
def test_unknown_addresses_answer_problem_details(mes, method, path):
    response = getattr(mes, method)(path)
    assert response.status_code == 404 and response["Content-Type"] == "application/problem+json"
    assert "/api/schema/" in response.json()["detail"]


def test_a_missing_trailing_slash_is_named(mes):
    response = mes.get("/api/v1/lots")
    assert response.status_code == 404 and response.json()["detail"] == "Addresses end with a slash: /api/v1/lots/"


def test_an_unknown_address_still_needs_a_caller(client):
    assert client.get("/api/v1/nothing-here/").status_code in (401, 403)


@pytest.mark.parametrize("query", ["page_size=4.5", "page_size=0", "page_size=1001", "page_size=x"])
def test_a_malformed_page_size_is_refused(mes, query):
    response = mes.get(f"/api/v1/lots/?{query}")
    assert response.status_code == 400 and response.json()["errors"][0]["pointer"] == "#/page_size"


def test_a_boolean_filter_refuses_what_it_cannot_read(mes):
    assert mes.get("/api/v1/inspections/?open=true").status_code == 200
    assert mes.get("/api/v1/inspections/?open=false").status_code == 200
    response = mes.get("/api/v1/inspections/?open=null")
    assert response.status_code == 400 and response.json()["errors"][0]["detail"] == "Use true or false."


@pytest.mark.parametrize(
    "value, status",
    [
        ("2026-11-30T08:00:00+08:00", 200),
        ("0149-12-08T21:53:36-17:34", 200),  # an offset PostgreSQL refuses: converted to UTC first
        ("0001-01-01T00:00:00+15:00", 400),  # before year 1 in UTC
        ("yesterday", 400),
    ],
)
def test_a_date_time_filter_takes_any_offset_or_says_why_not(mes, value, status):
    from urllib.parse import quote

    response = mes.get(f"/api/v1/lots/?created_after={quote(value)}")
    assert response.status_code == status, response.content


def test_an_address_with_a_line_break_is_still_answered_in_json(mes):
    response = mes.post("/api/v1/work-orders/WO%0A1/operations/-4/finish/")
    assert response.status_code == 404 and response["Content-Type"] == "application/problem+json"


@pytest.mark.parametrize("query", ["status=", "page=", "page_size=", "site=&part=X"])
def test_an_empty_parameter_is_refused_not_guessed(mes, query):
    response = mes.get(f"/api/v1/lots/?{query}")
    assert response.status_code == 400, response.content
    assert "leave the parameter out" in response.json()["detail"]
