"""Plugins that fail to load, one way each."""
