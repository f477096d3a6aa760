"""openevent.testing, the pytest plugin that plugins' test suites use too."""

import logging
import re

from _pytest.fixtures import FixtureFunctionDefinition

import openevent.testing
from openevent.testing import PLUGINS_INI


def test_the_fixture_list_names_every_fixture_and_nothing_else():
    doc = openevent.testing.__doc__
    fixtures_section = doc.split("\nFixtures")[1].split("\nHelpers")[0]
    # Each bullet opens with its fixtures' names: "- ``tm`` / ``dbsession``: ..."
    listed = {
        name
        for bullet in re.findall(r"^- (.*?):", fixtures_section, re.MULTILINE)
        for name in re.findall(r"``(\w+)``", bullet)
    }
    defined = {
        name
        for name, value in vars(openevent.testing).items()
        if isinstance(value, FixtureFunctionDefinition) and not name.startswith("_")
    }
    assert listed == defined


def test_the_helpers_named_are_importable_and_are_not_fixtures():
    helpers = openevent.testing.__doc__.split("\nHelpers")[1]
    for name in re.findall(r"``(\w+)", helpers):
        value = getattr(openevent.testing, name)
        assert not isinstance(value, FixtureFunctionDefinition), name


def test_run_jobs_leaves_the_broker_as_it_found_it(broker, run_jobs, caplog):
    middleware = list(broker.middleware)
    with caplog.at_level(logging.WARNING, logger="dramatiq"):
        run_jobs()
        run_jobs()
    # Each Dramatiq worker adds a middleware of its own to the broker; left there, the next
    # worker's is a duplicate that Dramatiq warns about, and a queue declared later would
    # start consumers for workers long stopped.
    assert broker.middleware == middleware
    assert not [r for r in caplog.records if "same type twice" in r.getMessage()]


def test_the_openevent_plugins_ini_option_names_the_plugins_the_app_loads(pytester):
    # A plugin's suite, as `openevent plugins new` writes its pyproject.toml.
    pytester.makepyprojecttoml(
        f'[tool.pytest.ini_options]\n{PLUGINS_INI} = ["sample", "versions"]\n'
    )
    pytester.makepyfile(
        test_plugins_ini_option="""
        def test_settings(app_settings):
            assert app_settings["openevent.plugins"] == "sample versions"
        """
    )
    pytester.runpytest_inprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_without_the_option_the_app_loads_every_installed_plugin(app_settings):
    assert "openevent.plugins" not in app_settings
