"""Incremental builds: only the outputs whose inputs changed are rendered again."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from pypdf import PdfReader

from handbook.build import RENDERED, UP_TO_DATE, BuildOptions, build, makers
from handbook.build.booklet import PARTS_DIR
from handbook.build.cache import CACHE_FILE, GROUPS_DIR, BuildCache
from handbook.build.jobs import read_and_plan
from handbook.build.workers import RunFirst
from handbook.project import open_project


def fingerprints(out: Path) -> dict[str, tuple[int, str]]:
    """Each PDF in the output folder but the booklet's parts: (mtime, content hash)."""
    return {
        path.relative_to(out).as_posix(): (
            path.stat().st_mtime_ns,
            hashlib.sha256(path.read_bytes()).hexdigest(),
        )
        for path in out.rglob("*.pdf")
        if path.parent.name != PARTS_DIR
    }


def rendered(report, out: Path) -> set[str]:
    return {o.path.relative_to(out).as_posix() for o in report.with_status(RENDERED)}


def test_editing_one_technique_rebuilds_its_card_and_the_booklet_only(tiny_built):
    project, out = tiny_built
    options = BuildOptions(out_dir=out)
    before = fingerprints(out)

    parts = set((out / PARTS_DIR).glob("*.pdf"))

    technique = project / "content/gliding.yaml"
    text = technique.read_text(encoding="utf-8")
    technique.write_text(text.replace("Glide slowly", "Glide Ylang slowly"), encoding="utf-8")
    second = build(project, options)
    after = fingerprints(out)
    assert len(set((out / PARTS_DIR).glob("*.pdf")) - parts) == 1  # the technique's part

    derived = {"handbook-print.pdf", "cards.pdf", "card-sheets.pdf"}
    expected = {"handbook.pdf", "cards/gliding.pdf", *derived}
    assert rendered(second, out) == expected
    changed = {name for name in after if after[name] != before[name]}
    assert changed == {*expected, ".bleed/cards.pdf"}  # every card, for the sheets
    booklet = "".join(page.extract_text() for page in PdfReader(out / "handbook.pdf").pages)
    assert "Ylang" in booklet
    assert "Ylang" in PdfReader(out / "cards/gliding.pdf").pages[0].extract_text()


