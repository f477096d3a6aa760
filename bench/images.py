"""Benchmark openevent-images' processing against a naive and a hand-tuned Pillow script.

    python bench/images.py [--repeat N]

Two inputs, built here: a 12-megapixel JPEG photo (4000x3000, quality 92) and a 2000x2000
RGBA PNG with real transparency. Each goes through every kind's sizes with the default
settings (event banner: 1300 wide, 500x200, 75x30; event logo: 500x200; speaker photo: 500x500,
50x50, 35x35), one kind at a time, as the plugin's jobs do (in production each kind is a
different upload). Three ways, each writing the same files (same sizes, formats, JPEG quality
85, progressive and optimized; transparent PNG stays PNG):

- plugin: ``openevent_images.processing.render``, what the job runs;
- naive: what Open Event Server did: decode the original once per size and resize it from full
  size (Lanczos);
- fastest: the fastest script written for these outputs: one decode per kind, a JPEG decoded
  straight at the scale the largest size needs (``draft``), each size resized from the
  previous one with ``reduce()`` first (``reducing_gap``), nothing checked that these inputs
  do not need (orientation, colour profile, transparency are known).

Times: the three ways take turns, ``--repeat`` rounds of each on each input, and the best time
of each is reported (on a shared machine the best is the least disturbed; taking turns spreads
any slow period over all three). Peak memory: each way on each input once more in a fresh
process, as the resident size it reached above what the process held with the input loaded
(Linux's ``VmHWM``, reset at that point; Pillow's buffers are not Python objects, so
tracemalloc would not see them).
"""

import argparse
import subprocess
import sys
import tempfile
import time
from io import BytesIO
from pathlib import Path

from _common import emit
from PIL import Image

from openevent_images.processing import Output, render
from openevent_images.settings import read_settings

QUALITY = 85
LANCZOS = Image.Resampling.LANCZOS


def _inputs(folder: Path) -> list[Path]:
    fractal = Image.effect_mandelbrot((4000, 3000), (-2.0, -1.2, 0.8, 1.2), 96)
    noise = Image.effect_noise((4000, 3000), 24)
    gradient = Image.linear_gradient("L").resize((4000, 3000))
    photo = Image.merge("RGB", (fractal, gradient, noise))
    photo.save(folder / "photo.jpg", "JPEG", quality=92)
    logo = Image.new("RGBA", (2000, 2000), (0, 0, 0, 0))
    disc = Image.radial_gradient("L").resize((1600, 1600))
    colour = Image.merge("RGB", (disc, Image.linear_gradient("L").resize((1600, 1600)), disc))
    logo.paste(colour.convert("RGBA"), (200, 200), mask=Image.eval(disc, lambda v: 255 - v))
    logo.save(folder / "logo.png", "PNG")
    return [folder / "photo.jpg", folder / "logo.png"]


def _kinds():
    settings = read_settings({})
    return [(name, options.sizes) for name, options in settings.kinds.items()]


def _encode(image: Image.Image, fmt: str) -> bytes:
    buffer = BytesIO()
    if fmt == "JPEG":
        image.save(buffer, "JPEG", quality=QUALITY, optimize=True, progressive=True)
    else:
        image.save(buffer, "PNG")
    return buffer.getvalue()


def _fit(width: int, height: int, box) -> tuple[int, int]:
    scale = min(
        1.0, *(side / full for side, full in zip(box, (width, height), strict=True) if side)
    )
    return max(1, round(width * scale)), max(1, round(height * scale))


def plugin(data: bytes) -> list[bytes]:
    output = Output(jpeg_quality=QUALITY)
    return [
        rendition.data
        for _, sizes in _kinds()
        for rendition in render(data, sizes, False, output, 40_000_000)
    ]


def naive(data: bytes) -> list[bytes]:
    files = []
    for _, sizes in _kinds():
        for box in sizes.values():
            image = Image.open(BytesIO(data))  # the original again, for every size
            image.load()
            fmt = "PNG" if image.mode == "RGBA" else "JPEG"
            files.append(_encode(image.resize(_fit(*image.size, box), LANCZOS), fmt))
    return files


def fastest(data: bytes) -> list[bytes]:
    files = []
    for _, sizes in _kinds():
        image = Image.open(BytesIO(data))
        targets = sorted((_fit(*image.size, box) for box in sizes.values()), reverse=True)
        fmt = "PNG" if image.mode == "RGBA" else "JPEG"
        if image.format == "JPEG":
            image.draft("RGB", targets[0])
        for target in targets:
            image = image.resize(target, LANCZOS, reducing_gap=3.0)
            files.append(_encode(image, fmt))
    return files


WAYS = {"plugin": plugin, "naive": naive, "fastest": fastest}


def _memory_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise LookupError(field)


def _peak_memory(way: str, path: str) -> int:
    """In a fresh process: the memory (KiB) one run of ``way`` on the input adds at its peak."""
    data = Path(path).read_bytes()
    baseline = _memory_kib("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")  # the peak starts again from here
    WAYS[way](data)
    return _memory_kib("VmHWM") - baseline


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--peak-memory", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.peak_memory:
        print(_peak_memory(*args.peak_memory))
        return 0

    with tempfile.TemporaryDirectory() as folder:
        paths = _inputs(Path(folder))
        inputs = {path.name: path.read_bytes() for path in paths}
        best = {(name, way): float("inf") for name in inputs for way in WAYS}
        files = {}
        for _ in range(args.repeat):
            for name, data in inputs.items():
                for way, process in WAYS.items():
                    started = time.perf_counter()
                    files[name, way] = process(data)
                    elapsed = time.perf_counter() - started
                    best[name, way] = min(best[name, way], elapsed)
        peaks = {}
        for path in paths:
            for way in WAYS:
                command = [sys.executable, __file__, "--peak-memory", way, str(path)]
                child = subprocess.run(command, check=True, capture_output=True, text=True)
                peaks[path.name, way] = int(child.stdout) / 1024
    titles = {"photo.jpg": "12 MP JPEG", "logo.png": "2000x2000 RGBA PNG"}
    count = len(files["photo.jpg", "plugin"])
    print(f"every kind's sizes ({count} files an input), best of {args.repeat} rounds")
    print(f"{'input':20}{'way':9}{'seconds':>9}{'peak MiB':>10}{'vs plugin':>11}")
    for name in inputs:
        for way in WAYS:
            ratio = best[name, way] / best[name, "plugin"]
            print(
                f"{titles[name]:20}{way:9}{best[name, way]:>9.3f}{peaks[name, way]:>10.1f}"
                f"{ratio:>10.2f}x"
            )
    total = {way: sum(best[name, way] for name in inputs) for way in WAYS}
    print(
        f"both inputs: plugin {total['plugin']:.3f} s, naive {total['naive']:.3f} s, fastest "
        f"{total['fastest']:.3f} s: the plugin is {total['naive'] / total['plugin']:.1f}x "
        f"faster than naive (goal >= 2x) and takes {total['plugin'] / total['fastest']:.2f}x "
        "the fastest script's time (goal <= 1.2x)"
    )
    # Against the naive script the "floor" is what the plugin must beat twice over.
    for way, goal in (("fastest", 1.2), ("naive", 0.5)):
        emit(
            f"images: every size of both inputs, vs the {way} script",
            unit="s",
            app=total["plugin"],
            floor=total[way],
            goal=goal,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
