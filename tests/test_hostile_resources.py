"""Hostile templates and stylesheets cannot make the renderer read outside the project.

Each case builds a tiny project whose own template or stylesheet asks for
something it must not have. The build fails with a located problem naming
the file (and line) that asked; the earlier outputs stay byte-identical and
no outside content reaches any PDF.
"""

from __future__ import annotations

import base64
import io
import os
import shutil
import struct
import time
import zlib
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image, ImageFile
from pypdf import PdfReader

from handbook.build import BuildOptions, build, check
from handbook.build.inputs import shared_inputs, source_files
from handbook.build.output import TEMP_SUFFIX
from handbook.build.workers import Limits
from handbook.cli import cli
from handbook.content import markup
from handbook.content.validate import load_handbook
from handbook.engine import resources
from handbook.errors import HandbookError
from handbook.html.render import Renderer
from handbook.project import open_project
from tests.conftest import REPO, write
from tests.hostile import mini_project

SECRET = "TOP-SECRET-4711"
EARLIER = b"%PDF-1.7 earlier output\n"


def _png(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), "steelblue").save(buffer, "PNG")
    return buffer.getvalue()


def _with_bit_rot(png: bytes) -> bytes:
    """The PNG with one byte of its pixel data flipped (its checksum no longer matches)."""
    start = png.index(b"IDAT") + 4
    length = struct.unpack(">I", png[start - 8 : start - 4])[0]
    middle = start + length // 2
    return png[:middle] + bytes([png[middle] ^ 0xFF]) + png[middle + 1 :]


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims a size without the pixel data to back it (a decompression bomb)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data)
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\0" * 64)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )


@pytest.fixture
def hostile(tmp_path: Path) -> Path:
    """A one-chapter project next to a secret file, with earlier outputs in build/."""
    (tmp_path / "secret.txt").write_text(SECRET, encoding="utf-8")
    root = tmp_path / "project"
    write(root / "handbook.yaml", "title: Tiny\n")
    write(
        root / "content" / "intro.yaml",
        """
        kind: chapter
        id: intro
        title: Intro
        sections:
          - body: Hello there.
        """,
    )
    (root / "build").mkdir()
    (root / "build" / "handbook.pdf").write_bytes(EARLIER)
    return root


def _template(root: Path, body: str, head: str = "") -> None:
    write(
        root / "templates" / "booklet.html.j2",
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n'
        f"{head}\n</head>\n<body>\n<p>Hello</p>\n{body}\n</body>\n</html>\n",
    )


def _refused(root: Path) -> list:
    """Build, expect refusal, and check nothing leaked and nothing was overwritten."""
    with pytest.raises(HandbookError) as caught:
        build(root)
    _assert_untouched(root)
    return caught.value.problems


def _assert_untouched(root: Path) -> None:
    out = root / "build"
    assert (out / "handbook.pdf").read_bytes() == EARLIER
    for pdf in out.rglob("*.pdf"):
        assert SECRET.encode() not in pdf.read_bytes()
    assert not [p for p in out.rglob(f"*{TEMP_SUFFIX}")]


def _single(problems) -> object:
    assert len(problems) == 1, [p.format() for p in problems]
    return problems[0]


