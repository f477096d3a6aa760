from openapi_spec_validator import validate

METHODS = {"get", "post", "patch", "put", "delete"}


def _api_routes(registry):
    routes = {
        r["introspectable"]["name"]: "/" + r["introspectable"]["pattern"].lstrip("/")
        for r in registry.introspector.get_category("routes")
    }
    found = set()
    for item in registry.introspector.get_category("views"):
        view = item["introspectable"]
        pattern = routes.get(view["route_name"])
        if pattern and pattern.startswith("/v1/"):
            methods = view["request_methods"]
            for method in [methods] if isinstance(methods, str) else methods:
                found.add((pattern, method.lower()))
    return found


def test_document_is_valid_openapi_3_1(testapp):
    document = testapp.get("/v1/openapi.json", status=200).json
    assert document["openapi"] == "3.1.0"
    validate(document)


def test_every_route_and_method_is_described(testapp, registry):
    paths = testapp.get("/v1/openapi.json").json["paths"]
    described = {(path, m) for path, ops in paths.items() for m in ops if m in METHODS}
    assert _api_routes(registry) == described


def test_attributes_parameters_and_errors_are_described(testapp):
    document = testapp.get("/v1/openapi.json").json
    schemas = document["components"]["schemas"]
    assert set(schemas["event.attributes"]["properties"]) >= {"starts-at", "timezone", "state"}
    assert schemas["event.attributes"]["properties"]["identifier"]["readOnly"] is True
    assert schemas["event.request"]["properties"]["data"]["properties"]["attributes"]["required"]
    listing = document["paths"]["/v1/events"]["get"]
    assert {p["name"] for p in listing["parameters"]} >= {"filter", "sort", "page", "include"}
    create = document["paths"]["/v1/events"]["post"]
    assert {"201", "401", "415", "422"} <= set(create["responses"])
    login = document["paths"]["/v1/auth/login"]["post"]
    assert "application/json" in login["requestBody"]["content"]
