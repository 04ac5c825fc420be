"""The hr-rest adapter against a mocked vendor API (respx): paging, tokens, retries, errors, mapping."""

from __future__ import annotations

import copy
import json

import httpx
import pytest
import respx
from hypothesis import given, settings
from hypothesis import strategies as st

from plugshare.adapters.contract import AdapterError, Converted, Rejected
from plugshare.adapters.hr_rest import HrRestAdapter
from plugshare.adapters.hr_rest.samples import (
    SAMPLE_BASE_URL,
    SAMPLE_CLIENT_SECRET,
    SAMPLE_TOKEN_URL,
    SAMPLES,
    sample_handler,
    sample_options,
)
from plugshare.plugins import make_host
from plugshare.validation.validator import MessageValidator

GOOD, BAD = SAMPLES / "good", SAMPLES / "bad-unknown-absence-type"
SECRET = "s3cr3t-Never-Print-Me"
BASE = SAMPLE_BASE_URL
HOST = "hr.example-vendor.test"
VALIDATOR = MessageValidator()


@pytest.fixture
def api():
    with respx.mock(assert_all_called=False) as router:
        yield router


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def serve(router, directory=GOOD, **settings):
    """Serve a sample directory: the token endpoint and the entity sets; returns the page route."""
    handler = sample_handler(directory, **settings)
    router.post(SAMPLE_TOKEN_URL, name="token").mock(side_effect=handler)
    return router.route(method="GET", host=HOST, name="pages").mock(side_effect=handler)


def adapter(*, sleeps=None, clock=None, **options):
    sleeps = [] if sleeps is None else sleeps
    return HrRestAdapter(sample_options(**options), http=httpx.Client(), sleep=sleeps.append,
                         clock=clock or Clock())


def read(**options):
    return list(adapter(**options).read(BASE))


def token_route(router, *answers):
    return router.post(SAMPLE_TOKEN_URL, name="token").mock(side_effect=list(answers) or None, return_value=(
        httpx.Response(200, json={"access_token": "tok-A", "token_type": "Bearer", "expires_in": 3600})))


def page(value, next_link=None):
    body = {"@odata.context": f"{BASE}/$metadata#OrgUnits", "value": value}
    if next_link:
        body["@odata.nextLink"] = next_link
    return httpx.Response(200, json=body)


UNIT = {"OrgUnitId": "OU-1", "Name": "Fenmoor District Council", "UnitType": "CNCL"}


def units(n, start=1):
    return [dict(UNIT, OrgUnitId=f"OU-{i}") for i in range(start, start + n)]


# --- the samples --------------------------------------------------------------------------------


@pytest.mark.parametrize("page_size", ["3", "100"])
def test_good_sample_converts_and_every_message_is_valid(api, page_size):
    serve(api)
    outcomes = read(page_size=page_size)
    assert all(isinstance(o, Converted) for o in outcomes), [o.reason for o in outcomes if isinstance(o, Rejected)]
    types = [o.messages[0]["type"].removeprefix("uk.plugshare.") for o in outcomes]
    assert types == ["hr.org-unit"] * 5 + ["hr.position"] * 4 + ["hr.person"] * 4 + ["hr.employment"] * 4 \
        + ["hr.absence"] * 3
    for outcome in outcomes:
        (message,) = outcome.messages
        _, problems = VALIDATOR.check(message)
        assert problems == [], (outcome.position, problems)
        assert message["council"] == "E07000991"
        assert message["data"]["source_ids"][0]["scheme"] == "hr-rest"
        assert outcome.native is not None


def test_bad_sample_rejects_exactly_one_record_with_a_reason(api):
    serve(api, BAD)
    outcomes = read(page_size="2")
    rejected = [o for o in outcomes if isinstance(o, Rejected)]
    assert len(rejected) == 1 and len(outcomes) == 9
    (bad,) = rejected
    assert bad.position.source == f"{BASE}/Absences" and bad.position.record == 2
    assert bad.native["AbsenceId"] == "AB-0004"  # the native item as read
    assert "AB-0004" in bad.reason and "AbsenceType" in bad.reason and "'GARDEN'" in bad.reason
    assert "add it to the code list or correct the record" in bad.reason
    for outcome in outcomes:
        if isinstance(outcome, Converted):
            assert all(VALIDATOR.check(m)[1] == [] for m in outcome.messages)


