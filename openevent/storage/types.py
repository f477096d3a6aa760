"""What kind of image a file is, from its first bytes: the one place that knows the signatures
of the formats the app serves inline (storage sends every other file as an attachment)."""

_SIGNATURES = {
    b"\xff\xd8\xff": "image/jpeg",
    b"\x89PNG\r\n\x1a\n": "image/png",
    b"GIF87a": "image/gif",
    b"GIF89a": "image/gif",
}

# What image_type_of tells apart.
IMAGE_TYPES = frozenset({*_SIGNATURES.values(), "image/webp"})


def image_type_of(head: bytes) -> str | None:
    """The content type of the JPEG, PNG, GIF or WebP image that ``head`` (at least the first
    12 bytes of a file) begins, or None if it begins none of them."""
    for signature, content_type in _SIGNATURES.items():
        if head.startswith(signature):
            return content_type
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":  # RIFF is also WAV's and AVI's
        return "image/webp"
    return None
