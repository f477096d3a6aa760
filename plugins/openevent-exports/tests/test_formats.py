"""Each format, checked against an outside reference: icalendar parses the iCal and xCal
back, the c3voc schemas validate frab XML and JSON, Python's csv and zipfile read the rest."""

import csv
import io
import json
import zipfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import jsonschema
import pytest
import xmlschema
from lxml import etree

from openevent.models import EventState, SessionState
from openevent.testing import make_event, make_session, make_speaker
from openevent_exports.formats import FORMATS, Writing, ical, values
from openevent_exports.formats.xcal import NAMESPACE
from openevent_exports.snapshot import EventNotFound, load_program

VALIDATORS = Path(__file__).resolve().parents[3] / ".." / "shared" / "validators" / "frab"
if not VALIDATORS.is_dir():
    VALIDATORS = Path("/work/shared/validators/frab")
BERLIN = ZoneInfo("Europe/Berlin")


def _write(dbsession, event, format_name, options=None, storage=None, public_url=None) -> bytes:
    fmt = FORMATS[format_name]
    program = load_program(dbsession, event.id, public=fmt.public)
    parsed, errors = fmt.parse_options(options or {})
    assert not errors
    stream = io.BytesIO()
    fmt.write(program, stream, Writing(parsed, base_url=public_url, storage=storage))
    return stream.getvalue()


# The public filter


def test_the_public_program_has_public_scheduled_sessions_and_their_speakers(
    dbsession, event, program
):
    public = load_program(dbsession, event.id, public=True)
    assert [s["title"] for s in public.sessions] == ["Opening keynote", "Late night hacking"]
    assert [s["name"] for s in public.speakers] == ["Ada Lovelace", "Grace Hopper"]
    assert all("email" not in speaker for speaker in public.speakers)
    assert [room["name"] for room in public.rooms] == ["Stage A", "Hall B"]


def test_the_team_program_has_every_session_not_trashed(dbsession, event, program):
    keynote = program["sessions"][0]
    keynote.deleted_at = datetime.now(UTC)
    dbsession.flush()
    team = load_program(dbsession, event.id, public=False)
    titles = [s["title"] for s in team.sessions]
    assert titles == ["Late night hacking", "Rejected talk", "Unscheduled"]
    assert {s["state"] for s in team.sessions} == {SessionState.ACCEPTED, SessionState.REJECTED}
    assert {s["email"] for s in team.speakers} >= {"hidden@example.org"}
    assert "Opening keynote" not in [
        s["title"] for s in load_program(dbsession, event.id, public=True).sessions
    ]


def test_a_draft_event_has_no_public_program(dbsession, event, program):
    event.state = EventState.DRAFT
    dbsession.flush()
    with pytest.raises(EventNotFound):
        load_program(dbsession, event.id, public=True)
    assert load_program(dbsession, event.id, public=False).sessions


def test_no_public_feed_carries_an_email_or_a_private_session(dbsession, event, program):
    for name in ("ical", "xcal", "frab-xml", "frab-json"):
        content = _write(dbsession, event, name).decode()
        assert "example.org" not in content
        assert "Rejected talk" not in content and "Hidden Person" not in content
        assert "Unscheduled" not in content


def test_loading_takes_one_statement_per_table(dbsession, event, count_statements):
    with count_statements() as statements:
        load_program(dbsession, event.id, public=True)
    assert len(statements) == 6
    with count_statements() as statements:
        load_program(dbsession, event.id, public=False)  # session types, sponsors, social links
    assert len(statements) == 9


# iCal


def _berlin_event(dbsession, owner, start: datetime):
    return make_event(
        dbsession,
        owner=owner,
        state=EventState.PUBLISHED,
        timezone="Europe/Berlin",
        starts_at=start,
        ends_at=start + timedelta(days=200),
    )