TEMPLATE_CASES = {
    "file-url-outside": ('<img src="file://{secret}">', "", "outside the project folder"),
    "dotdot-escape": ('<img src="../secret.txt">', "", "outside the project folder"),
    "dev-zero": ('<img src="/dev/zero">', "", "outside the project folder"),
    "dev-urandom-css": ("", "<style>p { background: url(/dev/urandom) }</style>", "outside"),
    "http": ('<img src="http://127.0.0.1:9/x.png">', "", "nothing is read from the network"),
    "https": (
        '<img src="https://example.invalid/x.png">',
        "",
        "nothing is read from the network",
    ),
    "base-href": (
        '<img src="secret.txt">',
        '<base href="file://{outside}/">',
        "outside the project folder",
    ),
    "import-outside": ("", '<style>@import url("../secret.txt");</style>', "outside"),
    "svg-image": (
        '<svg width="20" height="20"><image href="../secret.txt" width="20" height="20"/></svg>',
        "",
        "outside the project folder",
    ),
    "object": ('<object data="../secret.txt"></object>', "", "outside the project folder"),
    "embed": ('<embed src="../secret.txt">', "", "outside the project folder"),
    "link-attachment": ("", '<link rel="attachment" href="handbook.yaml">', "refused to attach"),
    "a-attachment": ('<a rel="attachment" href="handbook.yaml">x</a>', "", "refused to attach"),
    "hidden-file": ('<img src=".env.png">', "", "hidden files"),
    "missing-image": ('<img src="pictures/missing.png">', "", "no such file"),
    "data-url-bomb": (
        '<img src="data:image/png;base64,'
        + base64.b64encode(_png_header_only(50_000, 50_000)).decode()
        + '">',
        "",
        "the image 'data:image/png' is too large",
    ),
    "big-data-url": (
        '<img src="data:image/png;base64,' + "A" * 40_000 + '">',
        "",
        "data: URL of 39 KiB",
    ),
}


@pytest.mark.parametrize("case", sorted(TEMPLATE_CASES))
def test_template_reference_is_refused_at_its_line(hostile, case):
    body, head, message = TEMPLATE_CASES[case]
    outside = hostile.parent
    (hostile / ".env.png").write_bytes(_png(2, 2))
    _template(
        hostile,
        body.replace("{secret}", str(outside / "secret.txt")),
        head.replace("{outside}", str(outside)),
    )
    problem = _single(_refused(hostile))
    assert problem.path == "templates/booklet.html.j2"
    assert message in problem.message
    assert "while rendering handbook.yaml" in problem.message
    line = 8 if body else 4
    assert (problem.line, problem.column > 0) == (line, True)


def test_symlink_pointing_outside_is_refused(hostile):
    (hostile / "logo.png").symlink_to(hostile.parent / "secret.txt")
    _template(hostile, '<img src="logo.png">')
    problem = _single(_refused(hostile))
    assert (problem.path, problem.line) == ("templates/booklet.html.j2", 8)
    assert f"refused to read '{hostile.parent / 'secret.txt'}'" in problem.message


def test_fifo_is_refused_without_waiting(hostile):
    os.mkfifo(hostile / "pipe.css")
    _template(hostile, "", '<link rel="stylesheet" href="pipe.css">')
    problem = _single(_refused(hostile))
    assert "refused to read 'pipe.css': not a regular file" in problem.message
    assert problem.line == 4


@pytest.mark.parametrize(
    ("css", "line"),
    [
        ('/* an import */\n@import url("file://{secret}");\n', 2),
        ("p { color: red; }\np { background: url(../../secret.txt); }\n", 2),
        ("@font-face { font-family: X; src: url(../../secret.txt); }\n", 1),
    ],
    ids=["import", "url", "font-face"],
)
def test_project_stylesheet_reference_is_refused_at_its_line(hostile, css, line):
    write(
        hostile / "styles" / "base.css", css.replace("{secret}", str(hostile.parent / "secret.txt"))
    )
    problem = _single(_refused(hostile))
    assert (problem.path, problem.line) == ("styles/base.css", line)
    assert "outside the project folder" in problem.message


def test_stylesheet_imported_from_a_stylesheet_is_located(hostile):
    write(hostile / "styles" / "base.css", '@import "more.css";\n')
    write(hostile / "styles" / "more.css", "/* more */\np { background: url(/etc/hostname) }\n")
    problem = _single(_refused(hostile))
    assert (problem.path, problem.line) == ("styles/more.css", 2)


def test_stylesheet_that_links_outside_is_refused(hostile):
    write(hostile.parent / "evil.css", "body { color: red }")
    (hostile / "styles").mkdir()
    (hostile / "styles" / "base.css").symlink_to(hostile.parent / "evil.css")
    problem = _single(_refused(hostile))
    assert problem.path == "styles/base.css"
    assert "outside the project folder" in problem.message


