"""Fixtures of the command-line tests."""

import pytest

from openevent.cli import main


@pytest.fixture(scope="session")
def audit_plugin(tmp_path_factory, pip_install):
    """The tutorial's plugin, ``audit``, as `openevent plugins new` writes it, and the folder
    pip installed it into (not on this process's sys.path: its tests run in a process of their
    own). Built and installed once per run."""
    root = tmp_path_factory.mktemp("scaffold")
    project = root / "openevent-audit"
    assert main(["plugins", "new", "audit", "--directory", str(project)]) == 0
    site = root / "site-packages"
    pip_install(project, site)
    return project, site
