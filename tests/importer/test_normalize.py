"""Reading exports as found in the wild: dialects, duplicate ids, one-sided and broken links,
untitled sessions and broken files are repaired or skipped, each reported; --strict refuses."""

import json
from pathlib import Path

import pytest

from openevent.importer.archive import Archive, ArchiveLimits
from openevent.importer.normalize import read_program
from openevent.importer.report import ImportFailed, Report

SAMPLES = Path(__file__).parents[2].parent / "shared" / "samples" / "open-event"
EVENT = {"id": 1, "name": "Camp", "timezone": "Europe/Berlin"}


def export(tmp_path, **files) -> Path:
    folder = tmp_path / "export"
    folder.mkdir()
    for name, content in {"event": EVENT, **files}.items():
        text = content if isinstance(content, str) else json.dumps(content)
        (folder / name).write_text(text)
    return folder


def read(folder, strict=False):
    report = Report(strict=strict)
    with Archive.open(folder) as archive:
        return read_program(archive, report), report


def reasons(report, kind=None):
    return [(f.file, f.id, f.reason) for f in report.findings if kind in (None, f.kind)]


def test_the_samples_read_with_every_link(tmp_path):
    program, report = read(SAMPLES / "FOSSASIASummit2017")
    counts = {name: len(records) for name, records in program.records.items()}
    assert counts == {
        "sessions": 214,
        "speakers": 207,
        "tracks": 22,
        "microlocations": 15,
        "sponsors": 17,
        "session-types": 5,  # made from what the sessions carry: the export has no file
    }
    assert sum(len(speakers) for speakers in program.speakers.values()) == 223
    assert len(program.track) == len(program.microlocation) == 214
    assert {f.kind for f in report.findings} == {"repaired"}

    program, report = read(SAMPLES / "PyCon17")
    assert len(program.records["speakers"]) == 143  # three ids name two people each
    glyph = [s for s in program.records["speakers"] if s.values["name"] == "Glyph"]
    [michele] = [s for s in program.records["speakers"] if s.values["name"].startswith("Michele")]
    assert glyph[0].id == michele.id == "88"
    talks = {
        s.id: [p.values["name"] for p in program.speakers.get(s, [])] for s in program.speakers
    }
    assert "Glyph" in talks["10"] and talks["76"] == ["Glyph"]
    assert talks["77"] == ["Michele Pratusevich"]
    assert not any("Michele" in name for name in talks["10"] + talks["76"])


def test_older_snake_case_names_are_read(tmp_path):
    folder = export(
        tmp_path,
        event={"id": 1, "name": "Camp", "timezone": "Europe/Berlin", "start_time": "2017-05-01"},
        sessions=[{"id": 5, "title": "Talk", "start_time": "2017-05-01T10:00:00", "speakers": []}],
    )
    program, _ = read(folder)
    assert program.event["starts-at"] == "2017-05-01"
    [session] = program.records["sessions"]
    assert session.values["starts-at"] == "2017-05-01T10:00:00"


def test_duplicates_are_dropped_merged_or_kept_apart(tmp_path):
    folder = export(
        tmp_path,
        speakers=[
            {"id": 7, "name": "Ada", "sessions": []},
            {"id": 7, "name": "Ada", "sessions": []},  # an identical copy
            {"id": 8, "name": "Bo", "city": ""},
            {"id": 8, "name": "Bo", "city": "Oslo"},  # a copy with more in it
            {"id": 9, "name": "Cy"},
            {"id": 9, "name": "Di"},  # another person under the same id
        ],
        sessions=[
            {"id": 1, "title": "One", "speakers": [{"id": 9, "name": "Di"}]},
            {"id": 2, "title": "Two", "speakers": [{"id": 9, "name": "Cy"}, {"id": 7}]},
        ],
    )
    program, report = read(folder)
    names = sorted(s.values["name"] for s in program.records["speakers"])
    assert names == ["Ada", "Bo", "Cy", "Di"]
    [bo] = [s for s in program.records["speakers"] if s.values["name"] == "Bo"]
    assert bo.values["city"] == "Oslo"
    by_title = {s.values["title"]: s for s in program.records["sessions"]}
    assert [p.values["name"] for p in program.speakers[by_title["One"]]] == ["Di"]
    assert sorted(p.values["name"] for p in program.speakers[by_title["Two"]]) == ["Ada", "Cy"]
    assert [r for r in reasons(report) if "listed by" not in r[2]] == [
        ("speakers", "7", "an identical copy of the record dropped"),
        ("speakers", "8", "two differing copies of one record merged"),
        (
            "speakers",
            "9",
            "2 different records share this id ('cy', 'di'): each imported, links to the id "
            "resolved by the name or title they carry",
        ),
    ]


