"""openevent.api.plugin is the API machinery's promise to plugins: every name it exports is
documented in docs/plugins.md, whose code is the sample plugin's real code, and plugins use the
machinery through it alone."""

import ast
import re
from pathlib import Path

import pytest

import openevent.api.plugin

ROOT = Path(__file__).parents[2]
DOCS = ROOT / "docs" / "plugins.md"
SAMPLE = ROOT / "tests" / "plugin_dist" / "openevent_sample_plugin"
# A marker, then the fenced block that shows the whole file it names.
SHOWN = re.compile(r"^<!-- sample-plugin: (\S+) -->\n```python\n(.*?)^```$", re.M | re.S)
PLUGIN_SOURCES = sorted(
    [*SAMPLE.rglob("*.py"), *(ROOT / "plugins").glob("*/openevent_*/**/*.py")],
    key=str,
)


def test_the_tutorial_shows_the_sample_plugins_files_as_they_are():
    shown = SHOWN.findall(DOCS.read_text())
    assert {name for name, _ in shown} == {
        "resources.py",
        "models.py",
        "subscribers.py",
        "jobs.py",
        "uploads.py",
    }
    for name, text in shown:
        assert text == (SAMPLE / name).read_text(), f"docs/plugins.md shows another {name}"


def test_every_name_of_the_api_is_importable_and_documented():
    docs = DOCS.read_text()
    names = openevent.api.plugin.__all__
    assert len(set(names)) == len(names)
    for name in names:
        assert hasattr(openevent.api.plugin, name), name
        assert re.search(rf"`{name}\b", docs), f"docs/plugins.md does not mention {name}"


@pytest.mark.parametrize("path", PLUGIN_SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_plugins_use_the_api_machinery_through_the_public_module_only(path):
    imported = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module)
        elif isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
    private = {m for m in imported if m.startswith("openevent.api") and m != "openevent.api.plugin"}
    assert not private


def test_a_resource_type_cannot_be_registered_twice():
    from openevent.api.program import session_resource
    from openevent.api.resources import RESOURCES

    assert openevent.api.plugin.register(session_resource) is session_resource  # the same: fine
    impostor = openevent.api.plugin.Resource(
        type="session", model=session_resource.model, path="/v1/talks", fields={}
    )
    with pytest.raises(ValueError, match="resource type 'session' is already registered"):
        openevent.api.plugin.register(impostor)
    assert RESOURCES["session"] is session_resource


@pytest.mark.parametrize("name", ["type", "id"])
def test_attributes_cannot_take_the_names_json_api_reserves(name):
    from openevent.api.program import session_resource

    with pytest.raises(ValueError, match="JSON:API reserves"):
        openevent.api.plugin.Resource(
            type="talk",
            model=session_resource.model,
            path="/v1/talks",
            fields={name: openevent.api.plugin.String()},
        )