def test_svg_file_cannot_reach_outside(hostile):
    write(
        hostile / "pictures" / "map.svg",
        '<svg xmlns="http://www.w3.org/2000/svg" width="20" height="20">'
        '<image href="file:///etc/hostname" width="20" height="20"/></svg>',
    )
    _template(hostile, '<img src="pictures/map.svg">')
    problem = _single(_refused(hostile))
    assert "refused to read '/etc/hostname'" in problem.message
    assert problem.path == "templates/booklet.html.j2"


XXE = """<?xml version="1.0"?>
<!DOCTYPE svg [<!ENTITY xxe SYSTEM "file://{secret}">]>
<svg xmlns="http://www.w3.org/2000/svg" width="200" height="50"><text y="20">&xxe;</text></svg>
"""
LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE svg [<!ENTITY a0 "lol">'
    + "".join(f'<!ENTITY a{i} "{f"&a{i - 1};" * 10}">' for i in range(1, 9))
    + ']>\n<svg xmlns="http://www.w3.org/2000/svg"><text y="20">&a8;</text></svg>\n'
)


@pytest.mark.parametrize("svg", [XXE, LAUGHS], ids=["external-entity", "entity-bomb"])
def test_svg_entities_fail_the_build_without_leaking(hostile, svg):
    write(
        hostile / "pictures" / "map.svg",
        svg.replace("{secret}", str(hostile.parent / "secret.txt")),
    )
    _template(hostile, '<img src="pictures/map.svg">')
    problem = _single(_refused(hostile))
    assert (problem.path, problem.line) == ("templates/booklet.html.j2", 8)
    assert "the image 'pictures/map.svg' cannot be loaded" in problem.message


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x89PNG\r\n\x1a\n this is not a picture", "damaged"),
        (b"GIF89a, or so it says", "damaged or not an image"),
        (_png(300, 300)[:400], "damaged (image file is truncated"),
        (
            _with_bit_rot(_png(300, 300)),
            "damaged (broken PNG file (bad header checksum in b'IDAT')",
        ),
        (_png_header_only(60_000, 60_000), "too large (over 25 million pixels)"),
        (_png_header_only(6_000, 6_000), "too large (over 25 million pixels)"),
    ],
    ids=["corrupt", "unreadable", "truncated", "bit-rot", "bomb", "over-limit"],
)
def test_bad_image_fails_the_build(hostile, data, message):
    (hostile / "pictures").mkdir()
    (hostile / "pictures" / "photo.png").write_bytes(data)
    _template(hostile, '<img src="pictures/photo.png">')
    problem = _single(_refused(hostile))
    assert f"the image 'pictures/photo.png' is {message}" in problem.message
    assert problem.line == 8


@pytest.mark.parametrize("tolerant", [True, False], ids=["tolerant-pillow", "strict-pillow"])
def test_a_truncated_image_is_refused_however_pillow_is_set(monkeypatch, tolerant):
    """WeasyPrint tells Pillow to load truncated images; the check neither needs nor
    changes that process-wide setting."""
    from weasyprint.urls import FatalURLFetchingError

    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", tolerant)
    refusals = []
    fetcher = resources.fetcher_class()((REPO,), resources.Asker((), REPO, "test"), refusals)
    url = "data:image/png;base64," + base64.b64encode(_png(300, 300)[:400]).decode()
    with pytest.raises(FatalURLFetchingError):
        fetcher.fetch(url)
    assert "the image 'data:image/png' is damaged (image file is truncated)" in refusals[0].message
    assert ImageFile.LOAD_TRUNCATED_IMAGES is tolerant


def test_misplaced_css_is_a_located_problem(hostile):
    write(hostile / "styles" / "base.css", "p { color: red; }\n@import url(more.css);\n")
    problem = _single(_refused(hostile))
    assert (problem.path, problem.line, problem.column) == ("styles/base.css", 2, 1)
    assert "CSS problem: @import rule" in problem.message


