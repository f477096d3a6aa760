"""What is refused before Pyramid reads a request: URLs that are not UTF-8, control characters in
query strings, bodies over the limit. Through webtest, and through a real waitress server, whose
own answers to what it cannot parse are plain text (docs/api.md lists them)."""

import socket
from contextlib import suppress
from io import BytesIO

import orjson
import pytest
from webtest.http import StopableWSGIServer

MEDIA_TYPE = "application/vnd.api+json"
UNDECODABLE = [
    "/v1/events/%ff",
    "/v1/%ff%fe",
    "/v1/events?filter[name]=%ff",
    "/v1/events?filter%ff=1",
    "/v1/events?filter[name]=%C3",
    "/v1/events?filter[name]=%ED%A0%80",  # a surrogate, which UTF-8 does not encode
    "/healthz/%ff",
    "/%ff",
]


@pytest.mark.parametrize("url", UNDECODABLE)
def test_undecodable_urls_are_a_jsonapi_400(testapp, url):
    response = testapp.get(url, status=400)
    assert response.content_type == MEDIA_TYPE
    assert response.json["errors"][0]["code"] == "bad-request"
    assert "UTF-8" in response.json["errors"][0]["detail"]


def call(wsgi_app, **environ) -> tuple[str, dict]:
    """Call the app with a WSGI environ as a server other than webtest may build it."""
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/v1/events",
        "SERVER_NAME": "example.com",
        "SERVER_PORT": "80",
        "wsgi.url_scheme": "http",
        "wsgi.input": BytesIO(),
        **environ,
    }
    statuses = []
    chunks = wsgi_app(environ, lambda status, headers: statuses.append(status))
    return statuses[0], orjson.loads(b"".join(chunks))


def test_raw_non_utf8_bytes_in_a_url_are_a_400(wsgi_app):
    # Not percent-encoded: PEP 3333 servers hand them on as Latin-1 characters (waitress
    # refuses them itself).
    for environ in [{"QUERY_STRING": "filter[name]=\xff"}, {"PATH_INFO": "/v1/events/\xff"}]:
        status, document = call(wsgi_app, **environ)
        assert status.startswith("400")
        assert "UTF-8" in document["errors"][0]["detail"]


def test_a_body_without_a_length_is_read_up_to_the_limit(wsgi_app, registry, db_connection):
    limit = registry.settings["openevent.api.max_body_bytes"]

    def post(body: bytes):
        stream = BytesIO(body)
        answer = call(
            wsgi_app,
            REQUEST_METHOD="POST",
            PATH_INFO="/v1/auth/login",
            CONTENT_TYPE="application/json",
            # A server that passes a chunked body on as a stream says so with this key.
            **{"wsgi.input": stream, "wsgi.input_terminated": True},
        )
        return (*answer, stream.tell())

    status, document, read = post(b" " * (4 * limit))
    assert status.startswith("413")
    assert document["errors"][0]["code"] == "payload-too-large"
    assert read == limit + 1
    # Under the limit the body reaches the view, as with a Content-Length.
    status, document, _ = post(orjson.dumps({"email": "ada@example.org", "password": "wrong"}))
    assert status.startswith("401")


@pytest.mark.parametrize(
    ("length", "status"), [("9" * 5000, "413"), ("abc", "400"), ("-1", "400"), ("²", "400")]
)
def test_odd_content_lengths_that_reach_the_app_are_4xx(wsgi_app, db_connection, length, status):
    # waitress refuses the last three itself; other servers may hand them on.
    answer, document = call(
        wsgi_app,
        REQUEST_METHOD="POST",
        PATH_INFO="/v1/auth/login",
        CONTENT_TYPE="application/json",
        CONTENT_LENGTH=length,
        **{"wsgi.input": BytesIO(b"{}")},
    )
    assert answer.startswith(status)
    assert document["errors"][0]["status"] == status


# A real server


