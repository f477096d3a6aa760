"""Images the tests build with Pillow: photos with EXIF, transparent PNGs, and hostile files."""

import os
import struct
from io import BytesIO

from PIL import Image, ImageCms

ORIENTATION, GPS_IFD = 0x0112, 0x8825


def encode(image: Image.Image, fmt: str, **params) -> bytes:
    buffer = BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


def detailed(width: int, height: int) -> Image.Image:
    """A colour picture with detail everywhere, so JPEG quality shows in the file size."""
    fractal = Image.effect_mandelbrot((width, height), (-2.0, -1.2, 0.8, 1.2), 64)
    noise = Image.effect_noise((width, height), 40)
    gradient = Image.linear_gradient("L").resize((width, height))
    return Image.merge("RGB", (fractal, noise, gradient))


def halves(width: int, height: int, left=(255, 0, 0), right=(0, 0, 255)) -> Image.Image:
    """Left half one colour, right half another: orientation shows."""
    image = Image.new("RGB", (width, height), right)
    image.paste(left, (0, 0, width // 2, height))
    return image


def jpeg(image: Image.Image, *, orientation: int | None = None, gps=False, **params) -> bytes:
    exif = Image.Exif()
    if orientation is not None:
        exif[ORIENTATION] = orientation
    if gps:
        exif[GPS_IFD] = {1: "N", 2: (52.0, 31.0, 12.0), 3: "E", 4: (13.0, 24.0, 36.0)}
    return encode(image, "JPEG", quality=params.pop("quality", 95), exif=exif, **params)


def transparent_png(width: int = 400, height: int = 300) -> bytes:
    """A red square on a fully transparent background."""
    image = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    image.paste((255, 0, 0, 255), (width // 4, height // 4, 3 * width // 4, 3 * height // 4))
    return encode(image, "PNG")


def incompressible_png(side: int) -> bytes:
    """A PNG of random pixels: about 3 bytes a pixel whatever the compression."""
    return encode(Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)), "PNG")


def bomb_png(side: int = 10_000) -> bytes:
    """A tiny file that decodes to ``side * side`` pixels."""
    return encode(Image.new("1", (side, side)), "PNG", optimize=True)


def swapped_primaries_profile() -> bytes:
    """An RGB colour profile whose red is sRGB's green and whose green is sRGB's red: a pixel
    (255, 0, 0) in it is green once converted to sRGB."""
    profile = bytearray(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    (count,) = struct.unpack_from(">I", profile, 128)
    entries = {}
    for index in range(count):
        at = 132 + 12 * index
        signature, offset, size = struct.unpack_from(">4sII", profile, at)
        entries[signature] = (at, offset, size)
    (red_at, *red), (green_at, *green) = entries[b"rXYZ"], entries[b"gXYZ"]
    struct.pack_into(">II", profile, red_at + 4, *green)
    struct.pack_into(">II", profile, green_at + 4, *red)
    profile[84:100] = bytes(16)  # the profile ID (an MD5) no longer matches: none
    return bytes(profile)


HTML_AS_PNG = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100">'
    b'<script>alert(1)</script><rect width="100" height="100" fill="red"/></svg>'
)
