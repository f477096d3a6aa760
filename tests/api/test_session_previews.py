"""``abstract-preview`` is read from its column: lists never parse the abstracts' markup."""

import pytest

from openevent.models import Session, SessionState
from openevent.testing import jsonapi_document, make_session

NESTED = "<p>" + "<b><i>word " * 2000 + "</p>"


def test_a_list_reads_previews_without_parsing_markup(testapp, dbsession, event, monkeypatch):
    for _ in range(20):
        make_session(dbsession, event, short_abstract=NESTED, state=SessionState.ACCEPTED)
    monkeypatch.setattr(
        "openevent.previews.plain_text", lambda markup: pytest.fail("parsed markup on a read")
    )
    data = testapp.get(f"/v1/events/{event.id}/sessions?page[size]=20").json["data"]
    assert len(data) == 20
    assert {len(s["attributes"]["abstract-preview"]) for s in data} == {200}


def test_a_write_through_the_api_stores_the_preview(testapp, dbsession, event, headers):
    body = jsonapi_document(
        "session", {"title": "Talk", "long-abstract": NESTED}, event=("event", event.id)
    )
    created = testapp.post_json("/v1/sessions", body, headers=headers, status=201).json["data"]
    preview = created["attributes"]["abstract-preview"]
    assert preview.startswith("word word") and preview.endswith("…") and len(preview) == 200
    dbsession.expire_all()
    assert dbsession.get(Session, int(created["id"])).abstract_preview == preview


def test_the_preview_is_described_as_read_only_text_of_at_most_200_characters(testapp):
    schema = testapp.get("/v1/openapi.json").json["components"]["schemas"]
    attributes = schema["session.attributes"]["properties"]
    assert attributes["abstract-preview"]["readOnly"] is True
    assert attributes["abstract-preview"]["maxLength"] == 200
