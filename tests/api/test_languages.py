import pytest

from openevent.api.languages import _sort_key
from openevent.testing import make_user


def names(document) -> dict[str, str]:
    return {item["id"]: item["attributes"]["name"] for item in document["data"]}


def test_languages_default_to_english_names(testapp):
    response = testapp.get("/v1/languages")
    assert response.content_type == "application/vnd.api+json"
    document = response.json
    english = next(item for item in document["data"] if item["id"] == "en")
    assert english == {
        "type": "language",
        "id": "en",
        "attributes": {"code": "en", "name": "English", "native-name": "English"},
    }
    assert names(document)["de"] == "German"
    assert document["meta"]["count"] == len(document["data"])
    assert document["jsonapi"] == {"version": "1.1"}


def test_the_set_is_two_letter_iso_639_1_codes(testapp):
    codes = [item["id"] for item in testapp.get("/v1/languages").json["data"]]
    assert len(codes) == len(set(codes)) > 150
    assert all(len(code) == 2 and code.isalpha() and code.islower() for code in codes)
    assert {"en", "de", "fr", "zh", "ja", "ar", "hi", "sw"} <= set(codes)


@pytest.mark.parametrize("locale", ["de", "de_DE", "de-DE", "DE-de"])
def test_names_are_in_the_requested_locale(testapp, locale):
    document = testapp.get(f"/v1/languages?locale={locale}").json
    assert names(document)["en"] == "Englisch"
    assert names(document)["fr"] == "Französisch"


def test_brazilian_portuguese(testapp):
    assert names(testapp.get("/v1/languages?locale=pt_BR").json)["de"] == "alemão"


def test_native_names_do_not_depend_on_the_locale(testapp):
    for locale in ("en", "fr"):
        data = testapp.get(f"/v1/languages?locale={locale}").json["data"]
        native = {item["id"]: item["attributes"]["native-name"] for item in data}
        assert native["de"] == "Deutsch"
        assert native["ja"] == "日本語"


def test_sorted_by_name_ignoring_accents(testapp):
    data = testapp.get("/v1/languages?locale=fr").json["data"]
    french = [item["attributes"]["name"] for item in data]
    assert french.index("allemand") < french.index("anglais")
    # "éwé" sorts among the e's, not after "zoulou" where a code point sort would put "é".
    assert french.index("espagnol") < french.index("éwé") < french.index("finnois")


def test_sort_key_ignores_case_and_accents():
    # No CLDR locale mixes capitalised and lower-case names today, so check the key itself.
    names = ["zoulou", "Émilien", "Anglais", "allemand", "espagnol"]
    assert sorted(names, key=_sort_key) == ["allemand", "Anglais", "Émilien", "espagnol", "zoulou"]


@pytest.mark.parametrize("locale", ["xx", "zz_ZZ", "en_XX", "", "12", "de__DE", "root", "de;DE"])
def test_unknown_or_malformed_locale_is_400(testapp, locale):
    response = testapp.get("/v1/languages", {"locale": locale}, status=400)
    assert response.content_type == "application/vnd.api+json"
    (error,) = response.json["errors"]
    assert error["source"] == {"parameter": "locale"}


@pytest.mark.parametrize("query", ["sort=name", "page[size]=10", "filter[code]=en", "lang=de"])
def test_other_query_parameters_are_400(testapp, query):
    response = testapp.get(f"/v1/languages?{query}", status=400)
    assert response.json["errors"][0]["source"] == {"parameter": query.split("=")[0]}


def test_locale_given_twice_is_400(testapp):
    response = testapp.get("/v1/languages?locale=de&locale=fr", status=400)
    assert response.json["errors"][0]["source"] == {"parameter": "locale"}


def test_read_only(testapp, dbsession, login):
    headers = login(make_user(dbsession, is_admin=True))
    response = testapp.post("/v1/languages", headers=headers, status=405)
    assert response.headers["Allow"] == "GET"
