import pytest

from openevent.previews import plain_text, preview


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
