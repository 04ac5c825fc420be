"""spec/openapi.yaml: a valid OpenAPI 3.1 document of the REST API, fresh, complete, and a checker that bites."""

import email.utils
import json
import re
import shutil

import httpx
import pytest
import yaml
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from plugshare.models import MESSAGE_TYPES, api_path, cloudevents_type
from plugshare.models.canonical import canonical_digest
from plugshare.standard import openapi
from plugshare.standard.export import stale
from plugshare.standard.openapi import OPERATIONS, PROBLEMS, HoistError, openapi_document, render_openapi, schema_name
from plugshare.standard.schemas import common_schema
from plugshare.validation.responses import DOCUMENT_URI, ResponseChecker
from tests.conftest import load_example

HTTP_METHODS = ("get", "put", "post", "delete", "patch")
COUNCIL = "E07000991"


@pytest.fixture(scope="module")
def document(spec):
    return yaml.safe_load((spec / "openapi.yaml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def checker():
    return ResponseChecker.published()


def operations(document):
    for template, item in document["paths"].items():
        for method in HTTP_METHODS:
            if method in item:
                yield template, method, item[method]


def walk(node):
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from walk(value)


def lookup(document, ref):
    node = document
    for token in ref.removeprefix("#/").split("/"):
        node = node[token.replace("~1", "/").replace("~0", "~")]
    return node


def response_of(document, template, method, status):
    response = document["paths"][template][method]["responses"][str(status)]
    return lookup(document, response["$ref"]) if "$ref" in response else response


# -- the document --------------------------------------------------------------------------------------------

def test_openapi_spec_validator_accepts_the_published_document(document):
    validate(document)
    assert document["openapi"] == "3.1.0"
    assert document["jsonSchemaDialect"] == "https://json-schema.org/draft/2020-12/schema"


def test_committed_document_is_fresh(spec):
    committed = (spec / "openapi.yaml").read_text(encoding="utf-8")
    assert committed == render_openapi(), "spec/openapi.yaml is stale: run 'plugshare spec export' and commit it"


def test_spec_export_check_reports_a_stale_document(spec, tmp_path):
    copy = tmp_path / "spec"
    shutil.copytree(spec, copy)
    assert "openapi.yaml" not in stale(copy)
    document = copy / "openapi.yaml"
    document.write_text(document.read_text(encoding="utf-8").replace("operationId: getHealth", "operationId: health"),
                        encoding="utf-8")
    assert "openapi.yaml" in stale(copy)
    document.unlink()
    assert "openapi.yaml" in stale(copy), "a missing document is stale too"


def test_rendering_is_deterministic_and_round_trips():
    text = render_openapi()
    assert text == render_openapi()
    assert yaml.safe_load(text) == openapi_document()
    assert "&id" not in text and "*id" not in text, "no YAML anchors: every node is written out"


def test_every_message_type_has_its_five_operations(document):
    for message_type in MESSAGE_TYPES:
        suffix = openapi.operation_suffix(message_type)
        collection = document["paths"][f"/v1/councils/{{council}}/{api_path(message_type)}"]
        item = document["paths"][f"/v1/councils/{{council}}/{api_path(message_type)}/{{id}}"]
        assert set(collection) & set(HTTP_METHODS) == {"get"}
        assert set(item) & set(HTTP_METHODS) == {"get", "put", "delete"}
        ids = {collection["get"]["operationId"], item["get"]["operationId"], item["put"]["operationId"],
               item["delete"]["operationId"]}
        assert ids == {f"list{suffix}", f"get{suffix}", f"put{suffix}", f"delete{suffix}"}
        served = [op for node in (collection["get"], item["get"], item["put"], item["delete"])
                  for op in node["x-plugshare-operations"]]
        assert sorted(served) == sorted(OPERATIONS), message_type
        list_parameters = {lookup(document, p["$ref"])["name"] for p in collection["get"]["parameters"]}
        assert list_parameters == {"limit", "cursor", "updated_since"}, "the change feed is the list with updated_since"
        assert item["put"]["requestBody"]["content"]["application/json"]["schema"] == {
            "$ref": f"#/components/schemas/{suffix}"}


def test_operation_ids_name_the_type():
    assert openapi.operation_suffix("hr.person") == "HrPerson"
    assert openapi.operation_suffix("revenues.council-tax-account") == "RevenuesCouncilTaxAccount"


def test_paths_are_explicit_per_type_plus_the_service_and_bulk_paths(document):
    expected = {"/v1/health", "/v1/capabilities", "/v1/councils/{council}/import", "/v1/councils/{council}/export"}
    for message_type in MESSAGE_TYPES:
        expected |= {f"/v1/councils/{{council}}/{api_path(message_type)}",
                     f"/v1/councils/{{council}}/{api_path(message_type)}/{{id}}"}
    assert set(document["paths"]) == expected
    assert len(expected) == 4 + 2 * 16


def test_every_operation_has_a_unique_id_and_auth_responses_where_auth_applies(document):
    """PS-API-002 (401 with a challenge) and PS-API-003 (403) on every operation that takes a credential."""
    seen = []
    for template, method, operation in operations(document):
        seen.append(operation["operationId"])
        assert operation["security"] in ([], [{"bearer": []}]), "each operation declares its own security"
        secured = operation["security"] != []
        responses = operation["responses"]
        assert secured == template.startswith("/v1/councils/"), (template, method)
        if secured:
            assert {"401", "403", "500"} <= set(responses), (template, method)
            assert "WWW-Authenticate" in response_of(document, template, method, 401)["headers"]
        else:
            assert not {"401", "403"} & set(responses)
    assert len(seen) == len(set(seen)) == 4 + 4 * 16
    assert {"importCouncil", "exportCouncil", "getCapabilities", "getHealth", "listHrPerson", "getHrPerson",
            "putHrPerson", "deleteHrPerson"} <= set(seen)
    assert document["components"]["securitySchemes"]["bearer"] == {
        **document["components"]["securitySchemes"]["bearer"], "type": "http", "scheme": "bearer"}


def test_every_error_response_is_a_problem_of_its_status(document):
    """PS-API-001: every status >= 400 under /v1/councils carries application/problem+json of that status."""
    for template, method, operation in operations(document):
        for status in operation["responses"]:
            if int(status) < 400:
                continue
            reference = response_of(document, template, method, status)["content"]["application/problem+json"]
            assert reference["schema"] == {"$ref": f"#/components/schemas/{PROBLEMS[int(status)][1]}Problem"}, \
                "a named schema, so that generated clients name its class"
            schema = lookup(document, reference["schema"]["$ref"])
            assert schema["allOf"] == [{"$ref": "#/components/schemas/Problem"}]
            slug = PROBLEMS[int(status)][0]
            assert schema["properties"]["status"] == {"const": int(status)}
            assert schema["properties"]["type"] == {"const": f"https://plugshare.uk/problems/{slug}"}


def test_writes_declare_the_responses_of_the_contract(document):
    item = document["paths"]["/v1/councils/{council}/hr/person/{id}"]
    assert set(item["put"]["responses"]) == {"200", "201", "400", "401", "403", "405", "412", "413", "415", "422",
                                             "429", "500", "503"}
    assert set(item["delete"]["responses"]) == {"204", "400", "401", "403", "404", "405", "412", "429", "500", "503"}
    created = response_of(document, "/v1/councils/{council}/hr/person/{id}", "put", 201)
    assert set(created["headers"]) == {"ETag", "Location"}, "PS-API-010: ETag on every write, Location on create"
    assert "ETag" in response_of(document, "/v1/councils/{council}/hr/person/{id}", "get", 200)["headers"]
    assert "Allow" in response_of(document, "/v1/councils/{council}/hr/person/{id}", "put", 405)["headers"]
    imported = document["paths"]["/v1/councils/{council}/import"]["post"]
    assert set(imported["requestBody"]["content"]) == {"application/x-ndjson"}
    assert {"413", "415"} <= set(imported["responses"])


def test_path_parameters_use_the_published_definitions(document):
    parameters = document["components"]["parameters"]
    assert parameters["council"]["schema"] == {"$ref": "#/components/schemas/CouncilCode"}
    assert parameters["id"]["schema"] == {"$ref": "#/components/schemas/RecordId"}
    schemas = document["components"]["schemas"]
    assert schemas["CouncilCode"]["pattern"] == common_schema()["$defs"]["CouncilCode"]["pattern"]
    assert parameters["limit"]["schema"] == {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}
    assert parameters["type"]["schema"]["items"]["enum"] == sorted(MESSAGE_TYPES)


def test_published_schemas_are_hoisted_with_their_requirements(document, spec):
    schemas = document["components"]["schemas"]
    assert set(common_schema()["$defs"]) <= set(schemas)
    assert {"Person", "PayFrequency", "CouncilTaxBill"} <= set(schemas), "message schemas' own $defs are hoisted"
    assert {schema_name(t) for t in MESSAGE_TYPES} <= set(schemas)
    assert {"Message", "Capabilities", "Problem", "ProblemError", "ImportAcknowledgement", "ImportSummary",
            "Health"} <= set(schemas)
    assert schemas["NationalInsuranceNumber"] == common_schema()["$defs"]["NationalInsuranceNumber"]
    assert schemas["Money"]["x-requirement"] == "PS-COM-001"
    published = {node["x-requirement"] for path in (spec / "schemas").glob("*.json")
                 for node in walk(json.loads(path.read_text())) if "x-requirement" in node}
    kept = {node["x-requirement"] for node in walk(schemas) if "x-requirement" in node}
    assert {r for r in kept if not r.startswith("PS-API-")} == published
    assert schemas["HrPerson"]["properties"]["data"] == {"$ref": "#/components/schemas/Person"}
    refs = [node["$ref"] for node in walk(document) if "$ref" in node]
    assert refs and all(ref.startswith("#/components/") for ref in refs)
    for ref in set(refs):
        lookup(document, ref)  # every reference resolves
    assert not [node for node in walk(schemas) if "$id" in node or "$schema" in node or "$defs" in node]
    assert schemas["Message"]["oneOf"] == [{"$ref": f"#/components/schemas/{schema_name(t)}"}
                                           for t in sorted(MESSAGE_TYPES)]
    page = schemas["HrPersonPage"]
    assert page["properties"]["items"]["items"] == {"$ref": "#/components/schemas/HrPerson"}


IDENTIFIER = re.compile(r"^[A-Z][A-Za-z0-9]*$")


def test_component_names_are_identifiers_every_code_generator_keeps(document):
    """No dots or dashes: HrPerson, HrPersonPage, TooManyRequests become type names unchanged in any language."""
    components = document["components"]
    for kind in ("schemas", "responses", "examples"):
        odd = [name for name in components[kind] if not IDENTIFIER.match(name)]
        assert not odd, f"components.{kind}: {odd}"
    assert schema_name("revenues.council-tax-account") == "RevenuesCouncilTaxAccount"
    assert openapi.page_schema_name("hr.org-unit") == "HrOrgUnitPage"


def test_operations_are_described_for_generated_clients(document):
    declared_tags = {tag["name"] for tag in document["tags"]}
    for template, method, operation in operations(document):
        assert re.fullmatch(r"[a-z][A-Za-z0-9]*", operation["operationId"]), operation["operationId"]
        assert operation["tags"] and set(operation["tags"]) <= declared_tags, (template, method)
        assert operation["summary"] and operation["description"], (template, method)
    for name, parameter in document["components"]["parameters"].items():
        assert parameter["description"], name
    servers = document["servers"]
    assert servers and servers[0]["url"].startswith("https://"), "bearer tokens travel over TLS"
    assert all(not server["url"].rstrip("/").endswith("/v1") for server in servers), "the paths carry /v1"


def test_nullable_and_null_are_never_used(document):
    """Optional fields are absent, never null: a generator must not make them nullable."""
    for node in walk(document):
        assert "nullable" not in node
        kind = node.get("type")
        assert kind != "null" and not (isinstance(kind, list) and "null" in kind), node


def test_every_operation_may_answer_429_and_503_with_retry_after(document):
    """PS-API-017: a client retries 429 and 503, so a generated client knows both, with Retry-After."""
    for template, method, operation in operations(document):
        for status in (429, 500, 503):
            assert str(status) in operation["responses"], (template, method, status)
    for status in (429, 503):
        response = response_of(document, "/v1/health", "get", status)
        header = lookup(document, response["headers"]["Retry-After"]["$ref"])
        assert header["required"] is False
        pattern = re.compile(header["schema"]["pattern"])
        assert pattern.match("120")
        assert pattern.match(email.utils.format_datetime(email.utils.localtime(), usegmt=True))
        assert not pattern.match("soon") and not pattern.match("-1")


def test_the_message_union_has_a_discriminator_on_its_type(document):
    union = document["components"]["schemas"]["Message"]
    mapping = union["discriminator"]["mapping"]
    assert union["discriminator"]["propertyName"] == "type"
    assert set(mapping) == {cloudevents_type(t) for t in MESSAGE_TYPES}
    for ce_type, ref in mapping.items():
        assert lookup(document, ref)["properties"]["type"]["const"] == ce_type
    assert sorted(mapping.values()) == sorted(ref["$ref"] for ref in union["oneOf"])


def media_examples(document):
    """(schema pointer, example) of every example in the document: media types and parameters."""
    for template, item in document["paths"].items():
        base = "/paths/" + template.replace("~", "~0").replace("/", "~1")
        for method in HTTP_METHODS:
            operation = item.get(method)
            if not operation:
                continue
            bodies = [("requestBody", operation.get("requestBody"))]
            bodies += [(f"responses/{status}", response) for status, response in operation["responses"].items()]
            for where, body in bodies:
                if body is None:
                    continue
                pointer = f"{base}/{method}/{where}"
                if "$ref" in body:
                    pointer, body = body["$ref"][1:], lookup(document, body["$ref"])
                for media, content in body.get("content", {}).items():
                    schema = f"{pointer}/content/{media.replace('/', '~1')}/schema"
                    if "example" in content:
                        yield schema, content["example"]
                    for example in content.get("examples", {}).values():
                        yield schema, lookup(document, example["$ref"])["value"] if "$ref" in example else example
    for name, parameter in document["components"]["parameters"].items():
        if "example" in parameter:
            yield f"/components/parameters/{name}/schema", parameter["example"]


def test_every_example_validates_against_its_schema(document):
    registry = Registry().with_resource(DOCUMENT_URI, Resource.from_contents(document,
                                                                             default_specification=DRAFT202012))
    found = list(media_examples(document))
    assert len(found) >= 16 * 4 + 2 + len(PROBLEMS), "every message type, capabilities, health and each problem"
    for pointer, example in found:
        validator = Draft202012Validator({"$ref": f"{DOCUMENT_URI}#{pointer}"}, registry=registry,
                                         format_checker=Draft202012Validator.FORMAT_CHECKER)
        errors = [error.message for error in validator.iter_errors(example)]
        assert not errors, (pointer, errors[:3])
    examples = document["components"]["examples"]
    assert examples["HrPerson"]["value"] == load_example("hr.person.json"), "the published example"


def test_two_definitions_of_one_name_are_refused(monkeypatch):
    original = openapi.message_schema

    def clashing(message_type):
        schema = original(message_type)
        if message_type == "hr.person":
            schema["$defs"]["Money"] = {"type": "number"}
        return schema

    monkeypatch.setattr(openapi, "message_schema", clashing)
    with pytest.raises(HoistError, match="Money"):
        openapi.components_schemas()


def test_a_definition_shared_by_two_types_is_hoisted_once():
    run, slip = (openapi.message_schema(t)["$defs"] for t in ("payroll.pay-run", "payroll.payslip"))
    assert run["PayFrequency"] == slip["PayFrequency"], "both types define it"
    assert openapi.components_schemas()["PayFrequency"] == run["PayFrequency"]


# -- the checker ---------------------------------------------------------------------------------------------

PERSON = load_example("hr.person.json")
PERSON_ID = PERSON["data"]["id"]
ITEM = f"/v1/councils/{COUNCIL}/hr/person/{PERSON_ID}"
ETAG = '"' + canonical_digest(PERSON)[:32] + '"'
JSON = {"Content-Type": "application/json"}


def problem(status, slug, instance="/v1/x", **extra):
    return json.dumps({"type": f"https://plugshare.uk/problems/{slug}", "title": slug, "status": status,
                       "detail": "detail", "instance": instance, **extra}).encode()


PROBLEM = {"Content-Type": "application/problem+json"}


def test_a_correct_response_conforms(checker):
    body = json.dumps(PERSON).encode()
    assert checker.check("GET", ITEM, 200, {**JSON, "ETag": ETAG}, body) == []
    assert checker.check("PUT", ITEM, 201, {**JSON, "etag": ETAG, "location": ITEM}, body) == []
    assert checker.check("GET", ITEM, 200, {"content-type": "application/json; charset=utf-8", "ETag": ETAG},
                         body) == [], "media type parameters are ignored"
    assert checker.check("DELETE", ITEM, 204, {}, b"") == []
    assert checker.check("GET", "/v1/health", 200, JSON, b'{"status": "ok"}') == []


def test_the_literal_item_path_is_matched(checker):
    assert checker.match(f"/v1/councils/{COUNCIL}/hr/person/x1") == (
        "/v1/councils/{council}/hr/person/{id}", {"council": COUNCIL, "id": "x1"})
    assert checker.match(f"/v1/councils/{COUNCIL}/import")[0] == "/v1/councils/{council}/import"
    assert checker.match("/v1/health/") is None


def test_literal_segments_win_over_parameters():
    document = {"openapi": "3.1.0", "paths": {
        "/a/{x}": {"get": {"responses": {"200": {"description": "param"}}}},
        "/a/b": {"get": {"responses": {"204": {"description": "literal"}}}},
    }}
    checker = ResponseChecker.from_document(document)
    assert checker.match("/a/b") == ("/a/b", {})
    assert checker.match("/a/c") == ("/a/{x}", {"x": "c"})
    assert checker.check("GET", "/a/b", 204, {}, b"") == []
    assert checker.check("GET", "/a/b", 200, {}, b"")


def test_a_wrong_status_is_reported(checker):
    violations = checker.check("GET", ITEM, 201, {**JSON, "ETag": ETAG}, json.dumps(PERSON).encode())
    assert len(violations) == 1
    assert "status 201 is not declared" in violations[0] and "200" in violations[0]


def test_a_wrong_content_type_is_reported(checker):
    violations = checker.check("GET", ITEM, 200, {"Content-Type": "text/html", "ETag": ETAG},
                               json.dumps(PERSON).encode())
    assert violations == [f'GET {ITEM} -> 200: Content-Type "text/html" is not declared (declared: application/json)']
    missing = checker.check("GET", ITEM, 200, {"ETag": ETAG}, json.dumps(PERSON).encode())
    assert len(missing) == 1 and "missing Content-Type" in missing[0]


def test_a_missing_etag_is_reported(checker):
    """PS-API-010: GET and PUT answer with a strong ETag."""
    violations = checker.check("GET", ITEM, 200, JSON, json.dumps(PERSON).encode())
    assert violations == [f"GET {ITEM} -> 200: missing required header ETag"]
    weak = checker.check("PUT", ITEM, 200, {**JSON, "ETag": 'W/"abc"'}, json.dumps(PERSON).encode())
    assert len(weak) == 1 and "header ETag" in weak[0]
    no_location = checker.check("PUT", ITEM, 201, {**JSON, "ETag": ETAG}, json.dumps(PERSON).encode())
    assert no_location == [f"PUT {ITEM} -> 201: missing required header Location"]


def test_a_body_missing_a_required_field_is_reported(checker):
    body = json.loads(json.dumps(PERSON))
    del body["data"]["name"]
    violations = checker.check("GET", ITEM, 200, {**JSON, "ETag": ETAG}, json.dumps(body).encode())
    assert violations == [f"GET {ITEM} -> 200: body at /data: missing required field 'name'"]
    del body["specversion"]
    both = checker.check("GET", ITEM, 200, {**JSON, "ETag": ETAG}, json.dumps(body).encode())
    assert len(both) == 2 and any("[PS-ENV-004] at /: missing required field 'specversion'" in v for v in both)


def test_a_body_that_is_not_json_is_reported(checker):
    violations = checker.check("GET", ITEM, 200, {**JSON, "ETag": ETAG}, b"Internal Server Error")
    assert len(violations) == 1 and "body is not JSON" in violations[0] and "Internal Server Error" in violations[0]


def test_an_unexpected_body_is_reported(checker):
    assert checker.check("DELETE", ITEM, 204, JSON, b"{}") == [f"DELETE {ITEM} -> 204: expected no body, got 2 bytes"]


def export_lines(*messages):
    return b"\n".join(m if isinstance(m, bytes) else json.dumps(m).encode() for m in messages) + b"\n"


NDJSON = {"Content-Type": "application/x-ndjson"}
EXPORT = f"/v1/councils/{COUNCIL}/export"


def test_an_ndjson_export_of_messages_conforms(checker):
    payslip = load_example("payroll.payslip.json")
    assert checker.check("GET", EXPORT, 200, NDJSON, export_lines(PERSON, b"", payslip)) == []


def test_an_ndjson_line_that_is_not_a_message_is_reported(checker):
    violations = checker.check("GET", EXPORT, 200, NDJSON, export_lines(PERSON, {"hello": "world"}))
    assert len(violations) == 1
    assert violations[0].startswith(f"GET {EXPORT} -> 200: line 2 ")
    assert "none of the 16 alternatives" in violations[0] and "specversion" in violations[0]

    not_json = checker.check("GET", EXPORT, 200, NDJSON, export_lines(PERSON, b"{oops"))
    assert len(not_json) == 1 and "line 2 is not JSON" in not_json[0]


def test_an_ndjson_line_is_reported_against_the_schema_of_its_type(checker):
    bad = json.loads(json.dumps(PERSON))
    del bad["data"]["name"]
    unknown = {**PERSON, "type": "uk.plugshare.hr.nobody"}
    tombstone = {**PERSON, "action": "delete"}
    violations = checker.check("GET", EXPORT, 200, NDJSON, export_lines(bad, unknown, tombstone))
    assert len(violations) == 3
    assert "line 1 at /data: missing required field 'name'" in violations[0]
    assert 'line 2 at /type: "uk.plugshare.hr.nobody" is not one of "uk.plugshare.hr.absence"' in violations[1]
    assert 'line 3 at /action: "delete" must be "upsert"' in violations[2], "an export carries no tombstones"


def test_import_acknowledgements_are_checked(checker):
    """PS-API-013: one acknowledgement per line, accepted or rejected with the requirement, then a summary."""
    path = f"/v1/councils/{COUNCIL}/import"
    accepted = {"line": 1, "status": "accepted", "type": "hr.person", "id": PERSON_ID, "message_id": PERSON["id"],
                "change": "created"}
    rejected = {"line": 2, "status": "rejected",
                "errors": [{"requirement": "PS-ENV-001", "pointer": "", "reason": "not JSON"}]}
    summary = {"summary": {"lines": 2, "accepted": 1, "rejected": 1}}
    assert checker.check("POST", path, 200, NDJSON, export_lines(accepted, rejected, summary)) == []
    no_reason = {"line": 2, "status": "rejected"}
    accepted_without_change = {k: v for k, v in accepted.items() if k != "change"}
    violations = checker.check("POST", path, 200, NDJSON, export_lines(accepted_without_change, no_reason, summary))
    assert len(violations) == 2
    assert "line 1 " in violations[0] and "'change'" in violations[0]
    assert "line 2 " in violations[1] and "'errors'" in violations[1]


def test_an_unknown_path_is_reported_unless_answered_with_a_not_found_problem(checker):
    violations = checker.check("GET", "/v1/councils/E07000991/hr/nobody", 200, JSON, b"{}")
    assert violations == ['GET /v1/councils/E07000991/hr/nobody -> 200: no path of the API matches '
                          '"/v1/councils/E07000991/hr/nobody"']
    assert checker.check("GET", "/v2/health", 404, PROBLEM, problem(404, "not-found", "/v2/health")) == []
    wrong = checker.check("GET", "/v2/health", 404, JSON, b'{"detail": "Not Found"}')
    assert len(wrong) == 1 and "Content-Type" in wrong[0]


def test_problems_are_checked_against_their_status(checker):
    """PS-API-001 and PS-API-002: a problem of the right type and status, a 401 with its challenge."""
    challenge = {**PROBLEM, "WWW-Authenticate": 'Bearer realm="plugshare"'}
    assert checker.check("GET", ITEM, 401, challenge, problem(401, "unauthorized", ITEM)) == []
    no_challenge = checker.check("GET", ITEM, 401, PROBLEM, problem(401, "unauthorized", ITEM))
    assert no_challenge == [f"GET {ITEM} -> 401: missing required header WWW-Authenticate"]
    mislabelled = checker.check("GET", ITEM, 403, PROBLEM, problem(403, "not-found", ITEM))
    assert len(mislabelled) == 1 and "/type" in mislabelled[0] and "forbidden" in mislabelled[0]
    invalid = problem(422, "invalid-message", ITEM, requirement="PS-API-007",
                      errors=[{"requirement": "PS-SCH-001", "pointer": "/data", "reason": "missing 'name'"}])
    assert checker.check("PUT", ITEM, 422, PROBLEM, invalid) == []


def test_a_method_the_path_does_not_take_is_a_405_problem_with_allow(checker):
    collection = f"/v1/councils/{COUNCIL}/hr/person"
    allow = {**PROBLEM, "Allow": "GET"}
    assert checker.check("POST", collection, 405, allow, problem(405, "method-not-allowed", collection)) == []
    violations = checker.check("POST", collection, 201, JSON, b"{}")
    assert violations == [f"POST {collection} -> 201: POST is not declared for /v1/councils/{{council}}/hr/person "
                          "(declared: GET)"]


def test_a_success_for_a_path_parameter_out_of_pattern_is_reported(checker):
    path = "/v1/councils/XX000001/hr/person"
    page = {"items": [], "watermark": "2026-11-29T10:00:00.123456Z"}
    violations = checker.check("GET", path, 200, JSON, json.dumps(page).encode())
    assert len(violations) == 1 and "path parameter council" in violations[0]
    assert checker.check("GET", path, 400, PROBLEM, problem(400, "bad-request", path)) == []


def test_pages_and_capabilities_are_checked(checker):
    """PS-API-015 and PS-API-016: capabilities declare what the server does and its limits."""
    collection = f"/v1/councils/{COUNCIL}/hr/person"
    page = {"items": [PERSON], "next_cursor": "abc", "watermark": "2026-11-29T10:00:00.123456Z"}
    assert checker.check("GET", collection, 200, JSON, json.dumps(page).encode()) == []
    bad_watermark = checker.check("GET", collection, 200, JSON, json.dumps({**page, "watermark": "yesterday"}).encode())
    assert bad_watermark and all("at /watermark" in v for v in bad_watermark)
    capabilities = {
        "product": {"name": "plugshare", "version": "1.0.0", "supplier": "plugshare"},
        "standard_version": "1.0.0", "read_only": True,
        "message_types": [{"type": t, "operations": ["list", "get", "changes"]} for t in sorted(MESSAGE_TYPES)],
        "features": ["change-feed", "bulk-export"],
        "limits": {"default_page_size": 100, "max_page_size": 1000, "max_message_bytes": 1048576,
                   "max_import_bytes": 268435456},
    }
    assert checker.check("GET", "/v1/capabilities", 200, JSON, json.dumps(capabilities).encode()) == []
    writes = {**capabilities, "features": ["change-feed", "bulk-import"]}
    assert checker.check("GET", "/v1/capabilities", 200, JSON, json.dumps(writes).encode()), \
        "a read-only gateway declares no bulk import"
    no_limits = {k: v for k, v in capabilities.items() if k != "limits"}
    violations = checker.check("GET", "/v1/capabilities", 200, JSON, json.dumps(no_limits).encode())
    assert violations == ["GET /v1/capabilities -> 200: body [PS-API-015] at /: missing required field 'limits'"]


def test_violations_withhold_personal_data_and_quote_at_most_200_characters(checker):
    body = json.loads(json.dumps(PERSON))
    body["data"]["ni_number"] = "QQ123456Z"
    body["data"]["birth_date"] = 19800101
    body["data"]["name"]["given"] = "x" * 500
    violations = checker.check("GET", ITEM, 200, {**JSON, "ETag": ETAG}, json.dumps(body).encode())
    text = "\n".join(violations)
    assert "/data/ni_number" in text and "/data/birth_date" in text
    assert "QQ123456Z" not in text and "19800101" not in text
    unknown_field = json.loads(json.dumps(PERSON))
    unknown_field["data"]["name"] = {"given": "x" * 500, "ni_number": "QQ123456C"}
    more = checker.check("GET", EXPORT, 200, NDJSON, export_lines({"oneof": unknown_field["data"]}))
    assert "QQ123456C" not in "\n".join(more)
    raw = checker.check("GET", ITEM, 200, {**JSON, "ETag": ETAG}, b"could not store AB123456C")
    assert len(raw) == 1 and "AB123456C" not in raw[0] and "not shown" in raw[0]
    long_type = {**PERSON, "type": "t" * 500}
    quoted = checker.check("GET", EXPORT, 200, NDJSON, export_lines(long_type))
    assert len(quoted) == 1
    shown = quoted[0][quoted[0].index('"t'):quoted[0].index("...") + 3]
    assert len(shown) == 200 and shown == '"' + "t" * 196 + "..."


def test_check_httpx_reads_method_and_path_from_the_request(checker):
    request = httpx.Request("GET", f"http://testserver{ITEM}?ignored=1")
    good = httpx.Response(200, request=request, headers={"ETag": ETAG}, json=PERSON)
    assert checker.check_httpx(good) == []
    bad = httpx.Response(200, request=request, json=PERSON)
    assert checker.check_httpx(bad) == [f"GET {ITEM} -> 200: missing required header ETag"]


def test_the_published_checker_is_loaded_once():
    assert ResponseChecker.published() is ResponseChecker.published()


# -- the checker: what one response can show of the contract -------------------------------------------------

COLLECTION = f"/v1/councils/{COUNCIL}/hr/person"
IMPORT = f"/v1/councils/{COUNCIL}/import"
WATERMARK = "2026-11-29T10:00:00.123456Z"


def page_of(*items, **extra):
    return json.dumps({"items": list(items), "watermark": WATERMARK, **extra}).encode()


def person_numbered(number):
    message = json.loads(json.dumps(PERSON))
    message["data"]["id"] = message["subject"] = f"{COUNCIL}-p{number:05d}"
    return message


def test_a_success_for_a_query_parameter_out_of_its_schema_is_reported(checker):
    """PS-API-016: a limit out of range, an unknown export type or a garbled updated_since is refused with 400."""
    assert checker.check("GET", f"{COLLECTION}?limit=10", 200, JSON, page_of()) == []
    too_many = checker.check("GET", f"{COLLECTION}?limit=5000", 200, JSON, page_of())
    assert len(too_many) == 1 and "query parameter limit 5000 breaks its schema" in too_many[0]
    assert "not refused" in too_many[0]
    assert checker.check("GET", f"{COLLECTION}?limit=ten", 200, JSON, page_of())
    assert checker.check("GET", f"{COLLECTION}?limit=5&limit=6", 200, JSON, page_of())
    assert checker.check("GET", f"{COLLECTION}?updated_since=yesterday", 200, JSON, page_of())
    lower_case = "2026-11-29t10:00:00.5z"  # RFC 3339 allows lower-case t and z
    assert checker.check("GET", f"{COLLECTION}?updated_since={lower_case}", 200, JSON, page_of()) == []
    assert checker.check("GET", f"{COLLECTION}?limit=5000", 400, PROBLEM, problem(400, "bad-request", COLLECTION)) == []
    assert checker.check("GET", f"{EXPORT}?type=hr.person&type=hr.absence", 200, NDJSON, b"") == []
    unknown = checker.check("GET", f"{EXPORT}?type=hr.person&type=hr.nobody", 200, NDJSON, b"")
    assert len(unknown) == 1 and "query parameter type" in unknown[0]


def test_check_httpx_checks_the_query_and_the_encoded_path(checker):
    request = httpx.Request("GET", f"http://testserver{COLLECTION}?limit=5000")
    page = httpx.Response(200, request=request, json={"items": [], "watermark": WATERMARK})
    assert any("query parameter limit" in v for v in checker.check_httpx(page))
    slash = httpx.Request("GET", f"http://testserver{COLLECTION}/a%2Fb")
    found = checker.check_httpx(httpx.Response(200, request=slash, headers={"ETag": ETAG}, json=PERSON))
    assert len(found) == 1 and "path parameter id \"a/b\" breaks its schema" in found[0], \
        "an escaped slash stays inside its segment"


def test_a_problem_names_the_request_path_as_its_instance(checker):
    """PS-API-001: instance is the path of the request."""
    assert checker.check("GET", ITEM, 404, PROBLEM, problem(404, "not-found", ITEM)) == []
    other = checker.check("GET", ITEM, 404, PROBLEM, problem(404, "not-found", "/v1/elsewhere"))
    assert other == [f'GET {ITEM} -> 404: problem instance "/v1/elsewhere" is not the request path "{ITEM}"']
    escaped = f"{COLLECTION}/a%3Ab"
    assert checker.check("GET", escaped, 404, PROBLEM, problem(404, "not-found", f"{COLLECTION}/a:b")) == []


def test_allow_names_only_methods_the_path_takes(checker):
    read_only = {**PROBLEM, "Allow": "GET, HEAD"}
    assert checker.check("PUT", ITEM, 405, read_only, problem(405, "method-not-allowed", ITEM)) == []
    wrong = checker.check("POST", COLLECTION, 405, {**PROBLEM, "Allow": "GET, POST"},
                          problem(405, "method-not-allowed", COLLECTION))
    assert wrong == [f"POST {COLLECTION} -> 405: Allow names POST, which the path does not take"]


def test_429_and_503_are_problems_that_may_say_when_to_retry(checker):
    """PS-API-017: the statuses a client retries are declared, with an optional Retry-After."""
    later = {**PROBLEM, "Retry-After": "30"}
    assert checker.check("GET", ITEM, 429, later, problem(429, "too-many-requests", ITEM)) == []
    assert checker.check("GET", "/v1/health", 503, PROBLEM, problem(503, "service-unavailable", "/v1/health")) == []
    garbled = checker.check("PUT", ITEM, 503, {**PROBLEM, "Retry-After": "in a minute"},
                            problem(503, "service-unavailable", ITEM))
    assert len(garbled) == 1 and "header Retry-After" in garbled[0]
    assert checker.check("GET", ITEM, 502, PROBLEM, problem(502, "bad-gateway", ITEM)), "502 is not declared"


def acknowledgement(line, status="accepted"):
    if status == "accepted":
        return {"line": line, "status": "accepted", "type": "hr.person", "id": f"{COUNCIL}-p{line:05d}",
                "message_id": f"m{line}", "change": "created"}
    return {"line": line, "status": "rejected", "errors": [{"requirement": "PS-ENV-001", "pointer": "", "reason": "x"}]}


def test_an_import_answer_ends_with_one_summary_that_counts_its_acknowledgements(checker):
    """PS-API-013: one acknowledgement per line, in input order, then the summary."""
    acks = [acknowledgement(1), acknowledgement(3, "rejected")]
    summary = {"summary": {"lines": 2, "accepted": 1, "rejected": 1}}
    assert checker.check("POST", IMPORT, 200, NDJSON, export_lines(*acks, summary)) == []

    def violations(*lines):
        found = checker.check("POST", IMPORT, 200, NDJSON, export_lines(*lines) if lines else b"")
        return [v.removeprefix(f"POST {IMPORT} -> 200: ") for v in found]

    assert violations(*acks) == ["the import answer has one summary line, its last (found: none)"]
    assert violations(acks[0], summary, acks[1]) == [
        "the import answer has one summary line, its last (found: line 2)"]
    assert violations(*acks, summary, summary) == [
        "the import answer has one summary line, its last (found: line 3, line 4)"]
    assert violations() == ["the import answer is empty: it ends with a summary line"]
    assert violations(acks[1], acks[0], summary) == [
        "acknowledgements are not in input order (their line numbers do not increase)"]
    assert violations(*acks, {"summary": {"lines": 3, "accepted": 2, "rejected": 1}}) == [
        "the summary does not count the acknowledgements: lines 3 (counted 2), accepted 2 (counted 1)"]
    assert violations({"summary": {"lines": 0, "accepted": 0, "rejected": 0}}) == []


def test_an_export_is_ordered_by_type_then_id_each_record_once_of_the_types_asked(checker):
    """PS-API-014."""
    absence = load_example("hr.absence.json")
    first, second = person_numbered(1), person_numbered(2)
    assert checker.check("GET", EXPORT, 200, NDJSON, export_lines(absence, first, second)) == []
    out_of_order = checker.check("GET", EXPORT, 200, NDJSON, export_lines(absence, second, first))
    assert len(out_of_order) == 1 and "line 3 is out of order" in out_of_order[0]
    by_type = checker.check("GET", EXPORT, 200, NDJSON, export_lines(first, absence))
    assert len(by_type) == 1 and "line 2 is out of order" in by_type[0]
    repeated = checker.check("GET", EXPORT, 200, NDJSON, export_lines(first, first))
    assert len(repeated) == 1 and "line 2 is a repeat" in repeated[0]
    not_asked = checker.check("GET", f"{EXPORT}?type=hr.person", 200, NDJSON, export_lines(absence, first))
    assert len(not_asked) == 1 and "line 1 is a hr.absence message, a type not asked for" in not_asked[0]


def test_a_list_page_holds_at_most_limit_current_records_in_id_order(checker):
    """PS-API-011 and PS-API-016; the change feed (updated_since) may hold tombstones in change order."""
    first, second = person_numbered(1), person_numbered(2)
    tombstone = load_example("hr.person--delete.json")
    assert checker.check("GET", f"{COLLECTION}?limit=2", 200, JSON, page_of(first, second, next_cursor="c")) == []
    over = checker.check("GET", f"{COLLECTION}?limit=1", 200, JSON, page_of(first, second))
    assert over == [f"GET {COLLECTION} -> 200: the page holds 2 items, more than limit=1"]
    unordered = checker.check("GET", COLLECTION, 200, JSON, page_of(second, first))
    assert unordered == [f"GET {COLLECTION} -> 200: a list without updated_since is ordered by record id, "
                         "each record once"]
    with_tombstone = checker.check("GET", COLLECTION, 200, JSON, page_of(first, tombstone))
    assert any("holds a tombstone" in v for v in with_tombstone)
    feed = f"{COLLECTION}?updated_since={WATERMARK}"
    assert checker.check("GET", feed, 200, JSON, page_of(second, first, tombstone)) == []


def test_declared_page_sizes_stay_within_the_limit_a_request_may_give(checker, document):
    """PS-API-016: limit is 1 to 1000, so no server declares a larger page."""
    capabilities = document["paths"]["/v1/capabilities"]["get"]["responses"]["200"]["content"]["application/json"]
    example = capabilities["example"]
    assert checker.check("GET", "/v1/capabilities", 200, JSON, json.dumps(example).encode()) == []
    larger = {**example, "limits": {**example["limits"], "max_page_size": 5000}}
    violations = checker.check("GET", "/v1/capabilities", 200, JSON, json.dumps(larger).encode())
    assert len(violations) == 1 and "/limits/max_page_size" in violations[0]
    limit = document["components"]["parameters"]["limit"]["schema"]
    assert limit["maximum"] == document["components"]["schemas"]["Capabilities"]["properties"]["limits"][
        "properties"]["max_page_size"]["maximum"]
