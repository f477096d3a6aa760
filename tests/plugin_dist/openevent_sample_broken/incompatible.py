"""Declares a core version range this openevent is not in."""

requires_openevent = ">=99"


def includeme(config):
    raise AssertionError("never reached: incompatible plugins are not included")
