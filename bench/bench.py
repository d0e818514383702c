"""Benchmark the build on synthetic projects of 10, 50 and 200 techniques.

    .venv/bin/python bench/bench.py [--sizes 10 50 200] [--work DIR]

For each size it generates a project (techniques with the same kinds of
text, lists, zones and strokes as the real content, plus safety topics,
routines and chapters), then measures, each in a fresh process as a user
would run it:

- a cold full build with the default jobs and with ``--jobs 1``;
- a rebuild with nothing changed, and one after editing one technique;
- the floor: the same final HTML (booklet and every card) rendered by bare
  WeasyPrint, serially in one process with one shared font configuration;
- peak RSS of the build process and of its largest worker;
- the start-up time of ``handbook --help``.

It is not part of the test suite: times vary 15-25 % between runs on a
shared machine, so compare the ratios within one run.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
HANDBOOK = Path(sys.executable).parent / "handbook"

ZONES = ["neck", "shoulders", "upper-back", "mid-back", "lower-back", "sides", "spine", "kidneys"]
DIRECTIONS = ["up", "down", "left", "right", "outward", "inward", "circular"]
TEXT = (
    "slowly glide both palms along the muscles beside the spine keeping the pressure even "
    "and let your partner breathe out as you move towards the shoulders then return lightly "
    "over the same path with relaxed fingers and warm hands"
)
WORDS = TEXT.split()


def sentence(seed: int, length: int) -> str:
    words = [WORDS[(seed * 7 + i * 3) % len(WORDS)] for i in range(length)]
    return " ".join(words).capitalize() + "."


def yaml_list(items: list[str], indent: str = "  ") -> str:
    return "".join(f"{indent}- {item}\n" for item in items)


def make_project(root: Path, techniques: int) -> None:
    """A project like the default one, scaled to ``techniques`` techniques."""
    content = root / "content"
    for folder in ("chapters", "techniques", "safety", "routines"):
        (content / folder).mkdir(parents=True, exist_ok=True)
    topics = max(1, techniques // 10)
    routines = max(1, techniques // 10)
    (root / "handbook.yaml").write_text(
        f"title: Synthetic Handbook {techniques}\nsubtitle: A benchmark project\n"
        "authors: [Bench]\nlanguage: en\npaper: a5\ncard_size: a6\n"
        "outline: [welcome, techniques, routines, safety]\n"
        "scale: {label: Pressure, max: 5}\n"
    )
    (content / "zones.yaml").write_text(
        "kind: zones\nzones:\n"
        + "".join(f"  - id: {z}\n    name: {z.replace('-', ' ').title()}\n" for z in ZONES)
    )
    sections = "".join(
        f"  - title: Section {i}\n    tone: {['plain', 'tip', 'caution'][i % 3]}\n"
        f"    body: |\n      {sentence(i, 60)}\n\n      {sentence(i + 1, 50)}\n"
        for i in range(6)
    )
    (content / "chapters/welcome.yaml").write_text(
        f"kind: chapter\nid: welcome\ntitle: Welcome\nsections:\n{sections}"
    )
    for t in range(techniques):
        zones = [ZONES[(t + i) % 6] for i in range(3)]
        strokes = "".join(
            f"  - {{zone: {zone}, direction: {DIRECTIONS[(t + i) % 7]}}}\n"
            for i, zone in enumerate(zones[:2])
        )
        (content / f"techniques/technique-{t}.yaml").write_text(
            f"kind: technique\nid: technique-{t}\nname: Technique {t}\n"
            f"other_names: [Variant {t}]\npurpose: {sentence(t, 14)}\n"
            f"level: {t % 5 + 1}\nfacts:\n  - {{label: Hand, value: Open palms}}\n"
            f"  - {{label: Direction, value: Lengthwise}}\n"
            f"  - {{label: Time, value: {t % 6 + 2} min}}\n"
            f"steps:\n{yaml_list([sentence(t + i, 14) for i in range(4)])}"
            f"cues:\n{yaml_list([sentence(t + 9, 10)])}"
            f"mistakes:\n{yaml_list([sentence(t + 5, 9)])}"
            f"never: Never press on the spine itself.\n"
            f"zones: [{', '.join(zones)}]\nstrokes:\n{strokes}"
            f"avoid_zones: [spine]\nsafety: [topic-{t % topics}]\n"
        )
    for s in range(topics):
        (content / f"safety/topic-{s}.yaml").write_text(
            f"kind: safety\nid: topic-{s}\ntitle: Safety topic {s}\n"
            f"severity: {['stop', 'caution', 'note'][s % 3]}\nsummary: {sentence(s, 12)}\n"
            f"conditions:\n{yaml_list([sentence(s + i, 10) for i in range(3)])}"
            f"actions:\n{yaml_list([sentence(s + 4, 10)])}zones: [spine, kidneys]\n"
        )
    for r in range(routines):
        steps = "".join(
            f"  - item: technique-{(r + i) % techniques}\n    minutes: 3\n"
            f"    note: {sentence(r + i, 8)}\n"
            for i in range(5)
        )
        (content / f"routines/routine-{r}.yaml").write_text(
            f"kind: routine\nid: routine-{r}\ntitle: Routine {r}\nminutes: 15\n"
            f"purpose: {sentence(r, 10)}\nsteps:\n{steps}"
        )


# --- measurements, each in a fresh process -----------------------------------


def child_build(project: str, out: str, *args: str) -> None:
    """Run one build (as ``handbook build`` does), print what it measured, and end the
    process as the command line ends it (see ``handbook.cli.main``)."""
    from handbook.build import RENDERED, BuildOptions, build
    from handbook.cli import end_now

    jobs = int(args[0]) if args else None
    report = build(Path(project), BuildOptions(out_dir=Path(out), jobs=jobs))
    renders = [o.renders for o in report.with_status(RENDERED) if o.path.parent.name == "cards"]
    print(
        json.dumps(
            {
                "rendered": len(report.with_status(RENDERED)),
                "booklet_pages": next(
                    o.pages for o in report.outputs if o.path.name == "handbook.pdf"
                ),
                "cards": sum(1 for o in report.outputs if o.path.parent.name == "cards"),
                "renders_per_card": statistics.mean(renders) if renders else None,
                "rss_self_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "rss_worker_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
            }
        )
    )
    end_now(0)


def dump_sources(project: Path, folder: Path) -> None:
    """Write the final HTML of every document for the floor measurement."""
    from handbook.build import BuildOptions
    from handbook.content.validate import load_handbook
    from handbook.html.render import Renderer
    from handbook.html.views import cards
    from handbook.project import open_project

    opened = open_project(project)
    handbook = load_handbook(opened)
    renderer = Renderer(opened)
    fmt = BuildOptions().format_for(handbook)
    sources = [renderer.booklet(handbook, fmt)]
    sources += [renderer.card(handbook, c, fmt) for c in cards(handbook)]
    manifest = []
    for index, source in enumerate(sources):
        (folder / f"{index}.html").write_text(source.html, encoding="utf-8")
        manifest.append(
            {
                "html": str(folder / f"{index}.html"),
                "stylesheets": [str(p) for p in source.stylesheets],
                "extra_css": source.extra_css,
                "base_url": str(source.allowed_roots[0]) + "/",
            }
        )
    (folder / "manifest.json").write_text(json.dumps(manifest))


def child_floor(folder: str) -> None:
    """Bare WeasyPrint on the dumped documents, serially, one font configuration."""
    started = time.perf_counter()
    from weasyprint import CSS, HTML
    from weasyprint.text.fonts import FontConfiguration

    imported = time.perf_counter() - started
    config = FontConfiguration()
    times = []
    for index, doc in enumerate(json.loads((Path(folder) / "manifest.json").read_text())):
        begin = time.perf_counter()
        sheets = [CSS(string=doc["extra_css"], font_config=config)]
        sheets += [CSS(filename=p, font_config=config) for p in doc["stylesheets"]]
        html = HTML(filename=doc["html"], base_url=doc["base_url"])
        html.write_pdf(Path(folder) / f"{index}.pdf", stylesheets=sheets, font_config=config)
        times.append(time.perf_counter() - begin)
    print(json.dumps({"import": imported, "booklet": times[0], "cards": times[1:]}))


def run(*command: str) -> tuple[float, dict]:
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"failed: {' '.join(command)}\n{done.stderr}")
    lines = done.stdout.strip().splitlines()
    return seconds, json.loads(lines[-1]) if lines and lines[-1].startswith("{") else {}


def measure(size: int, work: Path, repeat: int) -> dict:
    """Each timing is the best of ``repeat`` runs, interleaved, to shed noise from load."""
    project = work / f"project-{size}"
    make_project(project, size)
    me = (sys.executable, __file__)
    out = str(work / f"out-{size}")
    floor_dir = work / f"floor-{size}"
    floor_dir.mkdir()
    dump_sources(project, floor_dir)
    edited = project / "content/techniques/technique-0.yaml"
    times: dict[str, list[float]] = {}
    for attempt in range(repeat):
        shutil.rmtree(out, ignore_errors=True)
        shutil.rmtree(out + "-j1", ignore_errors=True)
        seconds, info = run(*me, "_build", str(project), out)
        times.setdefault("cold", []).append(seconds)
        seconds, _ = run(*me, "_build", str(project), out + "-j1", "1")
        times.setdefault("cold_j1", []).append(seconds)
        seconds, floor = run(*me, "_floor", str(floor_dir))
        times.setdefault("floor", []).append(seconds)
        times.setdefault("floor_edit", []).append(
            floor["import"] + floor["booklet"] + statistics.mean(floor["cards"])
        )
        seconds, again = run(*me, "_build", str(project), out)
        assert again["rendered"] == 0, again
        times.setdefault("same", []).append(seconds)
        text = edited.read_text()
        edited.write_text(text.replace("steps:\n  - ", f"steps:\n  - Warm hands {attempt}. ", 1))
        seconds, after = run(*me, "_build", str(project), out)
        # the card, the booklet and what is made of them: imposed booklet, cards.pdf, sheets
        assert after["rendered"] == 5, after
        times.setdefault("edit", []).append(seconds)
        edited.write_text(text)
    best = {name: min(values) for name, values in times.items()}
    return {
        "size": size,
        "pages": info["booklet_pages"],
        "cards": info["cards"],
        **best,
        "edit_target": 1.1 * best["floor_edit"],
        "renders": info["renders_per_card"],
        "rss_self": info["rss_self_mb"],
        "rss_worker": info["rss_worker_mb"],
    }


def startup() -> float:
    times = []
    for _ in range(7):
        started = time.perf_counter()
        subprocess.run([str(HANDBOOK), "--help"], capture_output=True, check=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def table(rows: list[dict], help_seconds: float) -> str:
    head = (
        "| techniques | booklet pages | cards | cold build | cold `--jobs 1` | floor "
        "| ratio (default jobs) | ratio (`--jobs 1`) | no change | one edit (target) "
        "| renders/card | peak RSS build / worker |"
    )
    lines = [head, "|" + "|".join("---" for _ in range(head.count("|") - 1)) + "|"]
    for r in rows:
        renders = f"{r['renders']:.2f}" if r["renders"] is not None else "n/a"
        lines.append(
            f"| {r['size']} | {r['pages']} | {r['cards']} | {r['cold']:.2f} s "
            f"| {r['cold_j1']:.2f} s | {r['floor']:.2f} s | {r['cold'] / r['floor']:.2f} "
            f"| {r['cold_j1'] / r['floor']:.2f} "
            f"| {r['same']:.2f} s ({100 * r['same'] / r['cold']:.1f} %) "
            f"| {r['edit']:.2f} s ({r['edit_target']:.2f} s) | {renders} "
            f"| {r['rss_self']:.0f} / {r['rss_worker']:.0f} MiB |"
        )
    lines.append("")
    lines.append(f"`handbook --help` start-up: {help_seconds:.3f} s (median of 7)")
    return "\n".join(lines)


def compiled_as_installed() -> None:
    """The package's bytecode up to date, as ``.ci/install`` leaves it: a file edited
    since would be compiled again by every build where PYTHONDONTWRITEBYTECODE is set."""
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "handbook")], check=True)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "_build":
        return child_build(*sys.argv[2:])
    if len(sys.argv) > 1 and sys.argv[1] == "_floor":
        return child_floor(sys.argv[2])
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 50, 200])
    parser.add_argument("--repeat", type=int, default=2, help="runs per timing; the best counts")
    parser.add_argument("--work", type=Path, help="keep the projects here (default: a temp dir)")
    args = parser.parse_args()
    compiled_as_installed()
    with tempfile.TemporaryDirectory() as temp:
        work = args.work or Path(temp)
        work.mkdir(parents=True, exist_ok=True)
        rows = []
        for size in args.sizes:
            rows.append(measure(size, work, args.repeat))
            print(f"measured {size} techniques", file=sys.stderr)
        print(table(rows, startup()))
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}, load {load}")


if __name__ == "__main__":
    main()
