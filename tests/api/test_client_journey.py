"""The issue's "done when", as a client would do it, through the API only."""

from openevent.testing import JSONAPI_HEADERS, jsonapi_document


def test_organizer_builds_an_event_and_a_visitor_reads_it(testapp):
    testapp.post_json(
        "/v1/users",
        jsonapi_document("user", {"email": "org@example.org", "password": "s3cret-passphrase"}),
        headers=JSONAPI_HEADERS,
        status=201,
    )
    token = testapp.post_json(
        "/v1/auth/login", {"email": "org@example.org", "password": "s3cret-passphrase"}
    ).json["access_token"]
    auth = {**JSONAPI_HEADERS, "Authorization": f"Bearer {token}"}

    def post(path, type_, attributes, **relationships):
        body = jsonapi_document(type_, attributes, **relationships)
        return testapp.post_json(path, body, headers=auth, status=201).json["data"]

    def patch(path, type_, id_, attributes, **relationships):
        body = jsonapi_document(type_, attributes, id=id_, **relationships)
        return testapp.patch_json(path, body, headers=auth, status=200).json["data"]

    event = post(
        "/v1/events",
        "event",
        {
            "name": "PyCon 2017",
            "timezone": "America/Los_Angeles",
            "starts-at": "2017-05-17T09:00",
            "ends-at": "2017-05-25T18:00",
        },
    )
    assert event["attributes"]["starts-at"] == "2017-05-17T09:00:00-07:00"
    event_link = ("event", event["id"])

    tickets = [
        post("/v1/tickets", "ticket", {"name": name, "price": price}, event=event_link)
        for name, price in (
            ("Student", "100.00"),
            ("Individual", "400.00"),
            ("Corporate", "700.00"),
        )
    ]
    patch(f"/v1/tickets/{tickets[2]['id']}", "ticket", tickets[2]["id"], {"position": 1})

    speaker = post("/v1/speakers", "speaker", {"name": "Guido van Rossum"}, event=event_link)
    session = post(
        "/v1/sessions",
        "session",
        {
            "title": "Keynote",
            "state": "confirmed",
            "short-abstract": "<p>Python <script>alert(1)</script>at 26</p>",
            "starts-at": "2017-05-19T09:30",
            "ends-at": "2017-05-19T10:15",
        },
        event=event_link,
        speakers=[("speaker", speaker["id"])],
    )
    assert "<script>" not in session["attributes"]["short-abstract"]
    draft = post("/v1/sessions", "session", {"title": "Unreviewed"}, event=event_link)

    testapp.delete(f"/v1/sessions/{session['id']}", headers=auth, status=204)
    trashed = testapp.get(
        f"/v1/events/{event['id']}/sessions?filter[trashed]=only", headers=auth
    ).json["data"]
    assert [s["id"] for s in trashed] == [session["id"]]
    patch(f"/v1/sessions/{session['id']}", "session", session["id"], {"deleted-at": None})
    patch(f"/v1/events/{event['id']}", "event", event["id"], {"state": "published"})

    # An anonymous visitor reads it all back.
    public = testapp.get(f"/v1/events/{event['id']}").json["data"]
    assert public["attributes"]["name"] == "PyCon 2017"
    listing = testapp.get(f"/v1/events/{event['id']}/sessions?include=speakers").json
    assert [s["id"] for s in listing["data"]] == [session["id"]]  # the draft stays hidden
    assert draft["id"] not in {s["id"] for s in listing["data"]}
    assert listing["data"][0]["attributes"]["starts-at"] == "2017-05-19T09:30:00-07:00"
    assert listing["data"][0]["attributes"]["abstract-preview"] == "Python at 26"
    assert [s["attributes"]["name"] for s in listing["included"]] == ["Guido van Rossum"]
    ticket_names = [
        t["attributes"]["name"]
        for t in testapp.get(f"/v1/events/{event['id']}/tickets").json["data"]
    ]
    assert ticket_names == ["Corporate", "Student", "Individual"]

    # Bad input along the way is answered, not crashed on.
    bad = jsonapi_document(
        "session",
        {"starts-at": "2017-05-19T11:00", "ends-at": "2017-05-19T10:00"},
        id=session["id"],
    )
    error = testapp.patch_json(f"/v1/sessions/{session['id']}", bad, headers=auth, status=422).json[
        "errors"
    ][0]
    assert error["source"]["pointer"] == "/data/attributes/ends-at"
