"""openevent.open_event_format describes every key of the real Open Event exports, names only
attributes that exist, and docs/data-model.md shows exactly its tables."""

import json
from pathlib import Path

import pytest

from openevent import open_event_format
from openevent.open_event_format import FILES, NOT_STORED_FILES, describe, not_stored, part

# Every key path of every file of the two exports in shared/samples/open-event (FOSSASIA
# Summit 2017 and PyCon 2017), as key_paths() lists them: the facts the description must cover.
SAMPLE_KEYS = json.loads((Path(__file__).parent / "data/open_event_sample_keys.json").read_text())
DOC = Path(__file__).parents[1] / "docs" / "data-model.md"
START, END = "<!-- open-event-format: start -->\n", "<!-- open-event-format: end -->"


def key_paths(value, prefix: str = "") -> set[str]:
    """The paths of every key in ``value``, list positions left out."""
    paths: set[str] = set()
    if isinstance(value, list):
        for item in value:
            paths |= key_paths(item, prefix)
    elif isinstance(value, dict):
        for key, item in value.items():
            path = f"{prefix}/{key}" if prefix else key
            paths.add(path)
            paths |= key_paths(item, path)
    return paths


def test_key_paths_leave_out_list_positions():
    document = {"a": [{"b": 1}, {"c": {"d": None}}], "e": []}
    assert key_paths(document) == {"a", "a/b", "a/c", "a/c/d", "e"}


def _sample_paths():
    for sample, files in SAMPLE_KEYS.items():
        for file, paths in files.items():
            for path in paths:
                yield sample, file, path


@pytest.mark.parametrize("sample", sorted(SAMPLE_KEYS))
def test_every_key_of_the_samples_is_described(sample):
    unknown = []
    for file, paths in SAMPLE_KEYS[sample].items():
        if file in NOT_STORED_FILES:
            continue
        for path in paths:
            try:
                describe(file, path)
            except KeyError:
                unknown.append(f"{file}: {path}")
    assert unknown == []


def test_every_described_key_and_spelling_is_in_a_sample():
    seen = {(file, path) for _, file, path in _sample_paths()}
    missing = []
    for p in FILES:
        for key in p.keys:
            for name in (key.key, *key.aliases):
                path = f"{p.path}/{name}" if p.path else name
                if (p.file, path) not in seen:
                    missing.append(f"{p.name}: {name}")
    assert missing == []
    assert set(NOT_STORED_FILES) <= {file for _, file, _ in _sample_paths()}


def test_keys_inside_copies_and_nested_rows_are_found():
    assert describe("sessions", "speakers/short-biography")[1].key == "speakers"
    assert describe("sessions", "track/font-color")[1].copies
    assert describe("event", "social-links")[1].rows == "event/social-links"
    social, key = describe("event", "social-links/link")
    assert (social.model.__name__, key.attribute) == ("SocialLink", "link")
    assert describe("event", "event-copyright/year")[1].attribute == "copyright_year"
    assert describe("event", "version/event_ver")[1].key == "version/event-ver"
    assert describe("event", "event-url")[1].attribute == "external_event_url"
    with pytest.raises(KeyError):
        describe("event", "event-copyright/owner")
    with pytest.raises(KeyError):
        describe("rooms", "name")


def test_stored_keys_name_model_attributes():
    for p in FILES:
        for attribute in p.attributes().values():
            assert hasattr(p.model, attribute), (p.name, attribute)
    assert part("speakers").attributes()["short-biography"] == "short_biography"
    assert part("session_types").attributes()["length"] == "length_minutes"


def test_what_is_not_stored_is_listed_with_a_reason():
    missing = not_stored()
    assert set(missing["speakers"]) == {
        "id",
        "thumbnail-image-url",
        "small-image-url",
        "icon-image-url",
        "gender",
        "mobile",
        "heard-from",
        "speaking-experience",
        "sponsorship-required",
    }
    assert "sessions" not in missing["tracks"]  # a copy: the sessions hold the link
    assert "event-copyright" not in missing["event"]
    assert all(reason for keys in missing.values() for reason in keys.values())


def test_the_docs_show_the_descriptions_tables():
    text = DOC.read_text()
    assert START in text and END in text
    tables = text.split(START, 1)[1].split(END, 1)[0]
    assert tables == open_event_format.markdown(), (
        "docs/data-model.md is behind openevent/open_event_format.py: paste markdown() between"
        " the markers"
    )
