"""Images in, resized images out: Pillow only, no storage and no database.

Uploads are checked from their bytes (:func:`inspect`): the format Pillow recognises among
JPEG, PNG, WebP and GIF, whatever the name or the declared type, and that it is one the site
takes (``images.formats``); the pixel count before any pixel is decoded; then the whole image
decoded once, so truncated and corrupt files are found at upload time rather than in a job.

:func:`render` makes every size of one kind from one decode. A JPEG is decoded straight at the
smallest scale the largest output needs (libjpeg's DCT scaling, ``draft``); each size is
resized from the previous, larger one with ``reduce()`` before the Lanczos filter
(``reducing_gap``); the EXIF orientation and the colour conversion to sRGB are applied once,
to the first and largest output rather than to the full-size original. Outputs carry no
metadata: Pillow writes only what it is given, and nothing is.
"""

from dataclasses import dataclass
from io import BytesIO

from PIL import Image, ImageCms, UnidentifiedImageError

from openevent.storage import image_type_of
from openevent_images.settings import UPLOAD_FORMATS, Box

# Pillow's names of the formats uploads may be in, and what they are stored as.
FORMATS = {
    "JPEG": ("jpg", "image/jpeg"),
    "PNG": ("png", "image/png"),
    "WEBP": ("webp", "image/webp"),
    "GIF": ("gif", "image/gif"),
}
# How the formats of the settings (``UPLOAD_FORMATS``) are named to people.
_NAMES = {"jpeg": "JPEG", "png": "PNG", "webp": "WebP", "gif": "GIF"}
OUTPUT_TYPES = {
    "jpeg": ("jpg", "image/jpeg"),
    "png": ("png", "image/png"),
    "webp": ("webp", "image/webp"),
}
# reduce() by whole factors while the image stays this many times larger than the target: as
# sharp as a full Lanczos resize to the eye, several times faster.
REDUCING_GAP = 3.0
_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
# What each EXIF orientation asks for to show the image upright (as ImageOps.exif_transpose
# does, here applied to an already resized copy, which keeps no EXIF of its own).
_UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
# The orientations that turn the image by 90 degrees (width and height swap).
_SWAPPING = {5, 6, 7, 8}


class ImageRejected(Exception):
    """The file is not an image the server takes; ``status`` is the HTTP status to answer."""

    def __init__(self, status: int, detail: str):
        super().__init__(detail)
        self.status = status
        self.detail = detail


@dataclass(frozen=True)
class Inspected:
    format: str  # JPEG, PNG, WEBP or GIF
    width: int
    height: int

    @property
    def extension(self) -> str:
        return FORMATS[self.format][0]

    @property
    def content_type(self) -> str:
        return FORMATS[self.format][1]


@dataclass(frozen=True)
class Rendition:
    """One output: a size of a kind, in one format."""

    size: str
    format: str  # jpeg, png or webp
    data: bytes
    width: int
    height: int

    @property
    def extension(self) -> str:
        return OUTPUT_TYPES[self.format][0]

    @property
    def content_type(self) -> str:
        return OUTPUT_TYPES[self.format][1]


@dataclass(frozen=True)
class Output:
    """How outputs are written: the site's settings that are not sizes."""

    jpeg_quality: int = 85
    transparent_format: str = "png"  # png, webp, or jpeg (flattened onto white)
    webp_variants: bool = False


def _signed_as_accepted(data: bytes) -> bool:
    """Whether ``data`` starts as a JPEG, PNG, GIF or WebP file does (then it is corrupt)."""
    return image_type_of(data) is not None


def _listed(formats) -> str:
    """``formats`` as a message names them: "JPEG, PNG, WebP or GIF"."""
    *first, last = (_NAMES[fmt] for fmt in formats)
    return f"{', '.join(first)} or {last}" if first else last


def _open(data: bytes, max_pixels: int, formats=UPLOAD_FORMATS) -> Image.Image:
    """The image in ``data``, its format among ``formats`` and its size checked; pixels not
    decoded yet."""
    try:
        # Opened as any supported format, so that one the site does not take is told from a
        # corrupt file by its signature alone.
        image = Image.open(BytesIO(data), formats=list(FORMATS))
    except UnidentifiedImageError:
        if _signed_as_accepted(data):
            raise ImageRejected(422, "the image is corrupt") from None
        raise ImageRejected(415, f"the file is not a {_listed(formats)} image") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageRejected(422, f"the image has more than {max_pixels} pixels") from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise ImageRejected(422, f"the image is corrupt: {exc}") from None
    if image.format.lower() not in formats:
        image.close()
        # The site does not take this format: refused as a file of no supported format is.
        found = _NAMES[image.format.lower()]
        raise ImageRejected(415, f"the file is not a {_listed(formats)} image but a {found} one")
    width, height = image.size
    if width < 1 or height < 1 or width * height > max_pixels:
        image.close()
        raise ImageRejected(422, f"the image has more than {max_pixels} pixels")
    return image


def _load(image: Image.Image) -> None:
    try:
        image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageRejected(422, "the image has too many pixels") from None
    except (OSError, SyntaxError, ValueError, EOFError, MemoryError) as exc:
        raise ImageRejected(422, f"the image is truncated or corrupt: {exc}") from None