def test_positions_count_items_across_pages_per_entity_set(api):
    serve(api)
    outcomes = read(page_size="3")
    employees = [o.position for o in outcomes if o.position.source == f"{BASE}/Employees"]
    assert [p.record for p in employees] == [1, 2, 3, 4]
    assert str(employees[2]) == f"{BASE}/Employees record 3"
    assert [o.position.record for o in outcomes if o.position.source.endswith("/OrgUnits")] == [1, 2, 3, 4, 5]


def test_reading_is_deterministic(api):
    serve(api)
    assert [o.messages for o in read()] == [o.messages for o in read(page_size="2")]


def test_the_adapter_is_registered_as_a_builtin():
    host = make_host(load_entry_points=False)
    assert host.adapter("hr-rest") is HrRestAdapter
    described = HrRestAdapter.describe()
    assert described["source_kind"] == "url"
    assert {o["name"]: o for o in described["options"]}["client_secret"]["secret"] is True


# --- paging -------------------------------------------------------------------------------------


def test_paging_with_skip_until_a_short_page(api):
    route = serve(api)
    read(page_size="3", entity_sets="OrgUnits,Absences")
    asked = [(r.request.url.path.rsplit("/", 1)[1], dict(r.request.url.params)) for r in route.calls]
    assert asked == [
        ("OrgUnits", {"$top": "3"}), ("OrgUnits", {"$top": "3", "$skip": "3"}),  # 3 then 2 (< 3): stop
        ("Absences", {"$top": "3"}), ("Absences", {"$top": "3", "$skip": "3"}),  # 3 then 0: stop
    ]


def test_paging_with_next_link_absolute_and_relative(api):
    route = serve(api)
    outcomes = read(page_size="50", entity_sets="Employees,Employments")
    assert len(outcomes) == 8
    asked = [str(r.request.url) for r in route.calls]
    assert asked == [f"{BASE}/Employees?%24top=50", f"{BASE}/Employees?$skiptoken=page-2",
                     f"{BASE}/Employments?%24top=50", f"{BASE}/Employments?$skiptoken=page-2"]


def test_after_next_links_a_full_page_without_one_is_the_last(api):
    token_route(api)
    route = api.get(f"{BASE}/OrgUnits").mock(side_effect=[page(units(2), f"{BASE}/OrgUnits?$skiptoken=2"),
                                                          page(units(2, 3))])
    assert len(read(entity_sets="OrgUnits", page_size="2")) == 4 and route.call_count == 2


def test_a_next_link_on_another_origin_is_refused_and_not_followed(api):
    token_route(api)
    for n, link in enumerate(["https://evil.example.test/odata/v4/OrgUnits?$skiptoken=2",
                              f"http://{HOST}/odata/v4/OrgUnits?$skiptoken=2",
                              f"https://{HOST}:8443/odata/v4/OrgUnits?$skiptoken=2"]):
        api.get(f"{BASE}/OrgUnits").mock(return_value=page(units(1), link))
        evil = api.route(host="evil.example.test").mock(return_value=page([]))
        outcomes = []
        with pytest.raises(AdapterError, match="another origin") as caught:
            outcomes.extend(adapter(entity_sets="OrgUnits").read(BASE))
        assert len(outcomes) == 1 and not evil.called, n  # the first page was read; the link was not followed
        assert "tok-A" not in str(caught.value)


def test_a_next_link_to_itself_stops_rather_than_loop(api):
    token_route(api)
    api.get(f"{BASE}/OrgUnits").mock(side_effect=[page(units(1), f"{BASE}/OrgUnits?$skiptoken=x"),
                                                  page(units(1, 2), f"{BASE}/OrgUnits?$skiptoken=x")])
    with pytest.raises(AdapterError, match="its own @odata.nextLink|gave itself"):
        list(adapter(entity_sets="OrgUnits").read(BASE))


def test_an_api_that_ignores_skip_is_detected(api):
    token_route(api)
    api.get(f"{BASE}/OrgUnits").mock(return_value=page(units(2)))
    with pytest.raises(AdapterError, match=r"ignore \$skip"):
        list(adapter(entity_sets="OrgUnits", page_size="2").read(BASE))


