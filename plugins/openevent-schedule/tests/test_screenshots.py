"""The screenshot folder is named at the end of a run that saved screenshots, and only then."""

from pathlib import Path

import pytest

CONFTEST = Path(__file__).with_name("conftest.py")

A_PAGE = """
from pathlib import Path


class Page:
    def screenshot(self, path, full_page):
        Path(path).write_bytes(b"")
"""


@pytest.fixture
def run(pytester, monkeypatch, tmp_path):
    """``run(test_source)`` runs a test file beside this plugin's conftest; its output's lines."""
    monkeypatch.setenv("OPENEVENT_SCREENSHOTS", str(tmp_path / "shots"))
    pytester.makeconftest(CONFTEST.read_text())

    def _run(source: str) -> list[str]:
        pytester.makepyfile(A_PAGE + source)
        result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
        result.assert_outcomes(passed=1)
        return result.outlines

    return _run


def test_a_run_that_saved_screenshots_names_their_folder(run, tmp_path):
    lines = run("def test_saves(screenshot):\n    screenshot(Page(), 'event')\n")
    assert (tmp_path / "shots" / "event.png").exists()
    assert any(line.strip("-") == " screenshots " for line in lines)
    assert f"Screenshots of the site's pages are in {tmp_path / 'shots'}" in lines


def test_a_run_without_screenshots_names_no_folder(run):
    lines = run("def test_saves_nothing(screenshot):\n    pass\n")
    assert not [line for line in lines if " screenshots " in line or "site's pages" in line]