def inspect(data: bytes, max_pixels: int, formats=UPLOAD_FORMATS) -> Inspected:
    """What ``data`` is, once decoded whole; :class:`ImageRejected` if the server refuses it,
    ``formats`` (lower-case names of ``UPLOAD_FORMATS``) being those the site takes."""
    image = _open(data, max_pixels, formats)
    with image:
        info = Inspected(image.format, *image.size)
        if image.format == "JPEG":
            # Every byte is still decoded (a truncated file fails), at an eighth of the scale.
            image.draft(image.mode, (max(1, image.width // 8), max(1, image.height // 8)))
        _load(image)
    return info


def _scale(width: int, height: int, box: Box, cover: bool) -> float:
    """How much an image is scaled to fit in (or, with ``cover``, fill) ``box``; never up."""
    factors = [side / full for side, full in zip(box, (width, height), strict=True) if side]
    return min(1.0, max(factors) if cover else min(factors))


def _scaled_size(width: int, height: int, scale: float) -> tuple[int, int]:
    return max(1, round(width * scale)), max(1, round(height * scale))


def _crop_centred(image: Image.Image, box: Box) -> Image.Image:
    width = min(image.width, box[0] or image.width)
    height = min(image.height, box[1] or image.height)
    if (width, height) == image.size:
        return image
    left, top = (image.width - width) // 2, (image.height - height) // 2
    return image.crop((left, top, left + width, top + height))


def _to_srgb(image: Image.Image, icc: bytes | None) -> Image.Image:
    """``image`` in sRGB, converted from its embedded colour profile if it has one."""
    if icc:
        try:
            source = ImageCms.ImageCmsProfile(BytesIO(icc))
            output_mode = "RGBA" if image.mode == "RGBA" else "RGB"
            converted = ImageCms.profileToProfile(
                image, source, _SRGB, outputMode=output_mode, renderingIntent=0
            )
            if converted is not None:
                return converted
        except (ImageCms.PyCMSError, OSError, ValueError):
            pass  # an unreadable profile: the pixels are taken as sRGB, as browsers do
    if image.mode not in ("RGB", "RGBA"):
        return image.convert("RGBA" if "A" in image.getbands() or image.mode == "P" else "RGB")
    return image


def _has_transparency(image: Image.Image) -> bool:
    return image.mode == "RGBA" and image.getchannel("A").getextrema()[0] < 255


def _encode(image: Image.Image, fmt: str, quality: int) -> bytes:
    buffer = BytesIO()
    if fmt == "jpeg":
        image.save(buffer, "JPEG", quality=quality, optimize=True, progressive=True)
    elif fmt == "png":
        image.save(buffer, "PNG")
    else:
        image.save(buffer, "WEBP", quality=quality, method=4)
    return buffer.getvalue()


def render(data: bytes, sizes: dict[str, Box], cover: bool, output: Output, max_pixels: int):
    """Every size of ``sizes`` made from the image in ``data``, largest first: a list of
    :class:`Rendition`, with a WebP one after each when ``output.webp_variants``."""
    image = _open(data, max_pixels)
    with image:
        orientation = image.getexif().get(0x0112, 1)
        icc = image.info.get("icc_profile")
        # Sizes are boxes on the image as shown, after the EXIF orientation.
        shown = image.size[::-1] if orientation in _SWAPPING else image.size
        plan = sorted(
            ((_scale(*shown, box, cover), name, box) for name, box in sizes.items()),
            reverse=True,
        )
        first = _scaled_size(*shown, plan[0][0])
        stored_first = first[::-1] if orientation in _SWAPPING else first
        if image.format == "JPEG":
            image.draft(image.mode if image.mode in ("RGB", "L") else None, stored_first)
        _load(image)
        frame = image
        if frame.mode in ("P", "LA", "PA") or "transparency" in frame.info:
            frame = frame.convert("RGBA")
        elif frame.mode not in ("RGB", "RGBA", "L", "CMYK"):
            frame = frame.convert("RGBA" if "A" in frame.getbands() else "RGB")
        largest = frame.resize(stored_first, Image.Resampling.LANCZOS, reducing_gap=REDUCING_GAP)
    if orientation in _UPRIGHT:
        largest = largest.transpose(_UPRIGHT[orientation])
    largest = _to_srgb(largest, icc)
    transparent = _has_transparency(largest)
    if largest.mode == "RGBA" and not transparent:
        largest = largest.convert("RGB")
    if transparent and output.transparent_format == "jpeg":
        white = Image.new("RGB", largest.size, (255, 255, 255))
        white.paste(largest, mask=largest.getchannel("A"))
        largest = white
        transparent = False
    fmt = output.transparent_format if transparent else "jpeg"

    renditions = []
    previous = largest
    for scale, name, box in plan:
        size = _scaled_size(*shown, scale)
        if previous.size != size:
            previous = previous.resize(size, Image.Resampling.LANCZOS, reducing_gap=REDUCING_GAP)
        scaled = previous
        result = _crop_centred(scaled, box) if cover else scaled
        result.info.clear()  # nothing of the original's metadata goes out
        renditions.append(
            Rendition(name, fmt, _encode(result, fmt, output.jpeg_quality), *result.size)
        )
        if output.webp_variants and fmt != "webp":
            renditions.append(
                Rendition(name, "webp", _encode(result, "webp", output.jpeg_quality), *result.size)
            )
    return renditions