def test_items_stream_one_page_at_a_time(api):
    route = serve(api)
    outcomes = adapter(page_size="3", entity_sets="OrgUnits").read(BASE)
    first = next(outcomes)
    assert first.position.record == 1 and route.call_count == 1  # the second page is not asked for yet
    list(outcomes)
    assert route.call_count == 2


# --- the token ----------------------------------------------------------------------------------


def test_client_credentials_are_posted_and_the_token_sent_as_bearer(api):
    route = serve(api)
    read(entity_sets="OrgUnits", scope="hr.read")
    form = dict(httpx.QueryParams(api.routes["token"].calls[0].request.content.decode()))
    assert form == {"grant_type": "client_credentials", "client_id": "plugshare-demo",
                    "client_secret": SAMPLE_CLIENT_SECRET, "scope": "hr.read"}
    request = route.calls[0].request
    assert request.headers["Authorization"] == "Bearer sample-token-1"
    assert request.headers["Accept"] == "application/json"


def test_client_credentials_by_http_basic(api):
    serve(api)
    assert len(read(entity_sets="OrgUnits", token_auth="basic")) == 5
    request = api.routes["token"].calls[0].request
    assert request.headers["Authorization"].startswith("Basic ")
    assert "client_secret" not in request.content.decode()


def test_the_token_is_renewed_when_it_expires(api):
    clock = Clock()
    handler = sample_handler(GOOD, expires_in=600)  # renewed 60 s before the end: at 540 s

    def slow_pages(request):
        clock.now += 200  # each page takes 200 s
        return handler(request)

    api.post(SAMPLE_TOKEN_URL, name="token").mock(side_effect=handler)
    route = api.route(method="GET", host=HOST).mock(side_effect=slow_pages)
    outcomes = list(adapter(clock=clock, page_size="2").read(BASE))
    assert all(isinstance(o, Converted) for o in outcomes)
    tokens = [r.request.headers["Authorization"] for r in route.calls]
    assert tokens[:3] == ["Bearer sample-token-1"] * 3 and tokens[3] == "Bearer sample-token-2"
    assert api.routes["token"].call_count == len(route.calls) // 3 + (len(route.calls) % 3 > 0)


def test_the_token_is_renewed_once_when_the_api_answers_401(api):
    tokens = token_route(api, *[httpx.Response(200, json={"access_token": f"tok-{n}", "token_type": "bearer"})
                                for n in (1, 2)])
    pages = api.get(f"{BASE}/OrgUnits").mock(side_effect=[
        httpx.Response(401, json={"error": {"code": "InvalidToken", "message": "token revoked"}}), page(units(2))])
    outcomes = read(entity_sets="OrgUnits")
    assert len(outcomes) == 2 and tokens.call_count == 2
    assert [c.request.headers["Authorization"] for c in pages.calls] == ["Bearer tok-1", "Bearer tok-2"]


def test_a_second_401_is_an_error_naming_the_client(api):
    token_route(api)
    api.get(f"{BASE}/OrgUnits").mock(return_value=httpx.Response(401, text=f"bad token tok-A {SECRET}"))
    with pytest.raises(AdapterError) as caught:
        read(entity_sets="OrgUnits", client_secret=SECRET)
    text = str(caught.value)
    assert "401" in text and "plugshare-demo" in text and f"{BASE}/OrgUnits" in text
    assert SECRET not in text and "tok-A" not in text


def test_a_token_endpoint_refusal_is_clear_and_never_shows_the_secret(api):
    serve(api)  # the sample token endpoint knows only the sample secret
    with pytest.raises(AdapterError) as caught:
        read(client_secret=SECRET)
    text = str(caught.value)
    assert "token endpoint" in text and SAMPLE_TOKEN_URL in text and "401" in text and "invalid_client" in text
    assert "check client_id 'plugshare-demo', client_secret and scope" in text
    assert SECRET not in text


