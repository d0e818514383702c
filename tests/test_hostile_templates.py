"""A project's own templates: escaped output, strict names, a sandbox, located errors."""

from __future__ import annotations

import os
from pathlib import Path

import jinja2
import pytest
from click.testing import CliRunner

from handbook.build import BuildOptions, build
from handbook.cli import cli
from handbook.content.validate import load_handbook
from handbook.errors import HandbookError
from handbook.html.render import Renderer
from handbook.project import open_project
from tests.conftest import write

SECRET = "TOP-SECRET-0815"
EARLIER = b"%PDF-1.7 earlier output\n"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "secret.txt").write_text(SECRET, encoding="utf-8")
    root = tmp_path / "project"
    write(root / "handbook.yaml", 'title: Tiny <b>bold</b> & "quoted"\n')
    write(
        root / "content" / "intro.yaml",
        """
        kind: chapter
        id: intro
        title: <script>alert(1)</script>
        sections:
          - title: <img src=/etc/hostname>
            body: Hello <em>there</em>.
        """,
    )
    (root / "build").mkdir()
    (root / "build" / "handbook.pdf").write_bytes(EARLIER)
    return root


def _template(root: Path, text: str, name: str = "booklet.html.j2") -> None:
    write(root / "templates" / name, text)


def _problem(root: Path):
    with pytest.raises(HandbookError) as caught:
        build(root)
    assert (root / "build" / "handbook.pdf").read_bytes() == EARLIER
    assert len(caught.value.problems) == 1, caught.value
    problem = caught.value.problems[0]
    assert SECRET not in problem.format()
    return problem


ESCAPES = [
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ handbook.__class__.__init__.__globals__ }}",
    "{{ handbook.settings.__class__ }}",
    "{{ cycler.__init__.__globals__.os }}",
    "{{ lipsum.__globals__['os'].popen('id').read() }}",
    "{{ self.__init__.__globals__ }}",
    "{{ handbook.settings.model_config.__class__ }}",
    "{% set x = namespace() %}{{ x.__class__.__base__.__subclasses__() }}",
    "{{ ().__class__.__base__.__subclasses__() }}",
    "{{ handbook.origins.__setitem__('x', 1) }}",
    "{{ handbook.chapters.append(1) }}",
]


@pytest.mark.parametrize("expression", ESCAPES)
def test_sandbox_blocks_escapes_with_a_located_error(project, expression):
    _template(project, f"<html>\n<body>\n<p>{expression}</p>\n</body>\n</html>\n")
    problem = _problem(project)
    assert (problem.path, problem.line) == ("templates/booklet.html.j2", 3)
    assert "unsafe" in problem.message or "is undefined" in problem.message


def test_syntax_error_names_template_and_line(project):
    _template(project, "<html>\n<body>\n\n{% if %}\n</body>\n</html>\n")
    problem = _problem(project)
    assert (problem.path, problem.line) == ("templates/booklet.html.j2", 4)
    assert problem.message.startswith("template syntax error:")


def test_undefined_name_names_template_and_line(project):
    _template(project, "<html>\n<body>\n{{ handbook.settings.titel }}\n</body>\n</html>\n")
    problem = _problem(project)
    assert (problem.path, problem.line) == ("templates/booklet.html.j2", 3)
    assert "has no attribute 'titel'" in problem.message


def test_undefined_is_strict_even_in_tests(project):
    _template(project, "<html>\n<body>\n\n{% if nothing_here %}x{% endif %}\n</body></html>\n")
    problem = _problem(project)
    assert (problem.path, problem.line) == ("templates/booklet.html.j2", 4)
    assert "'nothing_here' is undefined" in problem.message


def test_error_in_an_overridden_partial_names_the_partial(project):
    _template(project, "<section>\n{{ handbook.settings.titel }}\n</section>\n", "_cover.html.j2")
    problem = _problem(project)
    assert (problem.path, problem.line) == ("templates/_cover.html.j2", 2)
    assert "has no attribute 'titel'" in problem.message


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("{{ 1 / 0 }}", "ZeroDivisionError"),
        ("{{ handbook.technique('nope') }}", "StopIteration"),
        ("{{ range(10 ** 9) | list }}", "Range too big"),
        ("{{ '%s' | format }}", "TypeError"),
    ],
)
def test_exception_in_a_template_is_a_located_error(project, expression, message):
    _template(project, f"<html>\n<body>\n{expression}\n</body>\n</html>\n")
    problem = _problem(project)
    assert (problem.path, problem.line) == ("templates/booklet.html.j2", 3)
    assert message in problem.message


def test_include_outside_the_templates_is_not_found(project):
    _template(project, "<html>\n<body>\n{% include '../handbook.yaml' %}\n</body>\n</html>\n")
    problem = _problem(project)
    assert (problem.path, problem.line) == ("templates/booklet.html.j2", 3)
    assert "template '../handbook.yaml' not found" in problem.message


def test_template_linking_outside_is_refused(project):
    (project / "templates").mkdir()
    (project / "templates" / "_cover.html.j2").symlink_to(project.parent / "secret.txt")
    problem = _problem(project)
    assert problem.path == "templates/_cover.html.j2"
    assert "outside the templates folder" in problem.message


def test_autoescape_applies_to_every_template(project):
    renderer = Renderer(open_project(project))
    names = renderer.env.list_templates()
    assert "booklet.html.j2" in names and "card-technique.html.j2" in names
    autoescape = renderer.env.autoescape
    assert all(autoescape(name) if callable(autoescape) else autoescape for name in names)
    assert renderer.env.undefined is jinja2.StrictUndefined
    assert isinstance(renderer.env, jinja2.sandbox.ImmutableSandboxedEnvironment)


def test_content_markup_is_escaped_in_the_html(project):
    opened = open_project(project)
    handbook = load_handbook(opened)
    html = Renderer(opened).booklet(handbook, BuildOptions().format_for(handbook)).html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=/etc/hostname&gt;" in html
    assert "Tiny &lt;b&gt;bold&lt;/b&gt; &amp; &#34;quoted&#34;" in html
    assert "Hello &lt;em&gt;there&lt;/em&gt;." in html
    assert "<script" not in html and "<img" not in html and "<b>" not in html


def test_cli_template_error_exits_1_without_traceback(project):
    _template(project, "<html>\n<body>\n{{ ''.__class__ }}\n</body>\n</html>\n")
    result = CliRunner().invoke(cli, ["build", "--project", str(project)])
    assert result.exit_code == 1
    assert result.output.startswith("templates/booklet.html.j2:3:1: template error:")
    assert "Traceback" not in result.output


def test_fifo_template_is_refused_without_waiting(project):
    (project / "templates").mkdir()
    os.mkfifo(project / "templates" / "_cover.html.j2")
    problem = _problem(project)
    assert problem.path == "templates/_cover.html.j2"
    assert problem.message.startswith("not a regular file (included at built-in templates/")
    assert problem.hint == "a template must be a plain file in the templates folder"
