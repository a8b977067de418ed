"""Whole-pipeline scaling: time per participant and memory per worker.

Simulates EEG-only studies of growing size, runs ``neuromark run`` on each
(discover -> check -> eeg -> stats -> predict -> report, cache off) with 1
and 2 workers in a child process, and samples the resident memory of that
process and of each of its workers (psutil). Reported as ratios within this
run: time per participant relative to the smallest study (1.0 = linear
time), worker memory relative to the smallest study (1.0 = flat), and the
speed-up from 1 to 2 workers.

Usage::

    .venv/bin/python benchmarks/bench_scale.py --sizes 20 80 320
"""

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import yaml

from neuromark.simulation import simulate_study


def _run(config_path):
    """Run the pipeline in a child process; wall time and peak RSS per process."""
    command = [sys.executable, "-m", "neuromark.cli", "run", str(config_path)]
    start = time.perf_counter()
    # a file, not a pipe: an unread pipe fills up and blocks the child's logging
    log = Path(config_path).with_suffix(".log")
    with log.open("w") as stderr:
        child = psutil.Popen(command, stdout=subprocess.DEVNULL, stderr=stderr)
        peaks = _sample_memory(child)
    seconds = time.perf_counter() - start
    if child.returncode:
        raise RuntimeError(log.read_text())
    main = peaks.pop(child.pid, 0) / 2**20
    workers = [rss / 2**20 for rss in peaks.values()]
    return seconds, main, max(workers, default=0.0)


def _sample_memory(child):
    """Peak resident memory of ``child`` and each of its descendants, by pid."""
    peaks = {}
    while child.poll() is None:
        try:
            processes = [child, *child.children(recursive=True)]
            for process in processes:
                peaks[process.pid] = max(
                    peaks.get(process.pid, 0), process.memory_info().rss
                )
        except psutil.Error:
            pass
        time.sleep(0.1)
    return peaks


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[20, 80, 320])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--duration", type=float, default=60.0, help="EEG seconds")
    parser.add_argument("--permutations", type=int, default=100)
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            root = simulate_study(
                Path(tmp) / f"study{size}",
                n_participants=size,
                modalities=("eeg",),
                eeg_duration=args.duration,
                seed=size,
                n_jobs=2,
            )
            for workers in args.workers:
                out = Path(tmp) / f"out{size}_{workers}"
                config = Path(tmp) / f"config{size}_{workers}.yaml"
                settings = {
                    "bids_root": str(root),
                    "output_dir": str(out),
                    "modalities": ["eeg"],
                    "n_jobs": workers,
                    "cache": False,
                    "predict": {"n_permutations": args.permutations},
                }
                config.write_text(yaml.safe_dump(settings))
                seconds, main_mib, worker_mib = _run(config)
                timings = json.loads((out / "provenance.json").read_text())["timings_s"]
                rows.append((size, workers, seconds, timings, main_mib, worker_mib))
                steps = ", ".join(f"{k} {v:.1f}" for k, v in timings.items())
                print(
                    f"{size:4d} participants, {workers} worker(s): {seconds:7.1f} s "
                    f"({seconds / size:.2f} s/participant; eeg step "
                    f"{timings.get('eeg', 0) / size:.2f} s/participant), main "
                    f"{main_mib:.0f} MiB, largest worker {worker_mib:.0f} MiB\n"
                    f"      steps (s): {steps}",
                    flush=True,
                )
    print("\nratios (within this run)")
    for workers in args.workers:
        mine = [r for r in rows if r[1] == workers]
        base = mine[0]
        for size, _, seconds, timings, main_mib, worker_mib in mine:
            per = (seconds / size) / (base[2] / base[0])
            eeg = (timings["eeg"] / size) / (base[3]["eeg"] / base[0])
            memory = worker_mib / base[5] if base[5] else float("nan")
            print(
                f"{workers} worker(s), {size} participants: time per participant "
                f"x{per:.2f} of {base[0]} (eeg step x{eeg:.2f}), worker memory "
                f"x{memory:.2f}, "
                f"main memory x{main_mib / base[4]:.2f}"
            )
    if 1 in args.workers and 2 in args.workers:
        for size in args.sizes:
            one = next(r[2] for r in rows if r[0] == size and r[1] == 1)
            two = next(r[2] for r in rows if r[0] == size and r[1] == 2)
            print(f"speed-up 1 -> 2 workers at {size} participants: x{one / two:.2f}")


if __name__ == "__main__":
    main()