@pytest.mark.parametrize("answer, expected", [
    (httpx.Response(400, json={"error": "invalid_scope", "error_description": f"scope bad for {SECRET}"}),
     "invalid_scope"),
    (httpx.Response(200, text=f"<html>login for {SECRET}</html>"), "not JSON"),
    (httpx.Response(200, json={"token_type": "Bearer"}), "without an access_token"),
    (httpx.Response(200, json={"access_token": "x", "token_type": "MAC"}), "Bearer tokens only"),
])
def test_token_answers_that_cannot_be_used(api, answer, expected):
    token_route(api, answer)
    with pytest.raises(AdapterError, match=expected) as caught:
        read(client_secret=SECRET)
    assert SECRET not in str(caught.value)


# --- retries and errors -------------------------------------------------------------------------


def test_429_and_503_are_retried_honouring_retry_after(api):
    token_route(api)
    api.get(f"{BASE}/OrgUnits").mock(side_effect=[
        httpx.Response(429, headers={"Retry-After": "7"}), httpx.Response(503), page(units(1))])
    sleeps: list[float] = []
    assert len(list(adapter(sleeps=sleeps, entity_sets="OrgUnits").read(BASE))) == 1
    assert sleeps == [7.0, 2.0]  # as asked; then the default back-off for the second attempt


def test_retry_after_as_an_http_date(api):
    token_route(api)
    api.get(f"{BASE}/OrgUnits").mock(side_effect=[
        httpx.Response(503, headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}), page(units(1))])
    sleeps: list[float] = []
    list(adapter(sleeps=sleeps, entity_sets="OrgUnits").read(BASE))
    assert sleeps == [0.0]  # a date in the past: no wait


def test_retries_are_bounded(api):
    token_route(api)
    route = api.get(f"{BASE}/OrgUnits").mock(return_value=httpx.Response(429, headers={"Retry-After": "1"}))
    sleeps: list[float] = []
    with pytest.raises(AdapterError, match="429.*still busy after 3 retries"):
        list(adapter(sleeps=sleeps, entity_sets="OrgUnits").read(BASE))
    assert sleeps == [1.0, 1.0, 1.0] and route.call_count == 4


def test_a_long_retry_after_is_an_error_not_a_wait(api):
    token_route(api)
    api.get(f"{BASE}/OrgUnits").mock(return_value=httpx.Response(503, headers={"Retry-After": "3600"}))
    sleeps: list[float] = []
    with pytest.raises(AdapterError, match="asked to wait 3600 s"):
        list(adapter(sleeps=sleeps, entity_sets="OrgUnits").read(BASE))
    assert sleeps == []


@pytest.mark.parametrize("answer, expected", [
    (httpx.Response(500, text=f"Internal error: client_secret={SECRET} token=tok-A " + "x" * 500),
     r"answered 500 Internal Server Error: Internal error: client_secret=\[hidden\] token=\[hidden\] x+\.\.\."),
    (httpx.Response(404, json={"error": {"code": "NotFound", "message": "no entity set OrgUnits"}}),
     "404 Not Found: NotFound: no entity set OrgUnits; check the base URL"),
    (httpx.Response(403, text="forbidden"), "403 Forbidden: forbidden; client 'plugshare-demo' is not allowed"),
    (httpx.Response(302, headers={"Location": "https://login.example.test/"}), "302 Found.*redirects to"),
    (httpx.Response(200, text="<html>maintenance</html>", headers={"Content-Type": "text/html"}),
     r"not JSON \(text/html\): <html>maintenance</html>"),
    (httpx.Response(200, json={"d": {"results": []}}), "not answer an OData collection"),
    (httpx.Response(200, json=[1, 2]), "not answer an OData collection"),
    (httpx.ConnectError("connection refused"), "failed: connection refused; check the URL and the network"),
    (httpx.ReadTimeout("slow"), "timed out after 30 s"),
])
def test_api_failures_are_adapter_errors_naming_the_url(api, answer, expected):
    token_route(api)
    route = api.get(f"{BASE}/OrgUnits")
    route.mock(side_effect=answer) if isinstance(answer, Exception) else route.mock(return_value=answer)
    with pytest.raises(AdapterError, match=expected) as caught:
        read(entity_sets="OrgUnits", client_secret=SECRET)
    text = str(caught.value)
    assert f"{BASE}/OrgUnits" in text and SECRET not in text and "tok-A" not in text


