"""Plain-text previews of HTML, for lists and cards that cannot render markup."""

from html.parser import HTMLParser

PREVIEW_LENGTH = 200
ELLIPSIS = "…"

# Tags that separate words when rendered; stripping them must leave a space, not glue words.
_BREAKING_TAGS = {"blockquote", "br", "div", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "li",
                  "ol", "p", "pre", "td", "th", "tr", "ul"}  # fmt: skip
_INVISIBLE_TAGS = {"script", "style"}


class _TextExtractor(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in _INVISIBLE_TAGS:
            self._hidden += 1
        elif tag in _BREAKING_TAGS:
            self.parts.append(" ")

    def handle_endtag(self, tag):
        if tag in _INVISIBLE_TAGS:
            self._hidden = max(0, self._hidden - 1)
        elif tag in _BREAKING_TAGS:
            self.parts.append(" ")

    def handle_data(self, data):
        if not self._hidden:
            self.parts.append(data)


def plain_text(html: str) -> str:
    """``html`` as text: tags stripped, entities unescaped, whitespace collapsed."""
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    return " ".join("".join(parser.parts).split())


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
