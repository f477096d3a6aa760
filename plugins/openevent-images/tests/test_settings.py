"""The plugin's site-wide settings: defaults, overrides, and a clear refusal of bad values."""

import pytest

from openevent.config import configure
from openevent.plugins import PLUGINS_KEY, PluginState
from openevent_images.settings import read_settings


def test_the_defaults_are_open_event_s():
    settings = read_settings({})
    assert (settings.max_bytes, settings.max_pixels) == (10 * 1024 * 1024, 40_000_000)
    assert (settings.jpeg_quality, settings.transparent_format) == (85, "png")
    assert settings.webp_variants is False
    assert settings.formats == ("jpeg", "png", "webp", "gif")
    sizes = {name: options.sizes for name, options in settings.kinds.items()}
    assert sizes == {
        "event-banner": {"large": (1300, None), "thumbnail": (500, 200), "icon": (75, 30)},
        "event-logo": {"logo": (500, 200)},
        "speaker-photo": {"thumbnail": (500, 500), "small": (50, 50), "icon": (35, 35)},
    }
    assert not any(options.cover for options in settings.kinds.values())


def test_sizes_and_crop_are_overridden_per_kind():
    settings = read_settings(
        {"images.event_banner.sizes": "large=1920x icon=x40", "images.event_logo.crop": "cover"}
    )
    banner = settings.kinds["event-banner"].sizes
    assert banner == {"large": (1920, None), "thumbnail": (500, 200), "icon": (None, 40)}
    assert settings.kinds["event-logo"].cover
    # The outputs' keys follow what they are made with.
    assert settings.variant("event-banner") != read_settings({}).variant("event-banner")
    assert settings.variant("speaker-photo") == read_settings({}).variant("speaker-photo")


def test_the_formats_taken_may_be_fewer():
    assert read_settings({"images.formats": "PNG  jpeg"}).formats == ("jpeg", "png")
    assert read_settings({"images.formats": "gif"}).formats == ("gif",)
    # Which formats uploads may be in changes no output: the keys stay.
    fewer = read_settings({"images.formats": "jpeg"})
    assert fewer.variant("event-banner") == read_settings({}).variant("event-banner")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("images.jpeg_quality", "100"),
        ("images.max_bytes", "ten"),
        ("images.transparent_format", "gif"),
        ("images.webp_variants", "maybe"),
        ("images.event_banner.sizes", "huge=100x100"),
        ("images.speaker_photo.sizes", "small=x"),
        ("images.event_logo.crop", "stretch"),
        ("images.formats", "jpeg svg"),
        ("images.formats", "jpeg,png"),
        ("images.formats", ""),
        ("images.formats", " "),
    ],
)
def test_a_bad_setting_fails_the_plugin_naming_it(app_settings, name, value):
    with pytest.raises(ValueError, match=name.replace(".", r"\.")):
        read_settings({name: value})
    registry = configure({**app_settings, name: value}).registry
    info = registry[PLUGINS_KEY]["images"]
    assert info.state is PluginState.FAILED
    assert name in info.reason
    registry["dbengine"].dispose()