def test_an_unreachable_token_endpoint(api):
    api.post(SAMPLE_TOKEN_URL).mock(side_effect=httpx.ConnectError("name resolution failed"))
    with pytest.raises(AdapterError, match=f"POST {SAMPLE_TOKEN_URL} failed: name resolution failed"):
        read()


@pytest.mark.parametrize("options, source, expected", [
    ({"page_size": "0"}, BASE, "page_size"),
    ({"page_size": "many"}, BASE, "page_size"),
    ({"timeout": "-1"}, BASE, "timeout"),
    ({"entity_sets": "Employees,Payslips"}, BASE, "Payslips is not an entity set"),
    ({"token_auth": "jwt"}, BASE, "token_auth"),
    ({}, "http://hr.example-vendor.test/odata/v4", "plain http"),
    ({}, "hr.example-vendor.test/odata", "not an absolute http"),
    ({"token_url": "ftp://login.example.test/token"}, BASE, "token_url"),
    ({"client_secret": ""}, BASE, "needs --option client_secret"),
])
def test_unusable_options_and_urls(options, source, expected):
    with pytest.raises(AdapterError, match=expected) as caught:
        list(adapter(**options).read(source))
    assert SAMPLE_CLIENT_SECRET not in str(caught.value)


# --- mapping ------------------------------------------------------------------------------------


def data_of(outcomes, record_id):
    return next(o.messages[0]["data"] for o in outcomes if isinstance(o, Converted)
                and o.messages[0]["data"]["id"] == record_id)


def test_vendor_fields_map_to_canonical_ones(api):
    serve(api)
    outcomes = read()
    person = data_of(outcomes, "E07000991-100002")
    assert person["ni_number"] == "CE234567D" and person["legal_sex"] == "M"  # spaces removed; Male -> M
    assert person["birth_date"] == "1979-06-04"  # from /Date(297302400000)/
    assert person["address"]["postcode"] == "PE14 7DL" and person["address"]["saon"] == "Flat 2"
    assert data_of(outcomes, "E07000991-100001")["address"]["postcode"] == "PE13 2AB"  # normalised
    assert data_of(outcomes, "E07000991-100004")["birth_date"] == "1999-02-27"  # DateTimeOffset at midnight
    employment = data_of(outcomes, "E07000991-E-100003-1")
    assert employment["employer"] == "E07000991"  # the council when Employer is null
    assert employment["continuous_service_date"] == employment["start_date"] == "2018-09-03"
    assert employment["assignments"][0]["working_pattern"] == {"fte": 0.6, "contracted_hours_per_week": 22.2,
                                                               "weeks_per_year": 52.143}
    leaver = data_of(outcomes, "E07000991-E-100004-1")
    assert (leaver["status"], leaver["termination_reason"], leaver["end_date"]) == (
        "terminated", "resignation", "2025-06-30")
    assert data_of(outcomes, "E07000991-E-100002-1")["tupe_transfer"]["previous_employer"] == "Fenmoor Leisure Trust"
    absence = data_of(outcomes, "E07000991-AB-0003")
    assert (absence["unit"], absence["amount"], absence["absence_type"]) == ("hours", 3.5, "unpaid")


def test_unmapped_properties_are_kept_in_extensions_with_their_json_values(api):
    serve(api)
    outcomes = read()
    assert data_of(outcomes, "E07000991-OU-HR")["extensions"] == {"native.hr-rest": {
        "ManagerPositionId": "POS-00002", "Location.Site": "Fenmoor House", "Location.Floor": 2}}
    assert data_of(outcomes, "E07000991-100003")["extensions"]["native.hr-rest"] == {
        "@odata.etag": 'W/"2"', "EmployeeGroup": "Staff", "Custom.BadgeNumber": "B-0193"}
    assert data_of(outcomes, "E07000991-E-100003-1")["extensions"]["native.hr-rest"] == {
        "ContractEndDue": "2026-09-02", "Assignments.0.WorkLocation": "Fenmoor House"}


JSON_SCALARS = st.one_of(st.text(min_size=1).filter(str.strip), st.integers(), st.booleans(),
                         st.floats(allow_nan=False, allow_infinity=False), st.lists(st.integers(), max_size=3))


