from openevent.config import configure
from openevent.db.migrations import expected_heads


def test_healthz_reports_the_schema_revision(testapp, app_settings):
    body = testapp.get("/healthz", status=200).json
    heads = list(expected_heads(app_settings))
    assert body["status"] == "ok"
    assert body["database"] == {
        "reachable": True,
        "revision": heads,
        "expected_revision": heads,
        "at_head": True,
    }


def test_healthz_tells_an_unmigrated_database(app_settings, empty_database_url):
    import webtest

    app = configure({**app_settings, "sqlalchemy.url": empty_database_url}).make_wsgi_app()
    body = webtest.TestApp(app).get("/healthz", status=200).json
    assert body["database"]["revision"] == []
    assert body["database"]["at_head"] is False


def test_healthz_answers_503_when_the_database_is_unreachable(app_settings, tmp_path):
    import webtest

    unreachable = f"sqlite:///{tmp_path}/missing-folder/db.sqlite"
    app = configure({**app_settings, "sqlalchemy.url": unreachable}).make_wsgi_app()
    body = webtest.TestApp(app).get("/healthz", status=503).json
    assert body["status"] == "unavailable"
    assert body["database"]["reachable"] is False
    assert body["database"]["error"] == "OperationalError"


def test_healthz_does_not_touch_storage(testapp, registry, monkeypatch):
    """A storage outage must not fail the load balancer's probe: /healthz never calls it."""
    from openevent.storage import STORAGE_KEY

    class Unusable:
        def __getattr__(self, name):
            raise AssertionError(f"/healthz used storage.{name}")

    monkeypatch.setitem(registry, STORAGE_KEY, Unusable())
    assert testapp.get("/healthz", status=200).json["status"] == "ok"