def test_project_images_and_small_data_urls_are_allowed(hostile):
    (hostile / "pictures").mkdir()
    (hostile / "pictures" / "photo.png").write_bytes(_png(40, 30))
    small = base64.b64encode(_png(4, 4)).decode()
    # The booklet is a tagged PDF: images need an alt text.
    _template(
        hostile,
        f'<img alt="Photo" src="pictures/photo.png">'
        f'<img alt="Dot" src="data:image/png;base64,{small}">',
    )
    build(hostile)
    reader = PdfReader(hostile / "build" / "handbook.pdf")
    images = [image for page in reader.pages for image in page.images]
    assert sorted(image.image.size for image in images) == [(4, 4), (40, 30)]


def test_cli_refusal_exits_1_without_traceback(hostile):
    _template(hostile, '<img src="../secret.txt">')
    result = CliRunner().invoke(cli, ["build", "--project", str(hostile)])
    assert result.exit_code == 1
    assert "templates/booklet.html.j2:8:" in result.output
    assert "Traceback" not in result.output
    assert SECRET not in result.output
    _assert_untouched(hostile)


def test_content_file_linking_outside_is_refused(hostile):
    (hostile / "content" / "leak.yaml").symlink_to(hostile.parent / "secret.txt")
    problem = _single(_refused(hostile))
    assert problem.path == "content/leak.yaml"
    assert "outside the project folder" in problem.message
    assert SECRET not in problem.format()


INJECTIONS = [
    '<img src="file:///etc/hostname">',
    "![x](file:///etc/hostname)",
    '<link rel="attachment" href="handbook.yaml">',
    '<object data="../secret.txt"></object>',
    '<svg><image href="../secret.txt"/></svg>',
    "<style>@import url(/etc/hostname);</style>",
    '<base href="file:///etc/">',
    "[link](file:///etc/hostname)",
]


@pytest.mark.parametrize("text", INJECTIONS)
def test_content_markdown_cannot_inject_elements(text):
    html = markup.to_html(text) + markup.to_inline_html(text)
    for tag in ("<img", "<link", "<object", "<svg", "<style", "<base", "<image", 'href="file:'):
        assert tag not in html


def test_hostile_content_builds_as_plain_text(hostile):
    body = "\n\n".join(INJECTIONS).replace('"', '\\"').replace("\n", "\\n")
    write(
        hostile / "content" / "intro.yaml",
        f'kind: chapter\nid: intro\ntitle: "<img src=x> & <script>x</script>"\n'
        f'sections:\n  - body: "{body}"\n',
    )
    handbook = load_handbook(open_project(hostile))
    html = (
        Renderer(open_project(hostile)).booklet(handbook, BuildOptions().format_for(handbook)).html
    )
    assert "&lt;img src=x&gt; &amp; &lt;script&gt;x&lt;/script&gt;" in html
    assert "<img" not in html and "<object" not in html and "<link" not in html
    assert "<script" not in html
    build(hostile)
    text = "".join(page.extract_text() for page in PdfReader(hostile / "build/handbook.pdf").pages)
    assert "<img src=x> & <script>x</script>" in text
    assert "<style>@import url(/etc/hostname);</style>" in text  # the body's markup, as text
    assert SECRET not in text


def test_card_template_refusal_names_the_card_content(hostile):
    write(
        hostile / "content" / "glide.yaml",
        "kind: technique\nid: glide\nname: Glide\npurpose: Warm up.\nsteps: [Glide.]\n",
    )
    write(
        hostile / "templates" / "card-technique.html.j2",
        '{% extends "card-base.html.j2" %}\n{% block body %}\n'
        '<img src="../secret.txt">\n{% endblock %}\n',
    )
    (hostile / "build" / "cards").mkdir()
    for name in ("cards/glide.pdf", "cards.pdf"):
        (hostile / "build" / name).write_bytes(EARLIER)
    with pytest.raises(HandbookError) as caught:
        build(hostile)
    problems = caught.value.problems
    assert [(p.path, p.line) for p in problems] == [("templates/card-technique.html.j2", 3)]
    assert "(while rendering content/glide.yaml)" in problems[0].message
    for name in ("cards/glide.pdf", "cards.pdf"):  # the booklet itself is fine and rebuilt
        assert (hostile / "build" / name).read_bytes() == EARLIER
    assert not any(SECRET.encode() in pdf.read_bytes() for pdf in hostile.rglob("*.pdf"))


