"""openevent_images.processing: what comes out of an image, and what is refused, from bytes."""

from io import BytesIO

import pytest
from pictures import (
    GPS_IFD,
    HTML_AS_PNG,
    SVG,
    bomb_png,
    detailed,
    encode,
    halves,
    jpeg,
    swapped_primaries_profile,
    transparent_png,
)
from PIL import Image

from openevent_images.processing import FORMATS, ImageRejected, Output, inspect, render
from openevent_images.settings import UPLOAD_FORMATS

BANNER = {"large": (1300, None), "thumbnail": (500, 200), "icon": (75, 30)}
PIXELS = 40_000_000


def _open(rendition) -> Image.Image:
    image = Image.open(BytesIO(rendition.data))
    image.load()
    return image


def _by_size(renditions) -> dict:
    return {r.size: r for r in renditions if r.format != "webp"}


def test_the_configured_quality_reaches_the_encoder():
    data = jpeg(detailed(1600, 1200))
    low = _by_size(render(data, BANNER, False, Output(jpeg_quality=40), PIXELS))
    high = _by_size(render(data, BANNER, False, Output(jpeg_quality=92), PIXELS))
    for size in BANNER:
        assert len(low[size].data) < 0.7 * len(high[size].data), size
    large = _open(high["large"])
    assert large.format == "JPEG"
    assert large.info.get("progressive") == 1 and large.info.get("progression") == 1


def test_sizes_fit_their_boxes_keep_the_ratio_and_are_never_upscaled():
    renditions = _by_size(render(jpeg(detailed(2600, 1000)), BANNER, False, Output(), PIXELS))
    assert {s: (r.width, r.height) for s, r in renditions.items()} == {
        "large": (1300, 500),
        "thumbnail": (500, 192),
        "icon": (75, 29),
    }
    for rendition in renditions.values():
        assert _open(rendition).size == (rendition.width, rendition.height)
    small = _by_size(render(jpeg(detailed(300, 100)), BANNER, False, Output(), PIXELS))
    assert (small["large"].width, small["large"].height) == (300, 100)  # not upscaled to 1300


def test_cover_crops_to_the_box_around_the_centre():
    image = Image.new("RGB", (900, 600), (0, 0, 255))
    image.paste((255, 0, 0), (150, 0, 750, 600))  # blue bands left and right of a red middle
    sizes = {"thumbnail": (500, 500), "small": (50, 50), "icon": (35, 35)}
    renditions = _by_size(render(jpeg(image), sizes, True, Output(), PIXELS))
    assert [(r.width, r.height) for r in renditions.values()] == [(500, 500), (50, 50), (35, 35)]
    thumbnail = _open(renditions["thumbnail"])
    # The centred 600x600 square of the 900x600 image: red at the edges, the bands cut off.
    for point in [(2, 250), (497, 250), (250, 250)]:
        red, _, blue = thumbnail.getpixel(point)
        assert red > 200 and blue < 60, point


def test_exif_orientation_is_applied_and_every_metadata_is_stripped():
    # Orientation 6: the stored image is shown turned 90 degrees clockwise, its left half on top.
    data = jpeg(halves(800, 400), orientation=6, gps=True)
    assert Image.open(BytesIO(data)).getexif().get_ifd(GPS_IFD)  # the original has a position
    [large] = render(data, {"large": (1300, None)}, False, Output(), PIXELS)
    image = _open(large)
    assert image.size == (400, 800)
    top, bottom = image.getpixel((200, 100)), image.getpixel((200, 700))
    assert top[0] > 200 and top[2] < 60  # red, the stored left half
    assert bottom[2] > 200 and bottom[0] < 60
    assert not image.getexif()
    assert not {"exif", "icc_profile", "dpi", "comment"} & set(image.info)
    assert b"Exif" not in large.data[:4096]


def test_colour_profiles_are_converted_to_srgb():
    red = Image.new("RGB", (200, 100), (255, 0, 0))
    data = encode(red, "JPEG", quality=95, icc_profile=swapped_primaries_profile())
    [large] = render(data, {"large": (1300, None)}, False, Output(), PIXELS)
    image = _open(large)
    red_out, green_out, _ = image.getpixel((100, 50))
    assert green_out > 200 and red_out < 80  # the profile's red is sRGB's green
    assert "icc_profile" not in image.info


