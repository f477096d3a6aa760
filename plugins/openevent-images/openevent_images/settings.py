"""The plugin's site-wide settings (``images.*`` in the ini file), read and checked at start-up.

Each kind of image (an event's banner, its logo, a speaker's photo) has its sizes, named as the
columns they fill, and a crop mode. The defaults are Open Event Server's. A malformed value
stops the plugin with a message naming the setting (``openevent plugins list`` shows it).
"""

import hashlib
import re
from dataclasses import dataclass

SETTINGS_KEY = "openevent_images.settings"

# A box: the largest width and height of an output; None leaves that side free.
Box = tuple[int | None, int | None]


@dataclass(frozen=True)
class Kind:
    """A kind of image: the model attribute it comes from and the columns its sizes fill."""

    name: str  # event-banner, event-logo, speaker-photo
    model: str  # event or speaker
    source: str  # the attribute organizers set to an uploaded URL
    columns: dict[str, str]  # size name -> the column holding that size's URL
    default_sizes: dict[str, Box]

    @property
    def setting_prefix(self) -> str:
        return "images." + self.name.replace("-", "_")


KINDS = {
    kind.name: kind
    for kind in (
        Kind(
            "event-banner",
            "event",
            "original_image_url",
            {
                "large": "large_image_url",
                "thumbnail": "thumbnail_image_url",
                "icon": "icon_image_url",
            },
            {"large": (1300, None), "thumbnail": (500, 200), "icon": (75, 30)},
        ),
        # The logo is kept as one image: its resized copy replaces the uploaded URL.
        Kind("event-logo", "event", "logo_url", {"logo": "logo_url"}, {"logo": (500, 200)}),
        Kind(
            "speaker-photo",
            "speaker",
            "photo_url",
            {
                "thumbnail": "thumbnail_image_url",
                "small": "small_image_url",
                "icon": "icon_image_url",
            },
            {"thumbnail": (500, 500), "small": (50, 50), "icon": (35, 35)},
        ),
    )
}

TRANSPARENT_FORMATS = ("png", "webp", "jpeg")
# The formats uploads may be in (processing.FORMATS, in lower case); a site may take fewer.
UPLOAD_FORMATS = ("jpeg", "png", "webp", "gif")
_SIZE = re.compile(r"^([a-z]+)=(\d*)x(\d*)$")


@dataclass(frozen=True)
class KindOptions:
    """How one kind of image is resized."""

    sizes: dict[str, Box]
    cover: bool  # crop (centred) to fill each box instead of fitting inside it


@dataclass(frozen=True)
class ImageSettings:
    max_bytes: int
    max_pixels: int
    formats: tuple[str, ...]  # the formats uploads and imported images may be in
    jpeg_quality: int
    transparent_format: str  # what an image with real transparency becomes
    webp_variants: bool
    kinds: dict[str, KindOptions]

    def variant(self, kind: str) -> str:
        """A short name for what processing a kind of image produces with these settings.

        Part of the outputs' keys: the same upload processed again with the same settings
        writes the same keys, and a change of sizes or quality writes new ones.
        """
        options = self.kinds[kind]
        described = repr(
            (
                sorted(options.sizes.items()),
                options.cover,
                self.jpeg_quality,
                self.transparent_format,
                self.webp_variants,
            )
        )
        return hashlib.sha256(described.encode()).hexdigest()[:12]


def _integer(settings, name: str, default: int, low: int, high: int) -> int:
    raw = str(settings.get(name, default)).strip()
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise ValueError(f"{name} must be a whole number from {low} to {high}, not {raw!r}")
    return int(raw)


def _choice(settings, name: str, default: str, choices) -> str:
    value = str(settings.get(name, default)).strip().lower()
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(choices)}, not {value!r}")
    return value


def _sizes(settings, kind: Kind) -> dict[str, Box]:
    name = kind.setting_prefix + ".sizes"
    raw = settings.get(name)
    sizes = dict(kind.default_sizes)
    if raw is None:
        return sizes
    example = " ".join(
        f"{size}={width or ''}x{height or ''}" for size, (width, height) in sizes.items()
    )
    for item in str(raw).split():
        match = _SIZE.fullmatch(item)
        if match is None or match[1] not in sizes:
            raise ValueError(
                f"{name} lists sizes as NAME=WIDTHxHEIGHT among {', '.join(sizes)}, a side left"
                f" empty being free (default: {example}); not {item!r}"
            )
        box = tuple(int(side) if side else None for side in (match[2], match[3]))
        if box == (None, None) or any(side is not None and not 1 <= side <= 10000 for side in box):
            raise ValueError(f"{name}: {item!r} needs a width or height from 1 to 10000")
        sizes[match[1]] = box
    return sizes


def _formats(settings) -> tuple[str, ...]:
    name = "images.formats"
    raw = str(settings.get(name, " ".join(UPLOAD_FORMATS)))
    listed = raw.lower().split()
    if not listed or any(item not in UPLOAD_FORMATS for item in listed):
        raise ValueError(
            f"{name} lists one or more of {', '.join(UPLOAD_FORMATS)}, separated by spaces;"
            f" not {raw.strip()!r}"
        )
    return tuple(fmt for fmt in UPLOAD_FORMATS if fmt in listed)


def read_settings(settings) -> ImageSettings:
    """The plugin's settings from the app's, with their defaults; ValueError naming a bad one."""
    return ImageSettings(
        max_bytes=_integer(settings, "images.max_bytes", 10 * 1024 * 1024, 1024, 2**31),
        max_pixels=_integer(settings, "images.max_pixels", 40_000_000, 1, 2**31),
        formats=_formats(settings),
        jpeg_quality=_integer(settings, "images.jpeg_quality", 85, 1, 95),
        transparent_format=_choice(
            settings, "images.transparent_format", "png", TRANSPARENT_FORMATS
        ),
        webp_variants=_choice(settings, "images.webp_variants", "false", ("true", "false"))
        == "true",
        kinds={
            kind.name: KindOptions(
                sizes=_sizes(settings, kind),
                cover=_choice(settings, kind.setting_prefix + ".crop", "fit", ("fit", "cover"))
                == "cover",
            )
            for kind in KINDS.values()
        },
    )
