"""Timezone names found in real exports, mapped to IANA names where the mapping is unambiguous.

Open Event files carry what organizers typed or older servers wrote: ``US/Pacific`` (an IANA
alias, kept), ``US / Pacific`` (spacing), ``asia/singapore`` (case), Windows names
(``Pacific Standard Time``) and CLDR's names for a zone's time (``Hawaii-Aleutian``). Each is
looked up in that order; a name that fits several zones with different rules (CLDR's
``Australia_Central``: Darwin keeps no summer time, Adelaide does), or none, raises
:class:`UnknownTimezone`, since every time of the event would be read wrong.
"""

import re

import pytz
from babel.core import get_global


class UnknownTimezone(ValueError):
    """No IANA timezone can be told from the name."""


def _squashed(name: str) -> str:
    """Lowercase, without spaces, hyphens, underscores and a trailing "(standard) time"."""
    name = re.sub(r"\s*(standard\s+)?time$", "", name.strip(), flags=re.IGNORECASE)
    return re.sub(r"[\s_\-]+", "", name).lower()


def _tables() -> tuple[dict, dict, dict]:
    iana = {zone.lower(): zone for zone in pytz.all_timezones}
    windows = {_squashed(name): zone for name, zone in get_global("windows_zone_mapping").items()}
    metazones: dict[str, set[str]] = {}
    for zone, metazone in get_global("meta_zones").items():
        if zone in pytz.all_timezones_set:
            metazones.setdefault(_squashed(metazone), set()).add(zone)
    return iana, windows, metazones


_IANA, _WINDOWS, _METAZONES = _tables()


def iana_timezone(name: str) -> tuple[str, bool]:
    """The IANA name for ``name``, and whether it was mapped (False: ``name`` is one already)."""
    if not isinstance(name, str) or not name.strip():
        raise UnknownTimezone("the event has no timezone")
    if name in pytz.all_timezones_set:
        return name, False
    spaced = re.sub(r"\s*/\s*", "/", name.strip()).replace(" ", "_").lower()
    if spaced in _IANA:
        return _IANA[spaced], True
    squashed = _squashed(name)
    if squashed in _WINDOWS:
        return _WINDOWS[squashed], True
    zones = _METAZONES.get(squashed, set())
    if len(zones) == 1:
        return next(iter(zones)), True
    if zones:
        raise UnknownTimezone(
            f"timezone {name!r} fits several zones ({', '.join(sorted(zones)[:5])}, ...); "
            "give an IANA name such as 'Europe/Berlin'"
        )
    raise UnknownTimezone(f"unknown timezone {name!r}; give an IANA name such as 'Europe/Berlin'")