def test_font_and_style_folders_linking_out_are_not_read_to_hash_them(tmp_path):
    """A render refuses these files; hashing what the outputs depend on reads none of
    them either: no 800 MB read under a 512 MB limit, no FIFO waited on, no disk walked.
    (At 256 MB a render can fail to start the thread pango sorts fonts in.)"""
    project = mini_project(tmp_path / "mini")
    huge = tmp_path / "huge.ttf"
    with huge.open("wb") as sparse:
        sparse.truncate(800 * 1024 * 1024)
    fonts, styles = project / "fonts", project / "styles"
    fonts.mkdir()
    styles.mkdir()
    (fonts / "huge.ttf").symlink_to(huge)
    (fonts / "zero.ttf").symlink_to("/dev/zero")
    os.mkfifo(fonts / "pipe.ttf")
    (fonts / "loop").symlink_to(".")
    (fonts / "a.ttf").symlink_to("b.ttf")
    (fonts / "b.ttf").symlink_to("a.ttf")
    (fonts / "gone.ttf").symlink_to(tmp_path / "nothing-here")
    (styles / "disk").symlink_to("/")
    inside_huge = project / "big.bin"
    with inside_huge.open("wb") as sparse:
        sparse.truncate(100 * 1024 * 1024)
    (styles / "big.css").symlink_to(inside_huge)
    report = build(project, BuildOptions(limits=Limits(memory_mb=512, seconds=60)))
    assert {result.status for result in report.outputs} == {"rendered"}
    again = build(project, BuildOptions(limits=Limits(memory_mb=512, seconds=60)))
    assert {result.status for result in again.outputs} == {"up to date"}


def test_a_project_whose_fonts_folder_links_to_the_whole_disk_is_not_walked(tmp_path):
    project = mini_project(tmp_path / "mini")
    (project / "fonts").symlink_to("/")
    started = time.monotonic()
    assert source_files(project / "fonts", open_project(project).allowed_roots) == []
    assert shared_inputs(open_project(project), check(project))
    assert time.monotonic() - started < 10


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_broken_font_fails_every_output_that_uses_it_whatever_the_jobs(tmp_path, jobs):
    """WeasyPrint tries a font face once per process: the second output a worker renders
    would quietly lack it, and replace a good PDF."""
    project = mini_project(tmp_path / "mini")
    shutil.copytree(REPO / "fonts", project / "fonts")
    (project / "styles").mkdir()
    # A face only the stylesheet names (not a font of fonts/, which the content check
    # reads first): the render is the first to find it broken.
    css = (REPO / "styles" / "base.css").read_text(encoding="utf-8")
    css = css.replace("Lato-Bold.ttf", "Lato-Bold.face")
    (project / "styles" / "base.css").write_text(css, encoding="utf-8")
    (project / "fonts" / "Lato-Bold.face").write_bytes(b"\0\1\0\0" + b"not a font" * 100)
    out = project / "build"
    for name in ("handbook.pdf", "cards/gliding.pdf", "cards/backs/gliding.pdf"):
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_bytes(EARLIER)
    with pytest.raises(HandbookError) as caught:
        build(project, BuildOptions(jobs=jobs, duplex=True))
    failed = {
        (problem.path, problem.message)
        for problem in caught.value.problems
        if "cannot be loaded" in problem.message
    }
    message = "rendering problem: Font-face 'Lato' cannot be loaded (declared in styles/base.css)"
    assert failed == {("handbook.yaml", message), ("content/gliding.yaml", message)}
    for name in ("handbook.pdf", "cards/gliding.pdf", "cards/backs/gliding.pdf"):
        assert (out / name).read_bytes() == EARLIER


def test_reading_a_small_file_allocates_what_it_holds_not_the_limit(tmp_path):
    """Each read allocated a buffer of the 32 MiB limit first: under a tight memory
    limit, every image and stylesheet failed to load."""
    import tracemalloc

    small = tmp_path / "small.css"
    small.write_text("p { color: black }")
    tracemalloc.start()
    try:
        assert resources.read_allowed(small, (tmp_path,)) == small.read_bytes()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1024 * 1024
