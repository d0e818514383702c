"""A cold build with each font subsetter, side by side in one run.

    .venv/bin/python bench/subsetting.py [PROJECT] [--repeat 3] [--jobs N]

WeasyPrint subsets the fonts of every PDF with libharfbuzz-subset where the
system has it, else with fontTools (several times slower). This builds the
project (default: the default handbook) into an empty folder, each time in
a fresh process, in three ways, interleaved:

- ``harfbuzz``: libharfbuzz-subset (needs it installed: apt's libharfbuzz-subset0);
- ``fonttools``: fontTools, as on a machine without it, with the engine's
  lean-subsetting workaround;
- ``fonttools-plain``: fontTools without the workaround.

It prints the median wall time and CPU time (the build and its workers) of
each, and each one's ratio to ``harfbuzz``, and checks that both fontTools
modes made the same bytes (libharfbuzz-subset makes other, equally valid subsets).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
MODES = ("harfbuzz", "fonttools", "fonttools-plain")


def child(mode: str, project: str, out: str, jobs: str) -> None:
    """One build in this process, with the subsetter ``mode`` names; prints its CPU."""
    import weasyprint.pdf.fonts

    from handbook.build import BuildOptions, build
    from handbook.engine import workarounds

    if mode != "harfbuzz":
        weasyprint.pdf.fonts.harfbuzz_subset = None  # forked workers inherit both
    elif weasyprint.pdf.fonts.harfbuzz_subset is None:
        sys.exit("libharfbuzz-subset is not installed: apt-get install libharfbuzz-subset0")
    if mode == "fonttools-plain":
        workarounds.lean_subsetting = contextlib.nullcontext
    build(Path(project), BuildOptions(out_dir=Path(out), jobs=int(jobs) or None))
    usage = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    print(json.dumps({"cpu": sum(u.ru_utime + u.ru_stime for u in usage)}))


def digest(folder: Path) -> str:
    """A hash of every PDF in the output folder."""
    hasher = hashlib.sha256()
    for path in sorted(folder.rglob("*.pdf")):
        hasher.update(str(path.relative_to(folder)).encode() + path.read_bytes())
    return hasher.hexdigest()


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "_child":
        return child(*sys.argv[2:])
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("project", nargs="?", type=Path, default=REPO)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=0, help="default: one per core")
    args = parser.parse_args()
    wall: dict[str, list[float]] = {mode: [] for mode in MODES}
    cpu: dict[str, list[float]] = {mode: [] for mode in MODES}
    digests: dict[str, set[str]] = {mode: set() for mode in MODES}
    with tempfile.TemporaryDirectory() as temp:
        for _ in range(args.repeat):
            for mode in MODES:
                out = Path(temp) / mode
                shutil.rmtree(out, ignore_errors=True)
                command = [sys.executable, __file__, "_child", mode, str(args.project), str(out)]
                started = time.perf_counter()
                done = subprocess.run(
                    [*command, str(args.jobs)], capture_output=True, text=True, check=False
                )
                wall[mode].append(time.perf_counter() - started)
                if done.returncode:
                    sys.exit(f"{mode} build failed:\n{done.stderr}")
                cpu[mode].append(json.loads(done.stdout.splitlines()[-1])["cpu"])
                digests[mode].add(digest(out))
    base_wall, base_cpu = statistics.median(wall["harfbuzz"]), statistics.median(cpu["harfbuzz"])
    print(f"cold build of {args.project}, median of {args.repeat}")
    print("| subsetter | wall | CPU | wall / harfbuzz | CPU / harfbuzz |")
    print("|---|---|---|---|---|")
    for mode in MODES:
        w, c = statistics.median(wall[mode]), statistics.median(cpu[mode])
        print(f"| {mode} | {w:.2f} s | {c:.2f} s | {w / base_wall:.2f} | {c / base_cpu:.2f} |")
    steady = all(len(found) == 1 for found in digests.values())
    print(f"each mode made the same PDF bytes in every build: {steady}")
    lean = digests["fonttools"] == digests["fonttools-plain"]
    print(f"fontTools made the same PDF bytes with and without the workaround: {lean}")


if __name__ == "__main__":
    main()
