"""Sorting names as their readers expect, whatever their case and accents.

Python's ``sorted`` orders by code point: "Zulu" before "apple", "Émile" after "zebra". The
Unicode Collation Algorithm (here pyuca, pure Python, with the standard's default table)
compares letters first and looks at accents, then case, only to break ties, in the same order
for every language; the site needs no locale-specific tailoring to sort a handful of names.
"""

from collections.abc import Iterable, Mapping
from functools import cache

import pyuca
from jinja2 import pass_environment


@cache
def _collator() -> pyuca.Collator:
    # Loads the default table (a fifth of a second): once per process, on first use.
    return pyuca.Collator()


def collation_key(text: str) -> tuple:
    """The sort key of ``text``: case and accents count only where the letters are equal."""
    return _collator().sort_key(text)


@pass_environment
def collatesort(environment, value: Mapping | Iterable, attribute: str | None = None) -> list:
    """Jinja filter: a mapping's ``(key, value)`` items ordered by value (as Jinja's
    ``dictsort(by="value")`` orders them, but collated), or an iterable's items ordered by
    themselves or by their ``attribute``."""
    if isinstance(value, Mapping):
        return sorted(value.items(), key=lambda item: (collation_key(str(item[1])), item[0]))

    def key(item):
        shown = item if attribute is None else environment.getattr(item, attribute)
        return collation_key(str(shown))

    return sorted(value, key=key)