def test_ical_times_and_timezone_are_right_in_summer_winter_and_across_dst(dbsession, owner):
    event = _berlin_event(dbsession, owner, datetime(2030, 7, 1, tzinfo=UTC))
    times = {
        "July": (datetime(2030, 7, 15, 8, 0, tzinfo=UTC), datetime(2030, 7, 15, 9, 0, tzinfo=UTC)),
        # Europe/Berlin leaves summer time on 2030-10-27 at 03:00 CEST (01:00 UTC).
        "Across": (
            datetime(2030, 10, 27, 0, 0, tzinfo=UTC),
            datetime(2030, 10, 27, 2, 0, tzinfo=UTC),
        ),
        "December": (
            datetime(2030, 12, 10, 8, 0, tzinfo=UTC),
            datetime(2030, 12, 10, 9, 0, tzinfo=UTC),
        ),
    }
    for title, (starts, ends) in times.items():
        make_session(
            dbsession,
            event,
            title=title,
            state=SessionState.CONFIRMED,
            starts_at=starts,
            ends_at=ends,
        )
    calendar = icalendar.Calendar.from_ical(_write(dbsession, event, "ical"))

    [vtimezone] = calendar.walk("VTIMEZONE")
    assert vtimezone["TZID"] == "Europe/Berlin"
    tz = vtimezone.to_tz()
    # The VTIMEZONE's own transitions, against the IANA database.
    for moment in (datetime(2030, 7, 15, 12), datetime(2030, 12, 10, 12), datetime(2031, 3, 1)):
        assert tz.utcoffset(moment) == moment.replace(tzinfo=BERLIN).utcoffset()
    assert tz.utcoffset(datetime(2030, 7, 15, 12)) == timedelta(hours=2)
    assert tz.utcoffset(datetime(2030, 12, 10, 12)) == timedelta(hours=1)

    events = {vevent["SUMMARY"]: vevent for vevent in calendar.walk("VEVENT")}
    assert set(events) == set(times)
    for title, (starts, ends) in times.items():
        vevent = events[title]
        assert vevent["DTSTART"].params["TZID"] == "Europe/Berlin"
        # The same instants, read back (RFC 5545: an ambiguous local time is its first one).
        assert vevent.decoded("DTSTART").astimezone(UTC) == starts
        assert vevent.decoded("DTEND").astimezone(UTC) == ends
        local_start = vevent.decoded("DTSTART").replace(tzinfo=None)
        assert local_start.replace(tzinfo=BERLIN).astimezone(UTC) == starts
    across = events["Across"]
    assert across.decoded("DTSTART").replace(tzinfo=None) == datetime(2030, 10, 27, 2, 0)
    assert across.decoded("DTEND").replace(tzinfo=None) == datetime(2030, 10, 27, 3, 0)
    duration = across.decoded("DTEND").astimezone(UTC) - across.decoded("DTSTART").astimezone(UTC)
    assert duration == timedelta(hours=2)
    assert events["July"].decoded("DTSTART").utcoffset() == timedelta(hours=2)
    assert events["December"].decoded("DTSTART").utcoffset() == timedelta(hours=1)


def test_ical_has_the_sessions_content(dbsession, event, program):
    calendar = icalendar.Calendar.from_ical(
        _write(dbsession, event, "ical", public_url="https://events.example.org")
    )
    keynote = next(e for e in calendar.walk("VEVENT") if e["SUMMARY"] == "Opening keynote")
    assert keynote["LOCATION"] == "Hall B"
    assert keynote["CATEGORIES"].cats == ["Science"]
    assert "Ada Lovelace, Grace Hopper" in keynote["DESCRIPTION"]
    assert "Welcome all" in keynote["DESCRIPTION"] and "<" not in keynote["DESCRIPTION"]
    session_id = program["sessions"][0].id
    assert keynote["URL"] == f"https://events.example.org/v1/sessions/{session_id}"
    modified = program["sessions"][0].last_modified_at.replace(microsecond=0)
    assert keynote.decoded("LAST-MODIFIED") == modified
    assert calendar["VERSION"] == "2.0" and calendar["PRODID"]