def test_an_edit_to_one_card_merges_its_group_of_cards_again_only(tiny_copy, tmp_path):
    """cards.pdf is put together a group of cards at a time, each group kept: after an
    edit, the edited card's group is merged again, the others are taken as kept, and
    the files are the bytes a build from scratch makes."""
    _two_groups_of_cards(tiny_copy)
    out = tmp_path / "out"
    build(tiny_copy, BuildOptions(out_dir=out))
    groups = _kept_groups(out)
    cards = sorted((out / "cards").glob("*.pdf"))
    assert len(groups) == -(-len(cards) // makers.CARDS_PER_GROUP) == 2

    edit = tiny_copy / "content/pressing.yaml"
    edit.write_text(edit.read_text().replace("Press slowly", "Press Ylang slowly"))
    assert {"cards/pressing.pdf", "cards.pdf"} <= rendered(
        build(tiny_copy, BuildOptions(out_dir=out)), out
    )
    kept = _kept_groups(out)
    assert len(kept - groups) == 1 and len(groups - kept) == 1  # written again: one
    # the subset programs of the group taken as kept stay, for an edit to it next
    [(untouched, _)] = kept & groups
    subsets = json.loads((out / GROUPS_DIR / f"{untouched}.fonts").read_bytes()[32:])
    assert subsets and all((out / ".bleed/fonts" / key).is_file() for key in subsets)

    clean = tmp_path / "clean"
    build(tiny_copy, BuildOptions(out_dir=clean))
    for name in ("cards.pdf", "card-sheets.pdf", ".bleed/cards.pdf"):
        assert (out / name).read_bytes() == (clean / name).read_bytes(), name
    texts = [page.extract_text() for page in PdfReader(out / "cards.pdf").pages]
    assert sorted(texts) == sorted(PdfReader(card).pages[0].extract_text() for card in cards)


def test_the_groups_of_cards_no_build_kept_are_put_together_side_by_side(tiny_copy, tmp_path):
    """With more than one worker, cards.pdf first has each group no build kept put
    together in a run of its own, on any worker; then it takes them as kept, and its
    files are the bytes that putting the groups together in its own task makes."""
    _two_groups_of_cards(tiny_copy)
    out = tmp_path / "out"
    build(tiny_copy, BuildOptions(out_dir=out, jobs=1))
    names = ("cards.pdf", ".bleed/cards.pdf")
    one_by_one = {name: (out / name).read_bytes() for name in names}
    shutil.rmtree(out / GROUPS_DIR)

    project = open_project(tiny_copy)
    planned = read_and_plan(project, BuildOptions(out_dir=out, jobs=2), (None,))
    [job] = [job for job in planned.editions[None].jobs if job.name == "cards.pdf"]
    first = job.make(out)
    assert isinstance(first, RunFirst) and len(first.runs) == 2
    assert not (out / GROUPS_DIR).exists()  # nothing put together yet
    kept = [run() for run in first.runs]
    assert len(_kept_groups(out)) == 2
    first.then(kept)
    assert {name: (out / name).read_bytes() for name in names} == one_by_one


def test_planning_sends_back_no_sources_of_the_outputs_the_last_build_left_as_they_are(
    tiny_built,
):
    """Only the jobs to make come with what makes them (their HTML, for a card)."""
    project, out = tiny_built
    (out / "cards/gliding.pdf").unlink()
    kept = {None: BuildCache(out).intact()}
    planned = read_and_plan(open_project(project), BuildOptions(out_dir=out), (None,), kept)
    whole = {job.name for job in planned.editions[None].jobs if job.make is not None}
    assert whole == {"cards/gliding.pdf"}
    report = build(project, BuildOptions(out_dir=out))
    assert rendered(report, out) == {"cards/gliding.pdf"}
    assert "Gliding" in PdfReader(out / "cards/gliding.pdf").pages[0].extract_text()


def test_an_output_changed_after_planning_looked_is_planned_again_and_made(tiny_built, monkeypatch):
    """The build looks at the outputs again (is_fresh) after planning: one that planning
    took as kept but is not is planned again, whole, and made."""
    project, out = tiny_built
    as_planning_saw = BuildCache(out).intact()
    (out / "cards/gliding.pdf").unlink()
    monkeypatch.setattr(BuildCache, "intact", lambda cache: as_planning_saw)
    report = build(project, BuildOptions(out_dir=out))
    assert rendered(report, out) == {"cards/gliding.pdf"}
    assert (out / "cards/gliding.pdf").is_file()


def _two_groups_of_cards(project: Path) -> None:
    """More cards in the project than one group holds: a group, and one more."""
    gliding = (project / "content/gliding.yaml").read_text()
    for number in range(makers.CARDS_PER_GROUP):
        copy = gliding.replace("id: gliding", f"id: gliding-{number}")
        copy = copy.replace("name: Gliding", f"name: Gliding {number}")
        (project / f"content/gliding-{number}.yaml").write_text(copy)


def _kept_groups(out: Path) -> set[tuple[str, int]]:
    """The kept groups' PDFs (not their records of the subset programs they used)."""
    return {
        (path.name, path.stat().st_mtime_ns)
        for path in (out / GROUPS_DIR).iterdir()
        if path.suffix != ".fonts"
    }


def pdf_bytes(out: Path) -> dict[str, bytes]:
    return {path.relative_to(out).as_posix(): path.read_bytes() for path in out.rglob("*.pdf")}


def test_nothing_changed_renders_nothing_and_force_renders_the_same_bytes(tiny_built, tiny_build):
    tiny_copy, out = tiny_built
    first = tiny_build[1]  # a fresh build of the same content, from another folder
    built = pdf_bytes(out)
    assert {"handbook-print.pdf", "cards.pdf", "card-sheets.pdf"} <= set(built)
    again = build(tiny_copy, BuildOptions(out_dir=out))
    assert [o.status for o in again.outputs] == [UP_TO_DATE] * len(first.outputs)
    assert [o.pages for o in again.outputs] == [o.pages for o in first.outputs]
    forced = build(tiny_copy, BuildOptions(out_dir=out, force=True))
    assert len(forced.with_status(RENDERED)) == len(first.outputs) >= 8
    # Two builds of the same content, from two folders into two others, are
    # byte-identical: no clock, no path, no random name in any output.
    assert pdf_bytes(out) == built


@pytest.mark.slow
def test_style_settings_and_deleted_outputs_are_inputs_too(tiny_built):
    tiny_copy, out = tiny_built
    options = BuildOptions(out_dir=out)
    everything = {o.path.relative_to(out).as_posix() for o in build(tiny_copy, options).outputs}

    (out / "cards/pressing.pdf").unlink()
    assert rendered(build(tiny_copy, options), out) == {"cards/pressing.pdf"}

    styles = tiny_copy / "styles"
    styles.mkdir()
    (styles / "card.css").write_text(
        (Path(__file__).parent.parent / "styles/card.css").read_text() + "\nh1 { color: #000; }\n"
    )
    assert rendered(build(tiny_copy, options), out) == everything

    settings = tiny_copy / "handbook.yaml"
    settings.write_text(settings.read_text() + "edition: Second edition\n")
    assert rendered(build(tiny_copy, options), out) == everything


def test_a_removed_routine_takes_its_card_along(tiny_built):
    tiny_copy, out = tiny_built
    assert (out / "cards/short.pdf").is_file()
    (tiny_copy / "content/short.yaml").unlink()
    build(tiny_copy, BuildOptions(out_dir=out))
    assert not (out / "cards/short.pdf").exists()
    recorded = json.loads((out / CACHE_FILE).read_text())["outputs"]
    assert "cards/short.pdf" not in recorded
    assert len(PdfReader(out / "cards.pdf").pages) == len(list((out / "cards").glob("*.pdf")))


@pytest.mark.slow
def test_a_damaged_or_hostile_cache_record_only_means_a_full_build(tiny_built, tmp_path):
    tiny_copy, out = tiny_built
    first = build(tiny_copy, BuildOptions(out_dir=out))
    bystander = tmp_path / "bystander.pdf"
    bystander.write_bytes(b"not ours")
    hostile = {"../bystander.pdf": {"key": "k", "pages": 1, "stamp": []}, "cards.pdf": 3}
    (out / CACHE_FILE).write_text(json.dumps({"format": 1, "outputs": hostile}))
    again = build(tiny_copy, BuildOptions(out_dir=out))
    assert len(again.with_status(RENDERED)) == len(first.outputs)
    assert bystander.read_bytes() == b"not ours"
    (out / CACHE_FILE).write_text("{not json")
    assert len(build(tiny_copy, BuildOptions(out_dir=out)).with_status(RENDERED)) == len(
        first.outputs
    )


def test_a_build_with_nothing_to_do_does_not_load_weasyprint(tiny_built):
    tiny_copy, out = tiny_built
    script = (
        "import sys; from pathlib import Path; from handbook.build import BuildOptions, build; "
        f"build(Path({str(tiny_copy)!r}), BuildOptions(out_dir=Path({str(out)!r}))); "
        "print('weasyprint' in sys.modules)"
    )
    # Once with every source untouched, once after a save that changed nothing.
    for _ in range(2):
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
        assert done.stdout.strip() == "False", done.stderr
        technique = tiny_copy / "content/gliding.yaml"
        technique.write_text(technique.read_text())


def test_every_file_an_output_writes_is_checked(tiny_built):
    tiny_copy, out = tiny_built
    options = BuildOptions(out_dir=out, png=True)
    assert rendered(build(tiny_copy, options), out) == {"png/contact-sheet.png"}
    [card_png, *_] = sorted(p for p in (out / "png").glob("*.png") if p.stem != "contact-sheet")
    card_png.unlink()
    assert rendered(build(tiny_copy, options), out) == {"png/contact-sheet.png"}
    assert card_png.is_file()


@pytest.mark.parametrize("library", ["pikepdf", "fonttools"])
def test_a_new_version_of_what_makes_the_pdfs_makes_every_output_again(
    tiny_built, monkeypatch, library
):
    """pikepdf merges and saves the combined files, fontTools subsets fonts where
    libharfbuzz-subset is missing: outputs made by the old version are not what a build
    makes now."""
    from handbook.build import inputs, workers

    # forked from this process, so that the version patched here reaches planning (a
    # test process that rendered in-process has its workers made by a fork server)
    monkeypatch.setattr(workers, "start_method", lambda: "fork")
    project, out = tiny_built
    installed = inputs.version
    monkeypatch.setattr(inputs, "version", lambda n: "99.0" if n == library else installed(n))
    inputs.tool_version.cache_clear()
    try:
        report = build(project, BuildOptions(out_dir=out))
        again = build(project, BuildOptions(out_dir=out))
    finally:
        inputs.tool_version.cache_clear()
    assert report.outputs and {o.status for o in report.outputs} == {RENDERED}
    assert {o.status for o in again.outputs} == {UP_TO_DATE}


def test_a_command_line_build_with_nothing_changed_imports_no_content_model(tiny_built):
    """Nor Jinja nor WeasyPrint: the build finds every output up to date from the files'
    sizes and times. A project without editor schemas has none to compare either."""
    project, out = tiny_built
    assert not (project / "schema").exists()
    code = (
        "import sys; from handbook.cli import cli; "
        f"cli.main(['build', '--project', {str(project)!r}, '--out', {str(out)!r}, '--quiet'], "
        "standalone_mode=False); "
        "print(sorted(m for m in ('pydantic', 'jinja2', 'weasyprint') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