def test_real_transparency_stays_png_with_alpha():
    renditions = _by_size(render(transparent_png(), BANNER, False, Output(), PIXELS))
    for rendition in renditions.values():
        image = _open(rendition)
        assert (rendition.format, image.format, image.mode) == ("png", "PNG", "RGBA")
        assert image.getpixel((0, 0))[3] == 0
        assert image.getpixel((image.width // 2, image.height // 2)) == (255, 0, 0, 255)


def test_transparency_flattened_for_jpeg_lands_on_white_not_black():
    output = Output(transparent_format="jpeg")
    large = _by_size(render(transparent_png(), BANNER, False, output, PIXELS))["large"]
    image = _open(large)
    assert (large.format, image.mode) == ("jpeg", "RGB")
    assert min(image.getpixel((2, 2))) > 245  # white where it was transparent
    assert image.getpixel((200, 150))[0] > 240


def test_transparency_may_be_webp():
    large = render(
        transparent_png(), {"large": (1300, None)}, False, Output(transparent_format="webp"), PIXELS
    )[0]
    image = _open(large)
    assert (large.format, image.format, image.mode) == ("webp", "WEBP", "RGBA")
    assert image.getpixel((0, 0))[3] == 0


def test_an_opaque_png_becomes_a_jpeg():
    data = encode(detailed(600, 400).convert("RGBA"), "PNG")  # an alpha channel, all opaque
    [large] = render(data, {"large": (1300, None)}, False, Output(), PIXELS)
    assert _open(large).format == "JPEG"


def test_webp_variants_follow_each_size():
    renditions = render(jpeg(detailed(800, 600)), BANNER, False, Output(webp_variants=True), PIXELS)
    assert [(r.size, r.format) for r in renditions] == [
        (size, fmt) for size in ("large", "thumbnail", "icon") for fmt in ("jpeg", "webp")
    ]
    for rendition in renditions:
        assert _open(rendition).size == (rendition.width, rendition.height)


def test_a_gif_gives_its_first_frame():
    frames = [Image.new("RGB", (120, 80), colour) for colour in [(255, 0, 0), (0, 255, 0)]]
    buffer = BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:])
    assert inspect(buffer.getvalue(), PIXELS).format == "GIF"
    [large] = render(buffer.getvalue(), {"large": (1300, None)}, False, Output(), PIXELS)
    assert _open(large).getpixel((60, 40))[0] > 200


@pytest.mark.parametrize(
    ("data", "status"),
    [
        (HTML_AS_PNG, 415),
        (SVG, 415),
        (b"", 415),
        (b"%PDF-1.7\n", 415),
        (encode(Image.new("RGB", (50, 50)), "BMP"), 415),
        (encode(Image.new("RGB", (50, 50)), "TIFF"), 415),
        (jpeg(detailed(400, 300))[:3000], 422),  # truncated
        (encode(detailed(400, 300), "PNG")[:5000], 422),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, 422),  # a PNG signature, then nonsense
        (bomb_png(), 422),  # 100 megapixels in a few kilobytes
    ],
    ids=["html", "svg", "empty", "pdf", "bmp", "tiff", "jpeg-cut", "png-cut", "png-junk", "bomb"],
)
def test_files_that_are_not_acceptable_images_are_refused_from_their_bytes(data, status):
    with pytest.raises(ImageRejected) as refused:
        inspect(data, PIXELS)
    assert refused.value.status == status


def test_the_pixel_limit_is_the_settings_own():
    data = jpeg(detailed(400, 300))
    assert inspect(data, 400 * 300).width == 400
    with pytest.raises(ImageRejected) as refused:
        inspect(data, 400 * 300 - 1)
    assert refused.value.status == 422
    with pytest.raises(ImageRejected):
        render(data, BANNER, False, Output(), 400 * 300 - 1)


def test_the_setting_names_every_supported_format():
    assert set(UPLOAD_FORMATS) == {name.lower() for name in FORMATS}


@pytest.mark.parametrize(
    ("data", "found"),
    [(encode(detailed(60, 40), "GIF"), "GIF"), (encode(detailed(60, 40), "WEBP"), "WebP")],
    ids=["gif", "webp"],
)
def test_a_supported_format_the_site_does_not_take_is_refused_as_unsupported(data, found):
    taken = ("jpeg", "png")
    assert inspect(jpeg(detailed(60, 40)), PIXELS, taken).format == "JPEG"
    assert inspect(encode(detailed(60, 40), "PNG"), PIXELS, taken).format == "PNG"
    with pytest.raises(ImageRejected) as refused:
        inspect(data, PIXELS, taken)
    assert refused.value.status == 415
    assert refused.value.detail == f"the file is not a JPEG or PNG image but a {found} one"
    with pytest.raises(ImageRejected) as refused:
        inspect(HTML_AS_PNG, PIXELS, taken)
    assert (refused.value.status, refused.value.detail) == (
        415,
        "the file is not a JPEG or PNG image",
    )
    # Originals already stored are still resized, whatever the site takes now.
    [icon] = render(data, {"icon": (30, 20)}, False, Output(), PIXELS)
    assert (icon.width, icon.height) == (30, 20)