def test_ical_uid_is_stable_and_sequence_grows_when_a_session_changes(dbsession, event, program):
    def keynote():
        calendar = icalendar.Calendar.from_ical(_write(dbsession, event, "ical"))
        return next(e for e in calendar.walk("VEVENT") if e["SUMMARY"].startswith("Opening"))

    session = program["sessions"][0]
    # As if created and last changed five minutes ago.
    session.created_at = session.created_at - timedelta(minutes=5)
    dbsession.flush()
    session.last_modified_at = session.created_at  # a change of this column alone keeps it
    dbsession.flush()
    before = keynote()
    session.title = "Opening keynote, revised"
    dbsession.flush()
    after = keynote()
    assert after["UID"] == before["UID"]
    assert after["SEQUENCE"] > before["SEQUENCE"]
    assert after.decoded("LAST-MODIFIED") > before.decoded("LAST-MODIFIED")


# xCal


def _xcal_to_jcal(element) -> list:
    """RFC 6321's XML read back into RFC 7265's jCal, which icalendar parses."""
    tag = etree.QName(element).localname
    properties, components = [], []
    for holder in element:
        kind = etree.QName(holder).localname
        for child in holder:
            if kind == "components":
                components.append(_xcal_to_jcal(child))
                continue
            name = etree.QName(child).localname
            parameters, values, value_type = {}, [], "unknown"
            for part in child:
                part_name = etree.QName(part).localname
                if part_name == "parameters":
                    for parameter in part:
                        texts = [t.text for t in parameter]
                        parameters[etree.QName(parameter).localname] = (
                            texts[0] if len(texts) == 1 else texts
                        )
                    continue
                value_type = part_name
                if part_name == "recur":
                    recur = {}
                    for item in part:
                        recur.setdefault(etree.QName(item).localname, []).append(item.text)
                    values.append({k: v[0] if len(v) == 1 else v for k, v in recur.items()})
                elif part_name == "integer":
                    values.append(int(part.text))
                else:
                    values.append(part.text)
            properties.append([name, parameters, value_type, *values])
    return [tag, properties, components]


def test_xcal_is_the_ical_feed_as_rfc_6321_xml(dbsession, event, program):
    root = etree.fromstring(_write(dbsession, event, "xcal"))
    assert root.tag == f"{{{NAMESPACE}}}icalendar"
    [vcalendar] = root
    assert etree.QName(vcalendar).localname == "vcalendar"
    from_xcal = icalendar.Calendar.from_jcal(_xcal_to_jcal(vcalendar))
    from_ical = icalendar.Calendar.from_ical(_write(dbsession, event, "ical"))
    assert from_xcal.to_ical() == from_ical.to_ical()
    summaries = [str(e["SUMMARY"]) for e in from_xcal.walk("VEVENT")]
    assert summaries == ["Opening keynote", "Late night hacking"]


# frab


def test_frab_xml_is_valid_against_the_c3voc_schema(dbsession, event, program):
    content = _write(dbsession, event, "frab-xml", public_url="https://events.example.org")
    schema = xmlschema.XMLSchema(str(VALIDATORS / "schedule.xml.xsd"))
    schema.validate(content.decode())
    root = etree.fromstring(content)
    days = root.findall("day")
    assert [d.get("date") for d in days] == ["2030-07-01", "2030-07-02", "2030-07-03"]
    # Rooms in the organizers' order on every day.
    assert [r.get("name") for r in days[0].findall("room")] == ["Stage A", "Hall B"]
    # 01:30 after midnight belongs to the evening before, with the day changing at 04:00.
    [late] = days[0].findall("room[@name='Stage A']/event")
    assert late.findtext("title") == "Late night hacking"
    assert late.findtext("start") == "01:30" and late.findtext("duration") == "01:00"
    [keynote] = days[0].findall("room[@name='Hall B']/event")
    persons = keynote.findall("persons/person")
    ada, grace = program["speakers"][:2]
    assert [(p.get("id"), p.text) for p in persons] == [
        (str(ada.id), "Ada Lovelace"),
        (str(grace.id), "Grace Hopper"),
    ]
    assert keynote.findtext("date") == "2030-07-01T09:00:00+02:00"
    assert keynote.findtext("abstract") == "Welcome all"


