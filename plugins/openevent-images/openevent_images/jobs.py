"""The jobs: resize one image of an event or a speaker, and delete the files it replaced.

A change of an image attribute starts :func:`process_image` (see ``subscribers.py``). It makes
the outputs before it touches the database (rendering is the slow part, and on SQLite a job
holds the write lock from its first statement), writes them under keys of the upload and the
settings, then sets the row's columns only if the attribute still holds the URL it processed.
So of two quick uploads the last wins, whatever order the jobs run in, and a redelivered job
writes the same keys and sets the same values again. The files the row no longer uses are
deleted by :func:`delete_replaced`, a job enqueued by the same transaction and so sent only
once the new URLs are committed.
"""

import logging
from dataclasses import dataclass, field

from sqlalchemy import select

from openevent.jobs import job
from openevent.models import Event, Speaker
from openevent.storage import ObjectNotFound
from openevent_images.keys import (
    derived_key_in,
    output_key,
    own_file,
    token_in,
    upload_prefix,
    webp_sibling,
)
from openevent_images.processing import ImageRejected, Output, render
from openevent_images.settings import KINDS, SETTINGS_KEY, ImageSettings

log = logging.getLogger(__name__)

MODELS = {"event": Event, "speaker": Speaker}
# Outputs never change under their key but when settings are kept and processing is re-run.
CACHE_CONTROL = "public, max-age=86400"


@dataclass
class Processed:
    """What processing one URL made."""

    # Column -> new URL; None when the columns stay as they are (the URL is a resized copy).
    urls: dict[str, str | None] | None
    token: str | None = None  # the upload processed
    written: list[str] = field(default_factory=list)


@dataclass
class Replaced:
    """Files a row stopped using: whole uploads (tokens) and single resized copies (keys)."""

    tokens: list[str] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.tokens or self.keys)


def make_outputs(
    storage, settings: ImageSettings, kind_name: str, event_id: int, url: str | None, *, again=False
) -> Processed:
    """Render and store every size of the image at ``url``, if it is one of the event's uploads.

    ``again``: ``url`` may be a resized copy (a logo once processed), to be made again from
    its upload's original (after a change of settings).
    """
    kind = KINDS[kind_name]
    cleared = {column: None for column in kind.columns.values() if column != kind.source}
    own = own_file(storage, url, event_id)
    if own is None:
        return Processed(cleared)  # no upload of ours: stored as given, never fetched
    key = own.key
    if own.derived:
        if not again:
            return Processed(None, own.token)
        originals = storage.list(upload_prefix(event_id, own.token) + "original.")
        if not originals:
            return Processed(None, own.token)
        key = originals[0].key
    try:
        with storage.open(key) as stream:
            data = stream.read()
    except ObjectNotFound:
        return Processed(cleared)
    options = settings.kinds[kind_name]
    output = Output(settings.jpeg_quality, settings.transparent_format, settings.webp_variants)
    try:
        renditions = render(data, options.sizes, options.cover, output, settings.max_pixels)
    except ImageRejected as exc:
        log.warning("image %s of event %s not processed: %s", key, event_id, exc.detail)
        return Processed(cleared, own.token)
    variant = settings.variant(kind_name)
    processed = Processed({}, own.token)
    for rendition in renditions:
        out = output_key(
            event_id, own.token, variant, kind_name, rendition.size, rendition.extension
        )
        storage.put(
            out, rendition.data, rendition.content_type, public=True, cache_control=CACHE_CONTROL
        )
        processed.written.append(out)
        # The first rendition of a size is its main format; a WebP variant follows it.
        processed.urls.setdefault(kind.columns[rendition.size], own.base + storage.url(out))
    return processed


def apply_outputs(
    dbsession, kind_name: str, row_id: int, event_id: int, url, old_url, processed: Processed
) -> Replaced:
    """Set the row's columns to ``processed``'s URLs if its image is still ``url``; what the
    row no longer uses (or, when it moved on, what this processing wrote for nobody)."""
    kind = KINDS[kind_name]
    row = dbsession.get(MODELS[kind.model], row_id, with_for_update=True, populate_existing=True)
    if row is None or getattr(row, kind.source) != url:
        # Changed again, or gone, since: a later job has the last word.
        return Replaced(tokens=[processed.token] if processed.written else [])
    tokens, keys = set(), set()
    for column, new in (processed.urls or {}).items():
        old = getattr(row, column)
        if old != new:
            if (key := derived_key_in(old, event_id)) is not None:
                keys.add(key)
                tokens.add(token_in(old, event_id))
            setattr(row, column, new)
    if (token := token_in(old_url, event_id)) is not None:
        tokens.add(token)
    tokens.discard(processed.token)
    return Replaced(sorted(tokens), sorted(keys))


def _image_columns(model: str) -> list[str]:
    kinds = [kind for kind in KINDS.values() if kind.model == model]
    return sorted({kind.source for kind in kinds} | {c for k in kinds for c in k.columns.values()})


def referenced_urls(dbsession, event_id: int) -> set[str]:
    """Every image URL the event and its speakers (trashed ones too) hold."""
    urls: set[str] = set()
    event_columns, speaker_columns = _image_columns("event"), _image_columns("speaker")
    rows = [
        *dbsession.execute(
            select(*(getattr(Event, c) for c in event_columns)).where(Event.id == event_id)
        ),
        *dbsession.execute(
            select(*(getattr(Speaker, c) for c in speaker_columns)).where(
                Speaker.event_id == event_id
            )
        ),
    ]
    for row in rows:
        urls.update(value for value in row if value)
    return urls


def delete_unreferenced(storage, event_id: int, referenced: set[str], replaced: Replaced) -> int:
    """Delete the replaced files that no URL in ``referenced`` uses; how many were deleted."""
    used_tokens = {token_in(url, event_id) for url in referenced}
    used_keys = {derived_key_in(url, event_id) for url in referenced}
    deleted = 0
    for token in replaced.tokens:
        if token not in used_tokens:
            for stored in storage.list(upload_prefix(event_id, token)):
                storage.delete(stored.key)
                deleted += 1
    for key in replaced.keys:
        for candidate in dict.fromkeys((key, webp_sibling(key))):
            if candidate not in used_keys and storage.exists(candidate):
                storage.delete(candidate)
                deleted += 1
    return deleted


@job(queue_name="images")
def process_image(ctx, kind: str, row_id: int, url: str | None, old_url: str | None) -> None:
    """Resize the ``kind`` image of the row ``row_id`` (an event or a speaker of the job's
    event), which changed from ``old_url`` to ``url``; see the module's docstring."""
    settings = ctx.registry[SETTINGS_KEY]
    processed = make_outputs(ctx.storage, settings, kind, ctx.event_id, url)
    replaced = apply_outputs(ctx.dbsession, kind, row_id, ctx.event_id, url, old_url, processed)
    if replaced:
        ctx.enqueue(delete_replaced, replaced.tokens, replaced.keys, event_id=ctx.event_id)


@job(queue_name="images")
def delete_replaced(ctx, tokens: list[str], keys: list[str]) -> None:
    """Delete the uploads (``tokens``) and resized copies (``keys``) of the job's event that
    none of its rows uses any more. Sent after the transaction that stopped using them."""
    referenced = referenced_urls(ctx.dbsession, ctx.event_id)
    delete_unreferenced(ctx.storage, ctx.event_id, referenced, Replaced(tokens, keys))