@settings(max_examples=40, deadline=None)
@given(extra=st.dictionaries(st.from_regex(r"Vendor[A-Z][a-zA-Z]{0,10}", fullmatch=True), JSON_SCALARS,
                             max_size=4))
def test_no_vendor_property_is_lost(extra):
    item = dict(UNIT, **extra)
    with respx.mock:
        token_route(respx.mock)
        respx.get(f"{BASE}/OrgUnits").mock(return_value=page([item]))
        (outcome,) = read(entity_sets="OrgUnits")
    kept = outcome.messages[0]["data"]["extensions"].get("native.hr-rest", {})
    assert kept == extra


BAD_ITEMS = [
    ("Employees", {"EmployeeId": "9", "FirstName": "Ann", "LastName": "Ingram", "NationalInsuranceNumber": "AB12345"},
     "NationalInsuranceNumber AB***** is not a valid NI number"),
    ("Employees", {"EmployeeId": "9", "FirstName": "Ann", "LastName": "Ingram", "DateOfBirth": "1985-02-30"},
     "DateOfBirth is not a date such as 1985-07-14 (value withheld: personal data)"),
    ("Employees", {"EmployeeId": "9", "FirstName": "Ann", "LastName": "Ingram", "Gender": "X"},
     "Gender: vendor code 'X' has no translation"),
    ("Employees", {"EmployeeId": "9", "FirstName": "Ann", "LastName": "Ingram",
                   "HomeAddress": {"Postcode": "NOT A CODE"}},
     "HomeAddress.Postcode: 'NOT A CODE' is not a UK postcode"),
    ("Employees", {"EmployeeId": "9", "LastName": "Ingram"}, "FirstName is empty; it is required"),
    ("Employees", {"FirstName": "Ann", "LastName": "Ingram"}, "EmployeeId is missing"),
    ("Employees", {"EmployeeId": "9 9", "FirstName": "Ann", "LastName": "Ingram"}, "cannot make a record id"),
    ("Employees", {"EmployeeId": "9", "FirstName": ["Ann"], "LastName": "Ingram"}, "FirstName is a JSON list"),
    ("Employees", "not an object", "the item is a JSON str, not an object"),
    ("Employments", {"EmploymentId": "E9", "EmployeeId": "9", "EmploymentStatus": "A", "ContractType": "PERM",
                     "HireDate": "2020-01-01"}, "Assignments is missing or empty"),
    ("Employments", {"EmploymentId": "E9", "EmployeeId": "9", "EmploymentStatus": "A", "ContractType": "PERM",
                     "HireDate": "2020-01-01", "Assignments": [{"PositionId": "P1", "StartDate": "2020-01-01",
                                                                "FTE": "lots", "WeeklyHours": 37}]},
     "Assignments[0].FTE: 'lots' is not a number"),
    ("Employments", {"EmploymentId": "E9", "EmployeeId": "9", "EmploymentStatus": "A", "ContractType": "PERM",
                     "Employer": "X123", "HireDate": "2020-01-01", "Assignments": []}, "Employer: 'X123' is not"),
    ("Absences", {"AbsenceId": "A9", "EmployeeId": "9", "EmploymentId": "E9", "AbsenceType": "SICK",
                  "StartDate": "2025-13-01", "Unit": "D", "Amount": 1}, "StartDate: '2025-13-01' is not a date"),
]


@pytest.mark.parametrize("entity_set, item, expected", BAD_ITEMS)
def test_bad_items_are_rejected_with_a_reason_naming_the_property(api, entity_set, item, expected):
    token_route(api)
    api.get(f"{BASE}/{entity_set}").mock(return_value=page([item, copy.deepcopy(item)]))
    outcomes = read(entity_sets=entity_set)
    assert len(outcomes) == 2 and all(isinstance(o, Rejected) for o in outcomes)
    assert expected in outcomes[0].reason, outcomes[0].reason
    assert outcomes[0].reason.startswith(f"{entity_set} item ")
    assert outcomes[0].native == item and outcomes[1].position.record == 2
    if "NationalInsuranceNumber" in expected:
        assert "AB12345" not in outcomes[0].reason
    if "DateOfBirth" in expected:
        assert "1985-02-30" not in outcomes[0].reason
    json.dumps(outcomes[0].native)  # the native item stays JSON for the quarantine