@pytest.fixture(scope="module")
def server(wsgi_app):
    """waitress, as pserve runs it with the shipped ini files' max_request_body_size, here
    scaled to the app's 1 MiB limit: 2 MiB."""
    # Listening once created; not server.wait(), whose probe leaves its connection open.
    server = StopableWSGIServer.create(wsgi_app, max_request_body_size=2 * 1024 * 1024)
    yield server
    server.shutdown()


def exchange(server, request: bytes) -> tuple[int, str, bytes]:
    """Send ``request`` as it is; the status, content type and body of the answer."""
    received = b""
    with socket.create_connection((server.adj.host, server.adj.port), timeout=10) as sock:
        # A server that refuses a request may close before reading all of it: what it
        # answered first is the answer.
        with suppress(ConnectionError):
            sock.sendall(request)
            sock.shutdown(socket.SHUT_WR)
        with suppress(ConnectionError):
            while chunk := sock.recv(65536):
                received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), headers.get("Content-Type", ""), body


def request(method: str, target: str, headers: dict | None = None, body: bytes = b"") -> bytes:
    lines = [f"{method} {target} HTTP/1.1", "Host: example.com", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    return "\r\n".join(lines).encode("latin-1") + b"\r\n\r\n" + body


def chunked(body: bytes, size: int = 65536) -> bytes:
    parts = [body[i : i + size] for i in range(0, len(body), size)]
    return b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in parts) + b"0\r\n\r\n"


@pytest.mark.parametrize("url", UNDECODABLE)
def test_the_server_answers_undecodable_urls_with_jsonapi(server, url):
    status, content_type, body = exchange(server, request("GET", url))
    assert (status, content_type) == (400, MEDIA_TYPE)
    assert orjson.loads(body)["errors"][0]["status"] == "400"


def test_the_server_answers_nul_in_a_query_string_with_jsonapi(server):
    status, content_type, body = exchange(server, request("GET", "/v1/events?filter[name]=%00"))
    assert (status, content_type) == (400, MEDIA_TYPE)
    assert orjson.loads(body)["errors"][0]["source"] == {"parameter": "filter[name]"}


def test_bodies_over_the_apps_limit_get_the_apps_413(server, registry):
    limit = registry.settings["openevent.api.max_body_bytes"]
    body = b"x" * (limit + 1)
    headers = {"Content-Type": MEDIA_TYPE}
    # With a Content-Length, and chunked: waitress gives the app the length it counted.
    for extra, sent in [
        ({"Content-Length": str(len(body))}, body),
        ({"Transfer-Encoding": "chunked"}, chunked(body)),
    ]:
        answer = exchange(server, request("POST", "/v1/events", {**headers, **extra}, sent))
        status, content_type, document = answer
        assert (status, content_type) == (413, MEDIA_TYPE)
        assert orjson.loads(document)["errors"][0]["code"] == "payload-too-large"


def test_what_waitress_answers_itself_in_plain_text(server):
    """The cases docs/api.md lists: the app never sees these requests."""
    over = b"x" * (2 * 1024 * 1024 + 1)
    cases = [
        # Refused once the headers are read: the body is not sent.
        (request("POST", "/v1/events", {"Content-Length": str(len(over))}), 413),
        (request("POST", "/v1/events", {"Transfer-Encoding": "chunked"}, chunked(over)), 413),
        (request("POST", "/v1/events", {"Content-Length": "abc"}, b"{}"), 400),
        (request("POST", "/v1/events", {"Content-Length": "-1"}, b"{}"), 400),
        (request("POST", "/v1/events", {"Transfer-Encoding": "gzip"}, b"{}"), 501),
        (request("POST", "/v1/events", {"Transfer-Encoding": "chunked"}, b"zz\r\n\r\n"), 400),
        (request("GET", "/v1/events", {"X-Padding": "x" * 300_000}), 431),
        (request("GET", "/v1/events/\xff"), 400),
        (request("GET", "/v1/events?filter[name]=\xff"), 400),
    ]
    for raw, expected in cases:
        status, content_type, _ = exchange(server, raw)
        assert (status, content_type.split(";")[0]) == (expected, "text/plain")