def test_frab_day_change_hour_is_an_option(dbsession, event, program):
    root = etree.fromstring(_write(dbsession, event, "frab-xml", {"day-change-hour": 0}))
    [late] = root.findall("day[@date='2030-07-02']/room/event")
    assert late.findtext("title") == "Late night hacking"


def test_frab_json_is_valid_against_the_c3voc_schema(dbsession, event, program):
    document = json.loads(_write(dbsession, event, "frab-json"))
    schema = json.loads((VALIDATORS / "schedule.schema.json").read_text())
    jsonschema.validate(
        document, schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    conference = document["schedule"]["conference"]
    assert conference["time_zone_name"] == "Europe/Berlin"
    assert [room["name"] for room in conference["rooms"]] == ["Stage A", "Hall B"]
    day = conference["days"][0]
    assert list(day["rooms"]) == ["Stage A", "Hall B"]
    assert day["day_start"] == "2030-07-01T04:00:00+02:00"
    [keynote] = day["rooms"]["Hall B"]
    assert [p["public_name"] for p in keynote["persons"]] == ["Ada Lovelace", "Grace Hopper"]
    assert keynote["track"] == "Science"


def test_an_empty_program_is_still_a_valid_schedule(dbsession, event):
    schema = xmlschema.XMLSchema(str(VALIDATORS / "schedule.xml.xsd"))
    schema.validate(_write(dbsession, event, "frab-xml").decode())
    json_schema = json.loads((VALIDATORS / "schedule.schema.json").read_text())
    jsonschema.validate(json.loads(_write(dbsession, event, "frab-json")), json_schema)


# CSV


def test_csv_has_sessions_and_speakers_with_bom_and_joined_speakers(dbsession, event, program):
    archive = zipfile.ZipFile(io.BytesIO(_write(dbsession, event, "csv")))
    assert sorted(archive.namelist()) == ["sessions.csv", "speakers.csv"]
    raw = archive.read("sessions.csv")
    assert raw.startswith(b"\xef\xbb\xbf")
    sessions = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert len(sessions) == 4  # the team's: every session not trashed
    keynote = next(row for row in sessions if row["title"] == "Opening keynote")
    assert keynote["speakers"] == "Ada Lovelace; Grace Hopper"
    assert keynote["microlocation"] == "Hall B" and keynote["track"] == "Science"
    assert keynote["starts-at"] == "2030-07-01T09:00:00+02:00"
    assert keynote["short-abstract"] == "Welcome all"
    speakers = list(csv.DictReader(io.StringIO(archive.read("speakers.csv").decode("utf-8-sig"))))
    grace = next(row for row in speakers if row["name"] == "Grace Hopper")
    assert grace["sessions"] == "Opening keynote; Late night hacking"
    assert grace["email"] == "grace@example.org"


# Open Event


def _open_event(dbsession, event, **kwargs) -> dict:
    archive = zipfile.ZipFile(io.BytesIO(_write(dbsession, event, "open-event", **kwargs)))
    files = {name: archive.read(name) for name in archive.namelist()}
    return {n: (c if n.startswith("images/") else json.loads(c)) for n, c in files.items()}


def test_open_event_zip_links_three_speakers_both_ways(dbsession, event):
    talk = make_session(
        dbsession,
        event,
        title="Panel",
        state=SessionState.PENDING,
        starts_at=datetime(2030, 7, 2, 12, 0, tzinfo=UTC),
        ends_at=datetime(2030, 7, 2, 13, 0, tzinfo=UTC),
    )
    people = [make_speaker(dbsession, event, name=f"Speaker {n}") for n in range(3)]
    talk.speakers = people
    dbsession.flush()
    files = _open_event(dbsession, event)
    assert {"event", "tracks", "microlocations", "sessions", "speakers", "meta"} <= set(files)
    [panel] = files["sessions"]
    assert sorted(s["id"] for s in panel["speakers"]) == sorted(p.id for p in people)
    assert panel["state"] == "pending"  # the team's backup keeps every state
    assert panel["starts-at"] == "2030-07-02T14:00:00+02:00"
    for speaker in files["speakers"]:
        assert speaker["sessions"] == [{"id": talk.id, "title": "Panel"}]


def test_open_event_zip_has_every_session_not_trashed_with_dasherized_keys(
    dbsession, event, program
):
    files = _open_event(dbsession, event)
    assert {s["title"] for s in files["sessions"]} == {
        "Opening keynote",
        "Late night hacking",
        "Rejected talk",
        "Unscheduled",
    }
    keynote = next(s for s in files["sessions"] if s["title"] == "Opening keynote")
    assert keynote["short-abstract"] == "<p>Welcome <b>all</b></p>"
    assert keynote["microlocation"]["name"] == "Hall B"
    assert keynote["track"] == {"id": program["track"].id, "name": "Science", "color": "#336699"}
    assert files["event"]["timezone"] == "Europe/Berlin"
    assert files["event"]["starts-at"] == "2030-07-01T08:00:00+02:00"
    assert [r["name"] for r in files["microlocations"]] == ["Stage A", "Hall B"]
    assert files["tracks"][0]["sessions"] == [{"id": keynote["id"], "title": "Opening keynote"}]
    assert all("_" not in key for s in files["speakers"] for key in s)


def test_open_event_zip_includes_media_from_storage(dbsession, event, memory_storage):
    memory_storage.put("events/1/speakers/ada.png", b"\x89PNG fake", "image/png", public=True)
    make_speaker(dbsession, event, name="Ada", photo_url="/files/events/1/speakers/ada.png")
    make_speaker(dbsession, event, name="Elsewhere", photo_url="https://example.com/x.png")
    without = _open_event(dbsession, event)
    assert not any(name.startswith("images/") for name in without)
    files = _open_event(dbsession, event, options={"include-media": True}, storage=memory_storage)
    ada = next(s for s in files["speakers"] if s["name"] == "Ada")
    assert files[ada["photo-url"].lstrip("/")] == b"\x89PNG fake"
    elsewhere = next(s for s in files["speakers"] if s["name"] == "Elsewhere")
    assert elsewhere["photo-url"] == "https://example.com/x.png"  # never fetched


@pytest.mark.parametrize(
    ("format_name", "options", "field"),
    [
        ("open-event", {"include-media": "yes"}, "include-media"),
        ("frab-xml", {"day-change-hour": 24}, "day-change-hour"),
        ("frab-json", {"day-change-hour": True}, "day-change-hour"),
        ("ical", {"colour": 1}, "colour"),
    ],
)
def test_bad_options_are_refused_by_name(format_name, options, field):
    _, errors = FORMATS[format_name].parse_options(options)
    assert list(errors) == [field]


# Writing the text: escaping, folding, characters XML forbids


def _public_session(dbsession, event, title, **columns):
    return make_session(
        dbsession,
        event,
        title=title,
        state=SessionState.CONFIRMED,
        starts_at=datetime(2030, 7, 1, 7, 0, tzinfo=UTC),
        ends_at=datetime(2030, 7, 1, 8, 0, tzinfo=UTC),
        **columns,
    )


def test_ical_text_escapes_commas_semicolons_backslashes_and_line_breaks(dbsession, event):
    event.name = "Sommerfest; Berlin,\nsecond line"  # the icalendar package refused a newline
    title = r"Commas, semicolons; a back\slash"
    _public_session(dbsession, event, title, subtitle="one\r\ntwo\rthree\nfour")
    content = _write(dbsession, event, "ical")
    assert b"SUMMARY:Commas\\, semicolons\\; a back\\\\slash\r\n" in content
    assert b"X-WR-CALNAME:Sommerfest\\; Berlin\\,\\nsecond line\r\n" in content
    calendar = icalendar.Calendar.from_ical(content)
    [vevent] = calendar.walk("VEVENT")
    assert vevent["SUMMARY"] == title
    assert vevent["DESCRIPTION"] == "one\ntwo\nthree\nfour"
    # icalendar keeps an extension's text as written (calendar apps read it as TEXT).
    assert calendar["X-WR-CALNAME"] == "Sommerfest\\; Berlin\\,\\nsecond line"


def test_ical_lines_fold_at_75_octets_without_splitting_a_character(dbsession, event):
    # Two-, three- and four-byte characters, so that folds fall inside sequences of each.
    title = "Über " + "Grüße 🎉 ünd 日本語 " * 12
    _public_session(dbsession, event, title)
    content = _write(dbsession, event, "ical")
    assert content.endswith(b"\r\n") and b"\n" not in content.replace(b"\r\n", b"")
    physical = content.split(b"\r\n")[:-1]
    for line in physical:
        assert len(line) <= 75
        line.decode()  # each line whole UTF-8: no sequence cut in two
    assert sum(1 for line in physical if line.startswith(b" ")) >= len(title.encode()) // 75
    [vevent] = icalendar.Calendar.from_ical(content).walk("VEVENT")
    assert vevent["SUMMARY"] == title


@pytest.mark.parametrize("prefix", range(5))
def test_folding_moves_a_cut_multibyte_character_to_the_next_line(prefix):
    line = ("x" * (70 + prefix) + "🎉é" * 40).encode()
    folded = ical.fold(line)
    parts = folded[:-2].split(b"\r\n ")
    assert b"".join(parts) == line
    assert all(len(part) <= 75 for part in parts[:1]) and all(len(p) <= 74 for p in parts[1:])
    assert all(part.decode() for part in parts)


@pytest.mark.parametrize(
    ("tzid", "moments"),
    [
        ("America/Sao_Paulo", [datetime(2018, 1, 10, 12), datetime(2018, 7, 10, 12)]),
        ("Australia/Lord_Howe", [datetime(2021, 1, 10, 12), datetime(2021, 7, 10, 12)]),
        ("Asia/Kolkata", [datetime(2020, 3, 1, 12)]),
        ("UTC", [datetime(2020, 3, 1, 12)]),
    ],
)
def test_vtimezone_offsets_are_the_iana_ones_in_either_hemisphere(tzid, moments):
    calendar = ical.to_ical(
        (
            "vcalendar",
            [],
            [ical.vtimezone(tzid, date(moments[0].year - 1, 1, 1), date(2022, 12, 31))],
        )
    )
    [vtimezone] = icalendar.Calendar.from_ical(calendar).walk("VTIMEZONE")
    tz = vtimezone.to_tz()
    for moment in moments:
        assert tz.utcoffset(moment) == moment.replace(tzinfo=ZoneInfo(tzid)).utcoffset()


def test_characters_xml_forbids_never_make_a_feed_invalid(dbsession, event):
    _public_session(dbsession, event, "Bell\x07 and\x0b form\x0cfeed & <tags>")
    expected = "Bell and formfeed & <tags>"
    frab_xml = _write(dbsession, event, "frab-xml")
    xmlschema.XMLSchema(str(VALIDATORS / "schedule.xml.xsd")).validate(frab_xml.decode())
    assert etree.fromstring(frab_xml).findtext("day/room/event/title") == expected
    xcal = etree.fromstring(_write(dbsession, event, "xcal"))
    summaries = xcal.iterfind(f".//{{{NAMESPACE}}}summary/{{{NAMESPACE}}}text")
    assert [element.text for element in summaries] == [expected]
    [vevent] = icalendar.Calendar.from_ical(_write(dbsession, event, "ical")).walk("VEVENT")
    assert vevent["SUMMARY"] == expected


def test_xml_text_escapes_markup_and_drops_what_xml_cannot_hold():
    assert values.xml_text('a & b <c> "d"\r') == "a &amp; b &lt;c&gt; &quot;d&quot;&#13;"
    assert values.xml_text("x\x00y\ud800z\ufffe\x1f\t\n") == "xyz\t\n"
    assert values.xml_attribute("a\tb\nc") == "a&#9;b&#10;c"
    value = "1\t2\n3 & 4"
    attribute = values.xml_attribute(value)
    assert etree.fromstring(f'<a b="{attribute}"/>').get("b") == value
