"""``GET /`` names the server and its version and links the API description and health check."""

import pytest

from openevent import __version__


def _follow(testapp, path: str) -> None:
    assert testapp.get(path).status_int == 200


@pytest.mark.parametrize(
    "accept", [None, "*/*", "text/html", "text/html,application/xhtml+xml,*/*;q=0.8", "image/png"]
)
def test_a_browser_gets_a_page(testapp, accept):
    headers = {"Accept": accept} if accept else {}
    response = testapp.get("/", headers=headers, status=200)
    assert response.content_type == "text/html"
    assert response.headers["Vary"] == "Accept"
    assert f"<h1>openevent {__version__}</h1>" in response.text
    links = [a.attrs["href"] for a in response.html.find_all("a")]
    assert links == ["/v1/openapi.json", "/healthz"]
    for link in links:
        _follow(testapp, link)


@pytest.mark.parametrize(
    "accept",
    [
        "application/json",
        "application/vnd.api+json",
        "application/json;q=1, text/html;q=0.5",
    ],
)
def test_a_client_asking_for_json_gets_the_same_facts(testapp, accept):
    response = testapp.get("/", headers={"Accept": accept}, status=200)
    assert response.content_type == accept.split(",")[0].split(";")[0]
    assert response.json == {
        "jsonapi": {"version": "1.1"},
        "meta": {"name": "openevent", "version": __version__, "health": "/healthz"},
        "links": {"self": "/", "describedby": "/v1/openapi.json"},
    }
    _follow(testapp, response.json["links"]["describedby"])
    _follow(testapp, response.json["meta"]["health"])


def test_head_answers_without_a_body(testapp):
    response = testapp.head("/", status=200)
    assert response.content_type == "text/html" and response.body == b""


def test_links_follow_the_mount_point(testapp):
    # Behind a proxy that mounts the app under a path, the links keep it.
    response = testapp.get("/", extra_environ={"SCRIPT_NAME": "/events"}, status=200)
    links = [a.attrs["href"] for a in response.html.find_all("a")]
    assert links == ["/events/v1/openapi.json", "/events/healthz"]
