"""Benchmark storage throughput: a 50 MB object put and read back, against a plain file copy.

    python bench/storage.py [--size-mb 50] [--repetitions 5]

Backends: ``local`` (a temporary folder; its put fsyncs, as it must for durability) and
``gcs`` on the GCS emulator (``gcp-storage-emulator``, the testing extra, started in a process
of its own on a loopback port, as the test fixtures do; it keeps objects in memory and hashes
them, so its figures measure the client's streaming plus the emulator, not Google). The floor
is ``shutil.copyfileobj`` between two temporary files (1 MiB buffer, no fsync; the same with
an fsync is shown too, what the local backend's durable put costs at least). Each
repetition runs every measurement once, interleaved, so drift hits them alike; the figures are
medians. Peak RSS is this process's growth over its RSS before each measurement (Linux:
``/proc/self/clear_refs`` resets the peak), so the emulator's memory is not counted.
"""

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from _common import emit

from openevent.storage import LocalStorage
from openevent.storage.gcs import GCSStorage
from openevent.testing import started_gcs_emulator

SECRET = "a benchmark secret, long enough"
MB = 1_000_000
COPY_BUFFER = 1024 * 1024


def _status(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise LookupError(field)


def measured(run) -> tuple[float, int]:
    """Seconds ``run()`` took and the peak RSS growth meanwhile, in bytes."""
    with open("/proc/self/clear_refs", "w") as clear_refs:
        clear_refs.write("5")  # the peak RSS (VmHWM) restarts from the current RSS
    before = _status("VmRSS")
    started = time.perf_counter()
    run()
    return time.perf_counter() - started, _status("VmHWM") - before


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mb", type=int, default=50, help="object size in MB (50)")
    parser.add_argument("--repetitions", type=int, default=5, help="repetitions (5)")
    args = parser.parse_args(argv)
    size = args.size_mb * MB
    with tempfile.TemporaryDirectory() as folder, started_gcs_emulator() as host:
        folder = Path(folder)
        source, target = folder / "source.bin", folder / "target.bin"
        with source.open("wb") as file:
            for _ in range(size // MB):
                file.write(os.urandom(MB))
        os.environ["STORAGE_EMULATOR_HOST"] = host
        gcs = GCSStorage("bench-bucket", SECRET, public_objects="app")
        gcs.client().create_bucket("bench-bucket")
        backends = {"local": LocalStorage(folder / "files", SECRET), "gcs (emulator)": gcs}

        def copy():
            with source.open("rb") as src, target.open("wb") as dst:
                shutil.copyfileobj(src, dst, COPY_BUFFER)

        def upload(storage):
            def run():
                with source.open("rb") as src:
                    storage.put("bench/object.bin", src, "application/octet-stream")

            return run

        def download(storage):
            def run():
                with storage.open("bench/object.bin") as src, target.open("wb") as dst:
                    shutil.copyfileobj(src, dst, COPY_BUFFER)

            return run

        def copy_fsync():
            with source.open("rb") as src, target.open("wb") as dst:
                shutil.copyfileobj(src, dst, COPY_BUFFER)
                dst.flush()
                os.fsync(dst.fileno())

        # The second floor is what the local backend's durable write costs at least.
        runs = {"file copy (floor)": copy, "file copy + fsync": copy_fsync}
        for name, storage in backends.items():
            runs[f"{name} upload"] = upload(storage)
            runs[f"{name} download"] = download(storage)
        for run in runs.values():  # warm up: imports, connections, page cache
            run()
        seconds = {name: [] for name in runs}
        peaks = {name: [] for name in runs}
        for _ in range(args.repetitions):
            for name, run in runs.items():
                took, peak = measured(run)
                seconds[name].append(took)
                peaks[name].append(peak)

    floor = statistics.median(seconds["file copy (floor)"])
    print(f"{args.size_mb} MB object, {args.repetitions} interleaved repetitions, medians")
    print(f"{'':24} {'MB/s':>8} {'x floor':>8} {'peak RSS MB':>12}")
    for name in runs:
        median = statistics.median(seconds[name])
        print(
            f"{name:24} {size / MB / median:8.0f} {floor / median:8.2f}"
            f" {max(peaks[name]) / MB:12.1f}"
        )
        if name != "file copy (floor)":
            emit(
                f"storage: {name}, {args.size_mb} MB",
                unit="MB/s",
                app=size / MB / median,
                floor=size / MB / floor,
                higher_is_better=True,
                peak_rss_mb=round(max(peaks[name]) / MB, 1),
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
