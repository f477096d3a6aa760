"""Timezone names from real exports: IANA names kept, unambiguous others mapped, the rest
refused with a reason."""

import pytest

from openevent.importer.timezones import UnknownTimezone, iana_timezone


@pytest.mark.parametrize("name", ["Asia/Singapore", "US/Pacific", "UTC", "Europe/Berlin"])
def test_iana_names_are_kept(name):
    assert iana_timezone(name) == (name, False)


@pytest.mark.parametrize(
    ("name", "zone"),
    [
        ("US / Pacific", "US/Pacific"),
        ("asia/singapore", "Asia/Singapore"),
        ("America/New York", "America/New_York"),
        ("Hawaii-Aleutian", "America/Adak"),
        ("Hawaii-Aleutian Standard Time", "America/Adak"),
        ("Pacific Standard Time", "America/Los_Angeles"),
        ("W. Europe Standard Time", "Europe/Berlin"),
        ("India", "Asia/Calcutta"),
    ],
)
def test_unambiguous_names_are_mapped(name, zone):
    assert iana_timezone(name) == (zone, True)


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("Europe_Central", "fits several zones"),
        ("Australia Central", "fits several zones"),
        ("Mars/Olympus_Mons", "unknown timezone"),
        ("", "no timezone"),
        (None, "no timezone"),
        ("   ", "no timezone"),
    ],
)
def test_names_that_cannot_be_mapped_are_refused(name, reason):
    with pytest.raises(UnknownTimezone, match=reason):
        iana_timezone(name)
