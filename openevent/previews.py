"""Plain-text previews of HTML, for lists and cards that cannot render markup.

Parsing markup is the costly part of a read, so previews are computed when the markup is
written and stored (see ``Session.abstract_preview``), never per read.
"""

import html
import re

import nh3

PREVIEW_LENGTH = 200
ELLIPSIS = "…"

# Tags that separate words when rendered; stripping them must leave a space, not glue words.
_BREAKING_TAGS = {
    "blockquote",
    "br",
    "div",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "li",
    "ol",
    "p",
    "pre",
    "td",
    "th",
    "tr",
    "ul",
}
_TAG = re.compile(r"<[^>]*>")
# Built once: building it costs as much as cleaning a paragraph.
_BREAKING_TAGS_ONLY = nh3.Cleaner(tags=_BREAKING_TAGS, attributes={}, link_rel=None)

# What an HTML parser reads as something else than the character itself: markup and entities,
# a carriage return (a line feed once parsed), a no-break space (written back as &nbsp;), a
# byte-order mark (dropped); lone surrogates, which the sanitizer cannot take at all.
_NOT_TEXT = re.compile("[<>&\r\xa0\ufeff\ud800-\udfff]")


def is_plain(text: str) -> bool:
    """Whether ``text`` parsed as HTML and written back is ``text`` itself, as most abstracts
    and biographies are: then it needs neither sanitizing nor stripping (an import of
    thousands of them skips the parser)."""
    return _NOT_TEXT.search(text) is None


def plain_text(markup: str) -> str:
    """``markup`` as text: tags stripped, entities unescaped, whitespace collapsed."""
    if is_plain(markup):
        return " ".join(markup.split())
    # nh3 parses the HTML properly (and drops script and style content); what it leaves is
    # only breaking tags, without attributes, which a plain pattern can replace by spaces.
    kept = _BREAKING_TAGS_ONLY.clean(markup)
    return " ".join(html.unescape(_TAG.sub(" ", kept)).split())


# In what openevent.api.fields.Html stored (ammonia's output: its allow-list, attributes only on
# links, double-quoted, with their quotes escaped; every "<" of the text escaped), the tags that
# separate words and every other tag.
_SANITIZED_BREAKING_TAG = re.compile(
    rf"</?(?:{'|'.join(sorted(_BREAKING_TAGS))})\s*/?>", re.IGNORECASE
)
_SANITIZED_TAG = re.compile(r'<[^<>"]*+(?:"[^"]*+"[^<>"]*+)*+>')


def plain_text_of_sanitized(markup: str) -> str:
    """:func:`plain_text` of markup that the API's HTML sanitizer wrote, read without parsing
    it again: an import previews thousands of abstracts it has just sanitized."""
    if is_plain(markup):
        return " ".join(markup.split())
    text = _SANITIZED_TAG.sub("", _SANITIZED_BREAKING_TAG.sub(" ", markup))
    return " ".join(html.unescape(text).split())


def preview(
    html: str | None, limit: int = PREVIEW_LENGTH, *, sanitized: bool = False
) -> str | None:
    """The plain text of ``html`` in at most ``limit`` characters, cut at a word boundary and
    ending with an ellipsis when cut; None when there is no text. ``sanitized``: ``html`` is
    what the API's sanitizer wrote (see :func:`plain_text_of_sanitized`)."""
    text = _head_of_sanitized(html, limit) if sanitized else None
    if text is None:
        text = (plain_text_of_sanitized if sanitized else plain_text)(html or "")
    if not text:
        return None
    if len(text) <= limit:
        return text
    room = limit - len(ELLIPSIS)
    cut = text[:room]
    if not text[room].isspace():
        # Back up to the last whole word; a single word longer than the room is cut hard.
        cut = cut.rpartition(" ")[0] or cut
    return cut.rstrip() + ELLIPSIS


# How many characters of markup per character of preview are read first (see below): enough for
# the markup of most abstracts' first sentences.
_HEAD_FACTOR = 4


def _head_of_sanitized(markup: str | None, limit: int) -> str | None:
    """The start of the text of sanitized ``markup``, when its first ``_HEAD_FACTOR * limit``
    characters hold more than ``limit`` characters of text (else None): a preview needs no
    more, and an abstract can be pages long.

    The text of a head of the markup is a head of the markup's text as long as the head cuts
    no tag and no entity: in the sanitizer's output every ``<`` begins a tag and every ``&``
    an entity ended by ``;``, so the head ends before the last of either that it holds.
    """
    if markup is None or len(markup) <= _HEAD_FACTOR * limit:
        return None
    head = markup[: _HEAD_FACTOR * limit]
    tag = head.rfind("<")
    if tag >= 0:
        head = head[:tag]
    entity = head.rfind("&")
    if entity > head.rfind(";"):
        head = head[:entity]
    text = plain_text_of_sanitized(head)
    return text if len(text) > limit else None


def abstract_preview(
    short_abstract: str | None, long_abstract: str | None, *, sanitized: bool = False
) -> str | None:
    """A session's preview: of its short abstract, or else of its long one."""
    return preview(short_abstract, sanitized=sanitized) or preview(
        long_abstract, sanitized=sanitized
    )