# Routes with a body limit of their own (config.add_route_body_limit): the sample plugin's
# agenda upload takes 4 MiB.

AGENDA_LIMIT = 4 * 1024 * 1024


def _agenda(event) -> str:
    return f"/v1/events/{event.id}/sample-agenda"


def test_a_route_takes_bodies_up_to_its_own_limit(testapp, event, headers, memory_storage):
    pdf = {"Authorization": headers["Authorization"], "Content-Type": "application/pdf"}
    body = b"%PDF-1.7\n" + b"x" * (AGENDA_LIMIT - 9)
    response = testapp.put(_agenda(event), body, headers=pdf, status=201)
    assert response.json["meta"]["size"] == AGENDA_LIMIT
    assert memory_storage.open(f"sample/{event.id}/agenda.pdf").read() == body
    response = testapp.put(_agenda(event), body + b"x", headers=pdf, status=413)
    assert response.json["errors"][0]["detail"] == f"the body is larger than {AGENDA_LIMIT} bytes"


def test_other_routes_keep_the_apps_limit(testapp, event, headers, registry):
    limit = registry.settings["openevent.api.max_body_bytes"]
    assert limit < AGENDA_LIMIT
    body = b"x" * (limit + 1)
    # Another method on the same path is another route match: the PATCH of the event is not it.
    testapp.patch(f"/v1/events/{event.id}", body, headers=headers, status=413)
    testapp.post(f"/v1/events/{event.id}/sample-agenda/extra", body, headers=headers, status=413)


def test_a_body_without_a_length_is_read_up_to_the_routes_limit(wsgi_app, event, db_connection):
    def put(body: bytes):
        stream = BytesIO(body)
        answer = call(
            wsgi_app,
            REQUEST_METHOD="PUT",
            PATH_INFO=_agenda(event),
            CONTENT_TYPE="application/pdf",
            **{"wsgi.input": stream, "wsgi.input_terminated": True},
        )
        return (*answer, stream.tell())

    status, _, read = put(b"x" * (2 * AGENDA_LIMIT))
    assert status.startswith("413")
    assert read == AGENDA_LIMIT + 1
    # Within the limit, the body reaches the route (which wants a token).
    status, document, _ = put(b"x" * (2 * 1024 * 1024))
    assert status.startswith("401")
    assert document["errors"][0]["status"] == "401"


def test_the_directive_checks_its_limit_and_refuses_a_second_one(app_settings):
    from pyramid.config import Configurator
    from pyramid.exceptions import ConfigurationConflictError, ConfigurationError

    from openevent import request_body

    config = Configurator(settings={"openevent.api.max_body_bytes": 1024})
    config.include(request_body)
    for bad in (0, -1, 2.5, True, "1024"):
        with pytest.raises(ConfigurationError, match="must be a positive number of bytes"):
            config.add_route_body_limit("uploads", bad)
    config.add_route_body_limit("uploads", 2048)
    config.add_route_body_limit("uploads", 4096)
    with pytest.raises(ConfigurationConflictError):
        config.commit()


def test_the_files_of_a_form_are_closed_when_the_request_is_done(testapp, headers):
    # WebOb spools a form's files to temporary files; the request, freed only by the garbage
    # collector, would leave them open until then (a ResourceWarning at some later moment).
    response = testapp.post(
        "/v1/events/import",
        upload_files=[("file", "export.zip", b"not a zip" * 2000)],
        headers={"Authorization": headers["Authorization"]},
        status=422,
    )
    fields, _ = response.request.environ["webob._parsed_post_vars"]
    [upload] = fields.getall("file")
    assert upload.file.closed
