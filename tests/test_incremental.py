"""Incremental builds: only the outputs whose inputs changed are rendered again."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

from pypdf import PdfReader

from handbook.build import RENDERED, UP_TO_DATE, BuildOptions, build
from handbook.build.cache import CACHE_FILE


def fingerprints(out: Path) -> dict[str, tuple[int, str]]:
    """Each PDF in the output folder: (mtime, content hash)."""
    return {
        path.relative_to(out).as_posix(): (
            path.stat().st_mtime_ns,
            hashlib.sha256(path.read_bytes()).hexdigest(),
        )
        for path in out.rglob("*.pdf")
    }


def rendered(report, out: Path) -> set[str]:
    return {o.path.relative_to(out).as_posix() for o in report.with_status(RENDERED)}


def test_editing_one_technique_rebuilds_its_card_and_the_booklet_only(default_copy, tmp_path):
    out = tmp_path / "out"
    options = BuildOptions(out_dir=out)
    first = build(default_copy, options)
    assert len(first.with_status(RENDERED)) == len(first.outputs) >= 4
    before = fingerprints(out)

    technique = default_copy / "content/techniques/stroking.yaml"
    text = technique.read_text(encoding="utf-8")
    technique.write_text(
        text.replace("Warm a little oil", "Warm a little Ylang oil"), encoding="utf-8"
    )
    second = build(default_copy, options)
    after = fingerprints(out)

    derived = {"handbook-print.pdf", "cards.pdf", "card-sheets.pdf"}
    expected = {"handbook.pdf", "cards/stroking.pdf", *derived}
    assert rendered(second, out) == expected
    changed = {name for name in after if after[name] != before[name]}
    assert changed == {*expected, ".bleed/stroking.pdf"}
    booklet = "".join(page.extract_text() for page in PdfReader(out / "handbook.pdf").pages)
    assert "Ylang" in booklet
    assert "Ylang" in PdfReader(out / "cards/stroking.pdf").pages[0].extract_text()


def test_nothing_changed_renders_nothing_and_force_renders_all(default_copy, tmp_path):
    options = BuildOptions(out_dir=tmp_path / "out")
    first = build(default_copy, options)
    again = build(default_copy, options)
    assert [o.status for o in again.outputs] == [UP_TO_DATE] * len(first.outputs)
    assert [o.pages for o in again.outputs] == [o.pages for o in first.outputs]
    forced = build(default_copy, BuildOptions(out_dir=tmp_path / "out", force=True))
    assert len(forced.with_status(RENDERED)) == len(first.outputs)


def test_style_settings_and_deleted_outputs_are_inputs_too(default_copy, tmp_path):
    out = tmp_path / "out"
    options = BuildOptions(out_dir=out)
    everything = {o.path.relative_to(out).as_posix() for o in build(default_copy, options).outputs}

    (out / "cards/rubbing.pdf").unlink()
    assert rendered(build(default_copy, options), out) == {"cards/rubbing.pdf"}

    styles = default_copy / "styles"
    styles.mkdir()
    (styles / "card.css").write_text(
        (Path(__file__).parent.parent / "styles/card.css").read_text() + "\nh1 { color: #000; }\n"
    )
    assert rendered(build(default_copy, options), out) == everything

    settings = default_copy / "handbook.yaml"
    settings.write_text(settings.read_text().replace("First edition", "Second edition"))
    assert rendered(build(default_copy, options), out) == everything


def test_a_removed_routine_takes_its_card_along(default_copy, tmp_path):
    out = tmp_path / "out"
    build(default_copy, BuildOptions(out_dir=out))
    assert (out / "cards/shoulders-5.pdf").is_file()
    (default_copy / "content/routines/shoulders-5.yaml").unlink()
    build(default_copy, BuildOptions(out_dir=out))
    assert not (out / "cards/shoulders-5.pdf").exists()
    recorded = json.loads((out / CACHE_FILE).read_text())["outputs"]
    assert "cards/shoulders-5.pdf" not in recorded
    assert len(PdfReader(out / "cards.pdf").pages) == len(list((out / "cards").glob("*.pdf")))


def test_a_damaged_or_hostile_cache_record_only_means_a_full_build(default_copy, tmp_path):
    out = tmp_path / "out"
    first = build(default_copy, BuildOptions(out_dir=out))
    bystander = tmp_path / "bystander.pdf"
    bystander.write_bytes(b"not ours")
    hostile = {"../bystander.pdf": {"key": "k", "pages": 1, "stamp": []}, "cards.pdf": 3}
    (out / CACHE_FILE).write_text(json.dumps({"format": 1, "outputs": hostile}))
    again = build(default_copy, BuildOptions(out_dir=out))
    assert len(again.with_status(RENDERED)) == len(first.outputs)
    assert bystander.read_bytes() == b"not ours"
    (out / CACHE_FILE).write_text("{not json")
    assert len(build(default_copy, BuildOptions(out_dir=out)).with_status(RENDERED)) == len(
        first.outputs
    )


def test_a_build_with_nothing_to_do_does_not_load_weasyprint(default_copy, tmp_path):
    out = tmp_path / "out"
    build(default_copy, BuildOptions(out_dir=out))
    script = (
        "import sys; from pathlib import Path; from handbook.build import BuildOptions, build; "
        f"build(Path({str(default_copy)!r}), BuildOptions(out_dir=Path({str(out)!r}))); "
        "print('weasyprint' in sys.modules)"
    )
    # Once with every source untouched, once after a save that changed nothing.
    for _ in range(2):
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
        assert done.stdout.strip() == "False", done.stderr
        technique = default_copy / "content/techniques/stroking.yaml"
        technique.write_text(technique.read_text())


def test_every_file_an_output_writes_is_checked(tiny_copy, tmp_path):
    out = tmp_path / "out"
    options = BuildOptions(out_dir=out, png=True)
    build(tiny_copy, options)
    [card_png, *_] = sorted(p for p in (out / "png").glob("*.png") if p.stem != "contact-sheet")
    card_png.unlink()
    assert rendered(build(tiny_copy, options), out) == {"png/contact-sheet.png"}
    assert card_png.is_file()
