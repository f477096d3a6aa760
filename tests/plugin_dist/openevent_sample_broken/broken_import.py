"""Fails on import, as a plugin with a missing dependency does."""

import openevent_sample_missing_dependency  # noqa: F401

requires_openevent = ">=0.1"


def includeme(config):
    raise AssertionError("never reached")
