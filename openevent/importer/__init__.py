"""Importing Open Event data: archives read without trusting them (:mod:`.archive`)."""
