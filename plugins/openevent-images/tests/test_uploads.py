"""POST /v1/events/{id}/uploads/images: who may upload, what is taken, what is answered."""

from io import BytesIO
from urllib.parse import urlsplit

import pytest
from conftest import MAX_BYTES
from pictures import HTML_AS_PNG, SVG, bomb_png, detailed, encode, incompressible_png, jpeg
from PIL import Image

from openevent.models import EventRole, EventState, Role
from openevent.plugins import PLUGINS_KEY, PluginState
from openevent.testing import make_event, make_user


def _url(event) -> str:
    return f"/v1/events/{event.id}/uploads/images"


def test_only_this_plugin_is_loaded(registry):
    plugins = registry[PLUGINS_KEY].values()
    assert [p.name for p in plugins if p.state is PluginState.ACTIVE] == ["images"]


def test_an_upload_is_stored_as_sent_and_described(testapp, event, upload, storage):
    data = jpeg(detailed(640, 480))
    attributes = upload(event, data, "image/jpeg")
    assert (attributes["width"], attributes["height"], attributes["format"]) == (640, 480, "jpeg")
    url = urlsplit(attributes["url"])
    assert (url.scheme, url.netloc) == ("http", "example.com")  # webtest's host
    served = testapp.get(url.path, status=200)
    assert served.body == data
    assert served.content_type == "image/jpeg"
    [stored] = storage.list(f"events/{event.id}/uploads/")
    assert stored.key.endswith("/original.jpg") and stored.public


def test_the_type_comes_from_the_bytes_not_from_the_request(event, upload, storage):
    png = encode(detailed(100, 80), "PNG")
    attributes = upload(event, png, "image/jpeg")  # mislabelled, still a PNG
    assert attributes["format"] == "png"
    [stored] = storage.list(f"events/{event.id}/uploads/")
    assert (stored.key.rsplit(".", 1)[1], stored.content_type) == ("png", "image/png")


def test_a_multipart_form_with_one_file(testapp, event, auth):
    data = encode(detailed(300, 200), "WEBP")
    response = testapp.post(
        _url(event), upload_files=[("file", "photo.webp", data)], headers=auth, status=201
    )
    assert response.json["data"]["attributes"]["format"] == "webp"
    assert response.content_type == "application/vnd.api+json"


@pytest.mark.parametrize(
    "files",
    [[], [("file", "a.jpg", b"x"), ("file", "b.jpg", b"y")], [("other", "a.jpg", b"x")]],
    ids=["none", "two", "misnamed"],
)
def test_a_form_without_exactly_one_file_is_refused(testapp, event, auth, files):
    fields = [("note", "hello")] if not files else []
    response = testapp.post(
        _url(event),
        fields,
        upload_files=files,
        content_type="multipart/form-data",
        headers=auth,
        status=422,
    )
    assert response.json["errors"][0]["status"] == "422"


@pytest.mark.parametrize(
    ("data", "content_type", "status"),
    [
        (HTML_AS_PNG, "image/png", 415),
        (SVG, "image/svg+xml", 415),
        (jpeg(detailed(400, 300))[:2000], "image/jpeg", 422),
        (bomb_png(), "image/png", 422),
        (b'{"data": {}}', "application/vnd.api+json", 415),
        (b"GIF89a", "text/plain", 415),
    ],
    ids=["html-as-png", "svg", "truncated", "bomb", "json", "text"],
)
def test_what_is_not_an_image_is_refused_and_nothing_is_stored(
    testapp, event, auth, storage, data, content_type, status
):
    response = testapp.post(
        _url(event), data, headers={**auth, "Content-Type": content_type}, status=status
    )
    [error] = response.json["errors"]
    assert error["status"] == str(status)
    assert storage.list("") == []


def test_html_in_a_form_is_refused_too(testapp, event, auth, storage):
    testapp.post(
        _url(event), upload_files=[("file", "cat.png", HTML_AS_PNG)], headers=auth, status=415
    )
    assert storage.list("") == []


@pytest.mark.usefixtures("jpeg_and_png_only")
def test_only_the_formats_of_the_setting_are_taken(testapp, event, auth, upload, storage):
    assert upload(event, jpeg(detailed(64, 48)), "image/jpeg")["format"] == "jpeg"
    assert upload(event, encode(detailed(64, 48), "PNG"), "image/png")["format"] == "png"
    assert len(storage.list("")) == 2
    gif = encode(detailed(64, 48), "GIF")
    response = testapp.post(
        _url(event), gif, headers={**auth, "Content-Type": "image/gif"}, status=415
    )
    [error] = response.json["errors"]
    assert error["status"] == "415"
    assert error["detail"] == "the file is not a JPEG or PNG image but a GIF one"
    webp = encode(detailed(64, 48), "WEBP")
    testapp.post(_url(event), upload_files=[("file", "a.webp", webp)], headers=auth, status=415)
    assert len(storage.list("")) == 2


