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


def plain_text(markup: str) -> str:
    """``markup`` as text: tags stripped, entities unescaped, whitespace collapsed."""
    # nh3 parses the HTML properly (and drops script and style content); what it leaves is
    # only breaking tags, without attributes, which a plain pattern can replace by spaces.
    kept = _BREAKING_TAGS_ONLY.clean(markup)
    return " ".join(html.unescape(_TAG.sub(" ", kept)).split())


def preview(html: str | None, limit: int = PREVIEW_LENGTH) -> str | None:
    """The plain text of ``html`` in at most ``limit`` characters, cut at a word boundary and
    ending with an ellipsis when cut; None when there is no text."""
    text = plain_text(html or "")
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


def abstract_preview(short_abstract: str | None, long_abstract: str | None) -> str | None:
    """A session's preview: of its short abstract, or else of its long one."""
    return preview(short_abstract) or preview(long_abstract)