def test_links_listed_on_one_side_are_kept_and_broken_ones_skipped(tmp_path):
    folder = export(
        tmp_path,
        sessions=[
            {"id": 1, "title": "One", "speakers": [{"id": 10}], "track": {"id": 99}},
            {"id": 2, "title": "Two", "speakers": [None, {"id": 404}], "track": None},
        ],
        speakers=[{"id": 10, "name": "Ada", "sessions": [{"id": 2}]}],
        tracks=[{"id": 3, "name": "Web", "sessions": [{"id": 2}]}],
    )
    program, report = read(folder)
    one, two = program.records["sessions"]
    [ada] = program.records["speakers"]
    assert program.speakers == {one: [ada], two: [ada]}
    assert program.track == {two: program.records["tracks"][0]}
    assert reasons(report) == [
        ("sessions", "2", "speakers: links to id 404, not in speakers"),
        ("sessions", "1", "speaker 10 - session 1: listed by the session only; kept"),
        ("speakers", "10", "speaker 10 - session 2: listed by the speaker only; kept"),
        ("sessions", "1", "track: links to id 99, not in tracks"),
        ("tracks", "3", "lists session 2, which names no track; linked"),
    ]


def test_untitled_sessions_are_titled_from_their_id(tmp_path):
    program, report = read(export(tmp_path, sessions=[{"id": 31, "title": "  "}, {"id": 32}]))
    assert [s.values["title"] for s in program.records["sessions"]] == [
        "Untitled session 31",
        "Untitled session 32",
    ]
    assert reasons(report)[0] == ("sessions", "31", "no title: titled from its id")


def test_a_broken_collection_file_is_skipped_with_its_position(tmp_path):
    folder = export(tmp_path, sessions='[{"id": 1, "title": "One"},\n {"id": 2,]', tracks=[])
    program, report = read(folder)
    assert program.records["sessions"] == []
    [(file, id_, reason)] = reasons(report)
    assert (file, id_) == ("sessions", None)
    assert reason.startswith("whole file skipped: file sessions, line 2 column 11: not valid JSON")


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"sessions": "[{"}, "file sessions, line 1 column 3: not valid JSON"),
        ({"speakers": [{"id": 1, "name": "A"}, {"id": 1, "name": "B"}]}, "share this id"),
        ({"sessions": [{"id": 1}]}, "no title"),
    ],
)
def test_strict_refuses_what_it_would_repair_or_skip(tmp_path, files, message):
    with pytest.raises(ImportFailed, match=message):
        read(export(tmp_path, **files), strict=True)


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ("{", "file event, line 1 column 2: not valid JSON"),
        ("[1, 2]", "expected a JSON object"),
        ("\xff", "not valid JSON: str is not valid UTF-8"),
    ],
)
def test_an_unreadable_event_fails_the_import(tmp_path, event, message):
    folder = export(tmp_path)
    (folder / "event").write_bytes(event.encode("latin-1") if event == "\xff" else event.encode())
    with pytest.raises(ImportFailed, match=message):
        read(folder)


def test_an_archive_without_an_event_fails(tmp_path):
    folder = export(tmp_path)
    (folder / "event").rename(folder / "sessions")
    with pytest.raises(ImportFailed, match="no event file"):
        read(folder)


def test_a_collection_file_over_the_json_limit_is_not_parsed(tmp_path):
    folder = export(tmp_path, sessions=[{"id": n, "title": "x" * 100} for n in range(100)])
    report = Report()
    with Archive.open(folder, ArchiveLimits(max_json_bytes=5000)) as archive:
        program = read_program(archive, report)
    assert program.records["sessions"] == []
    [finding] = report.findings
    assert finding.reason == (
        "whole file skipped: file sessions: larger than 5000 bytes, the limit of a collection file"
    )


def test_a_byte_order_mark_is_no_error(tmp_path):
    folder = export(tmp_path)
    (folder / "sessions").write_bytes(b"\xef\xbb\xbf" + b'[{"id": 1, "title": "One"}]')
    program, report = read(folder)
    assert [s.values["title"] for s in program.records["sessions"]] == ["One"]
    assert report.findings == []


def test_keys_are_translated_to_the_apis_names_only_where_the_format_says_so():
    from openevent.importer.load import translate

    session = {"title": "Keynote", "starts-at": "2017-03-17T09:00:00+08:00", "odd-key": 1}
    # Every key is the API's own already: the record as it is (no copy made per record).
    assert translate("sessions", "session", session) == (session, {})
    assert translate("sessions", "session", session)[0] is session

    event = {
        "name": "Summit",
        "event-copyright": {"holder": "FOSSASIA", "licence": "CC BY"},
        "social-links": [{"name": "Twitter", "link": "https://twitter.com/fossasia"}],
    }
    values, nested = translate("event", "event", event)
    assert "event-copyright" not in values and values["name"] == "Summit"
    assert "FOSSASIA" in values.values() and "CC BY" in values.values()
    assert nested == {"event/social-links": event["social-links"]}
