import json
import random
from pathlib import Path

import nh3
import pytest

from openevent.api.fields import Html
from openevent.previews import (
    _head_of_sanitized,
    is_plain,
    plain_text,
    plain_text_of_sanitized,
    preview,
)


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("<p>Hello <b>big</b> world</p>", "Hello big world"),
        ("<p>One</p><p>Two</p>", "One Two"),
        ("Line<br>break", "Line break"),
        ("Fish &amp; chips &lt;3 &eacute;t&eacute; &#8364;", "Fish & chips <3 été €"),
        ("  lots \n\t of   space  ", "lots of space"),
        ("a<script>alert(1)</script>b<style>p {}</style>c", "abc"),
        ("<a href='https://x.org'>link</a>", "link"),
    ],
)
def test_plain_text(html, text):
    assert plain_text(html) == text


@pytest.mark.parametrize("html", [None, "", "   ", "<p></p>", "<p> <br> </p>"])
def test_no_text_gives_no_preview(html):
    assert preview(html) is None


def test_short_text_is_kept_whole():
    assert preview("<p>A short talk.</p>") == "A short talk."


def test_exactly_the_limit_is_not_cut():
    text = "abcd " * 39 + "abcde"
    assert len(text) == 200
    assert preview(text) == text


def test_one_over_the_limit_is_cut_at_a_word_boundary():
    text = "abcd " * 39 + "abcdef"
    assert len(text) == 201
    assert preview(text) == "abcd " * 38 + "abcd…"
    assert len(preview(text)) <= 200


def test_cut_that_falls_between_words_keeps_the_last_whole_word():
    text = "x" * 199 + " next"
    assert preview(text) == "x" * 199 + "…"


def test_one_very_long_word_is_cut_hard():
    result = preview("a" * 1000)
    assert result == "a" * 199 + "…"
    assert len(result) == 200


def test_entities_count_as_one_character():
    text = "&amp;" * 201
    assert preview(text) == "&" * 199 + "…"
    assert preview("&amp;" * 200) == "&" * 200


def test_the_limit_can_be_chosen():
    assert preview("one two three", limit=9) == "one two…"


def _characters(seed: int, count: int) -> list[str]:
    """``count`` strings of characters from all over Unicode, some of them HTML's specials."""
    rng = random.Random(seed)
    specials = "<>&\r\n\t\xa0\ufeff \"'=/;#"
    found = []
    for _ in range(count):
        chars = []
        for _ in range(rng.randint(0, 12)):
            kind = rng.randrange(4)
            if kind == 0:
                chars.append(rng.choice(specials))
            else:
                top = (0x7F, 0xFFFF, 0x10FFFF)[kind - 1]
                code = rng.randint(0x20, top)
                if 0xD800 <= code <= 0xDFFF:  # not a character on its own
                    continue
                chars.append(chr(code))
        found.append("".join(chars))
    return found


def test_text_called_plain_is_what_the_html_parser_gives_back():
    # is_plain lets sanitizing and stripping skip the parser: it must never say so of text
    # the parser would change, or stored text would differ with the path it took.
    cleaner = nh3.Cleaner(tags=set(), attributes={})
    plain = 0
    for text in _characters(seed=16, count=20_000):
        if is_plain(text):
            plain += 1
            assert cleaner.clean(text) == text
            assert plain_text(text) == " ".join(text.split())
    assert plain > 5_000  # the check above ran on many texts


@pytest.mark.parametrize(
    "text", ["a < b", "fish & chips", "line\r\nend", "no\xa0break", "\ufeffbom"]
)
def test_text_the_parser_changes_is_not_plain(text):
    assert not is_plain(text)
    assert nh3.clean(text) != text


# Pieces of markup, hostile and ordinary, that random fragments are made of.
_PIECES = [
    "<p>", "</p>", "<b>", "</b>", "<br>", "<br/>", "<li>", "<ul>", "</ul>", "<P>", "<BR>",
    '<a href="https://x.org/a>b" title=\'q"x>y\'>', "</a>", '<span title="a<b">', "</span>",
    "<A HREF='javascript:alert(1)'>", "<h1 class=x>", "<div>", "<img src=x onerror=y>",
    "<script>x<y</script>", "<style>p{}</style>", "<!-- c -->", "<pre> x </pre>",
    "<table><tr><td>x</td></tr></table>", "<blockquote>", "<sub>",
    "&amp;", "&lt;", "&nbsp;", "&#x41;", "&bogus;", "\xa0", "<", "> ", '"', "'", "é",
    "a", "b c", " ", "\n", "\r\n",
]  # fmt: skip


def test_text_of_sanitized_markup_is_read_as_the_parser_reads_it():
    # The importer previews abstracts it has just sanitized without parsing them again: for
    # anything the sanitizer can write, the text must be the same as plain_text's.
    rng = random.Random(14)
    sanitize = Html._cleaner().clean
    for _ in range(5_000):
        markup = sanitize("".join(rng.choice(_PIECES) for _ in range(rng.randint(0, 15))))
        assert plain_text_of_sanitized(markup) == plain_text(markup), markup


def test_preview_of_long_sanitized_markup_reads_only_its_head_and_agrees():
    # preview(sanitized=True) reads only the first few hundred characters of long markup:
    # wherever that head ends (inside a tag, an entity, a word, a run of spaces), the preview
    # must be the one the whole text gives.
    rng = random.Random(16)
    sanitize = Html._cleaner().clean
    read_from_head = 0
    for _ in range(3_000):
        pieces = rng.choices(_PIECES + ["word ", "longerword", "   "] * 3, k=rng.randint(50, 400))
        markup = sanitize("".join(pieces))
        limit = rng.choice([20, 50, 200])
        if _head_of_sanitized(markup, limit) is not None:
            read_from_head += 1
        assert preview(markup, limit, sanitized=True) == preview(markup, limit), markup
    assert read_from_head > 300  # the head was what got read, many times


def test_sample_abstracts_preview_alike_through_either_reading():
    samples = Path(__file__).parents[1].parent / "shared" / "samples" / "open-event"
    sanitize = Html._cleaner().clean
    compared = 0
    for path in samples.glob("*/sessions"):
        for session in json.loads(path.read_text()):
            for key in ("short_abstract", "long_abstract", "short-abstract", "long-abstract"):
                if isinstance(session.get(key), str):
                    markup = sanitize(session[key])
                    assert preview(markup, sanitized=True) == preview(markup)
                    compared += 1
    assert compared > 300
