"""docs/plugins.md, "Per-event settings" and "Enabling and disabling per event": the code it
shows is the sample plugin's (which the other tests load and run), and the documents it shows
are what the API answers."""

import json
import re
from pathlib import Path

ROOT = Path(__file__).parents[1]
DOCS = (ROOT / "docs" / "plugins.md").read_text()
FENCED = re.compile(r"^```(\w*)\n(.*?)^```$", re.MULTILINE | re.DOTALL)
# A block showing a file of the sample plugin opens with "# [in ]PATH, in tests/plugin_dist":
# the whole file, or with "in", a part of it.
FROM_SAMPLE = re.compile(r"# (in )?(openevent_sample_plugin/[\w/]+\.py), in tests/plugin_dist")


def _blocks(language: str = "") -> list[str]:
    return [body for lang, body in FENCED.findall(DOCS) if lang == language]


def _example(first_line: str) -> tuple[str, dict]:
    """The block opening with ``first_line``: its request line and its JSON body."""
    [body] = [b for b in _blocks() if b.startswith(first_line)]
    head, _, document = body.partition("\n\n")
    return head, json.loads(document)


def test_the_sample_plugins_files_are_shown_as_they_are():
    shown = 0
    for body in _blocks("python"):
        first, _, text = body.partition("\n")
        match = FROM_SAMPLE.fullmatch(first)
        if match:
            source = (ROOT / "tests" / "plugin_dist" / match[2]).read_text()
            assert text in source if match[1] else text == source, match[2]
            shown += 1
    assert shown == 4  # settings.py, lifecycle.py, commands.py and the lines of __init__.py


def test_the_settings_document_is_what_the_api_answers(testapp, event, headers):
    request, expected = _example("GET /v1/events/42/plugins/sample")
    url = request.split()[1].replace("42", str(event.id))
    answer = testapp.get(url, headers=headers).json
    expected["data"]["links"]["self"] = url
    assert answer == expected


def test_the_patch_example_changes_the_setting(testapp, event, headers):
    request, body = _example("PATCH /v1/events/42/plugins/sample")
    url = request.splitlines()[0].split()[1].replace("42", str(event.id))
    answer = testapp.patch_json(url, body, headers=headers).json
    assert answer["data"]["attributes"]["settings"]["welcome-text"] == "Hello, team"


def test_the_invalid_settings_example_is_what_the_api_answers(testapp, event, headers):
    _, expected = _example("422 Unprocessable Entity")
    settings = {"welcome-text": "", "colour": "red"}
    body = {"data": {"type": "event-plugin", "id": "sample", "attributes": {"settings": settings}}}
    answer = testapp.patch_json(
        f"/v1/events/{event.id}/plugins/sample",
        body,
        headers=headers,
        status=422,
    ).json
    assert answer == expected