def test_uploads_larger_than_json_bodies_get_through(event, upload, registry):
    # The app refuses other bodies over 1 MiB: this route declares a limit of its own.
    assert registry.settings["openevent.api.max_body_bytes"] < 2 * 1024 * 1024
    data = incompressible_png(900)  # about 2.4 MB
    assert 2 * 1024 * 1024 < len(data) < MAX_BYTES
    assert upload(event, data, "image/png")["width"] == 900


def test_files_over_the_setting_are_413(testapp, event, auth, storage):
    # Over images.max_bytes but within the route's limit (which leaves room for a form): the
    # view's 413; over the route's limit: refused before any view runs.
    for size in (MAX_BYTES + 1, MAX_BYTES + 1024 * 1024):
        body = b"\xff\xd8\xff" + b"\x00" * (size - 3)
        response = testapp.post(
            _url(event), body, headers={**auth, "Content-Type": "image/jpeg"}, status=413
        )
        assert response.json["errors"][0]["code"] == "payload-too-large"
    assert storage.list("") == []


def test_json_routes_keep_the_1_mib_limit(testapp, event, headers):
    body = b'{"data": {"type": "event", "attributes": {"name": "' + b"x" * 1_100_000 + b'"}}}'
    testapp.patch(f"/v1/events/{event.id}", body, headers=headers, status=413)


def test_authorisation_is_the_team_s(testapp, dbsession, token_for, event, owner, storage):
    data = jpeg(detailed(64, 64))
    image = {"Content-Type": "image/jpeg"}
    testapp.post(_url(event), data, headers=image, status=401)
    outsider = make_user(dbsession, password=None)
    testapp.post(_url(event), data, headers={**image, **token_for(outsider)}, status=403)
    draft = make_event(dbsession, owner=owner, state=EventState.DRAFT)
    testapp.post(_url(draft), data, headers={**image, **token_for(outsider)}, status=404)
    testapp.post("/v1/events/999999/uploads/images", data, headers=token_for(owner), status=404)
    assert storage.list("") == []
    coorganizer = make_user(dbsession, password=None)
    dbsession.add(EventRole(event=event, user=coorganizer, role=Role.COORGANIZER))
    dbsession.flush()
    testapp.post(_url(event), data, headers={**image, **token_for(coorganizer)}, status=201)


def test_turned_off_for_an_event_the_route_is_404(testapp, event, headers, auth):
    off = {"type": "event-plugin", "id": "images", "attributes": {"enabled": False}}
    testapp.patch_json(f"/v1/events/{event.id}/plugins", {"data": [off]}, headers=headers)
    data = jpeg(detailed(64, 64))
    testapp.post(_url(event), data, headers={**auth, "Content-Type": "image/jpeg"}, status=404)


def test_the_route_is_described_in_the_openapi_document(testapp):
    document = testapp.get("/v1/openapi.json").json
    operation = document["paths"]["/v1/events/{id}/uploads/images"]["post"]
    assert set(operation["requestBody"]["content"]) == {"multipart/form-data", "image/*"}
    assert {"201", "401", "403", "404", "413", "415", "422"} <= set(operation["responses"])


def test_a_stored_upload_decodes_as_the_image_sent(testapp, event, upload):
    attributes = upload(event, encode(detailed(120, 90), "GIF"), "image/gif")
    served = testapp.get(urlsplit(attributes["url"]).path).body
    assert Image.open(BytesIO(served)).size == (120, 90)


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("multipart/form-data", b"no boundary given"),
        ("multipart/form-data; boundary=xyz", b"not a form at all"),
        ("multipart/form-data; boundary=xyz", b"--xyz\r\nContent-Disposition: form-data\r\n\r\n"),
        (
            "multipart/form-data; boundary=xyz",
            b'--xyz\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n\r\nabc',
        ),
    ],
    ids=["no-boundary", "garbage", "nameless-part", "unterminated"],
)
def test_malformed_forms_are_a_4xx(testapp, event, auth, storage, content_type, body):
    response = testapp.post(
        _url(event), body, headers={**auth, "Content-Type": content_type}, expect_errors=True
    )
    assert 400 <= response.status_int < 500, response.text
    assert storage.list("") == []
