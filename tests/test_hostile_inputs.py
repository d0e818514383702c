"""Odd but reachable inputs are located problems or are handled, never a traceback.

Loops of links, folders and pipes where files belong, file names that are not
UTF-8, templates with a bad byte, SOURCE_DATE_EPOCH values no date can have,
dates before fonts can carry them.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from handbook.build import build, check
from handbook.build.dates import document_date
from handbook.build.inputs import shared_inputs, source_stamp
from handbook.build.output import TEMP_SUFFIX, build_lock
from handbook.build.pipeline import BuildOptions
from handbook.cli import cli
from handbook.errors import HandbookError
from handbook.project import open_project
from tests.conftest import problems_of, write
from tests.hostile import mini_project

NOT_UTF8 = os.fsdecode(b"stray\xff.yaml")


@pytest.fixture
def mini(tmp_path: Path) -> Path:
    return mini_project(tmp_path / "mini")


def test_links_in_loops_folders_and_pipes_in_content_are_located_problems(mini):
    content = mini / "content"
    (content / "a.yaml").symlink_to("b.yaml")
    (content / "b.yaml").symlink_to("a.yaml")
    (content / "folder.yaml").mkdir()
    os.mkfifo(content / "pipe.yaml")
    (content / "loop").symlink_to("..")
    (content / os.fsdecode(b"notes\xfe.txt")).write_text("a stray file")
    expected = [
        "content/a.yaml: cannot read the file: Too many levels of symbolic links",
        "content/b.yaml: cannot read the file: Too many levels of symbolic links",
        "content/folder.yaml: not a regular file (a folder, a device or a pipe)\n"
        "    hint: content files are plain YAML files: rename or remove this one",
        "content/pipe.yaml: not a regular file (a folder, a device or a pipe)\n"
        "    hint: content files are plain YAML files: rename or remove this one",
    ]
    assert problems_of(mini) == expected
    with pytest.raises(HandbookError) as caught:
        build(mini)  # the stamp of every source file is taken first
    assert [problem.format() for problem in caught.value.problems] == expected


def test_file_names_that_are_not_utf8_are_hashed_and_shown(mini):
    write(mini / "content" / NOT_UTF8, "kind: chapter\nid: stray\ntitle: Stray\n")
    (mini / "styles").mkdir()
    (mini / "styles" / os.fsdecode(b"odd\xfe.css")).write_text("p { color: black }")
    (mini / "styles" / "loop.css").symlink_to("loop.css")
    (mini / "fonts").symlink_to("fonts")
    project = open_project(mini)
    assert source_stamp(project, BuildOptions())
    [problem] = problems_of(mini)
    assert problem.startswith("content/stray\\udcff.yaml:2:5: the chapter 'stray' is not in")
    (mini / "content" / NOT_UTF8).unlink()
    assert shared_inputs(project, check(mini))


def test_a_project_template_with_a_bad_byte_is_located_in_it_not_in_the_built_in_one(mini):
    (mini / "templates").mkdir()
    (mini / "templates" / "_macros.html.j2").write_bytes(b"{# ok #}\nfine \xff here\n")
    result = CliRunner().invoke(cli, ["check", "--project", str(mini)])
    assert result.exit_code == 1
    assert result.output.startswith(
        "templates/_macros.html.j2:2:6: the template is not valid UTF-8 (byte 0xff)\n"
        "    hint: save the file with UTF-8 encoding\n"
    )
    assert str(mini.parent) not in result.output


def test_a_template_that_is_not_a_file_is_located_where_it_is_included(mini):
    (mini / "templates" / "_macros.html.j2").mkdir(parents=True)
    result = CliRunner().invoke(cli, ["check", "--project", str(mini)])
    assert result.exit_code == 1
    first = result.output.splitlines()[0]
    assert first.startswith(
        "templates/_macros.html.j2: not a regular file (included at built-in templates/"
    )
    assert first.rstrip(")").split(":")[-1].isdigit()  # the line of the include
    assert "plain file in the templates folder" in result.output


def test_a_temporary_file_that_cannot_be_deleted_is_left(tmp_path, monkeypatch):
    stale = tmp_path / f".handbook.pdf.ab{TEMP_SUFFIX}"
    stale.write_bytes(b"")

    def refuse(self, missing_ok=False):
        raise PermissionError(13, "Operation not permitted", str(self))

    monkeypatch.setattr(Path, "unlink", refuse)
    with build_lock(tmp_path):
        pass
    assert stale.exists()


@pytest.mark.parametrize(
    ("epoch", "says"),
    [
        ("abc", "'abc' is not a number of seconds since 1970"),
        ("\u00b2", "'\u00b2' is not a number of seconds since 1970"),
        ("\u0661\u0662", "'\u0661\u0662' is not a number of seconds since 1970"),
        ("-5", "'-5' is not a number of seconds since 1970"),
        ("9" * 30, "999999999999999999999999999999 seconds since 1970 is past any date"),
        ("9" * 5000, "9999999999... seconds since 1970 is past any date"),
    ],
)
def test_source_date_epoch_that_no_date_can_have_is_a_problem(monkeypatch, epoch, says):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", epoch)
    with pytest.raises(HandbookError) as caught:
        document_date(None, None)
    [problem] = caught.value.problems
    assert problem.path == "SOURCE_DATE_EPOCH"
    assert says.replace("9999999999...", "") in problem.message
    assert len(problem.message) < 200


def test_a_dated_project_ignores_a_source_date_epoch_it_does_not_need(monkeypatch):
    import datetime

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "9" * 5000)
    assert document_date(datetime.date(1800, 1, 1), None) == "1800-01-01"


def test_links_to_files_are_refused_so_no_build_path_reaches_a_pdf(mini):
    write(
        mini / "content" / "intro.yaml",
        """
        kind: chapter
        id: intro
        title: Intro
        sections:
          - title: Links
            body: |
              See [the notes](notes.pdf), [home](/etc/passwd), [a ref][r], <foo:bar>,
              [web](https://example.org), [mail](mailto:a@b.c), [call](tel:+123)
              and [gliding](#gliding).

              [r]: ../secret.txt
        """,
    )
    write(mini / "handbook.yaml", "title: Mini\noutline: [intro, techniques]\n")
    hint = "\n    hint: link to a part of the handbook ('#id') or to a web address ('https://...')"
    at = "content/intro.yaml:6:11: the link"
    assert problems_of(mini) == [
        f"{at} '../secret.txt' points at a file, which a printed handbook cannot link to{hint}",
        f"{at} '/etc/passwd' points at a file, which a printed handbook cannot link to{hint}",
        f"{at} 'foo:bar' is not a web address, which a printed handbook cannot link to{hint}",
        f"{at} 'notes.pdf' points at a file, which a printed handbook cannot link to{hint}",
    ]


def test_an_empty_source_date_epoch_counts_as_unset(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "")
    assert document_date(None, None) is None


def test_folders_nested_thousands_deep_are_walked_without_recursing(mini):
    deep = top = mini / "content" / "a"
    try:
        for _ in range(1100):  # deeper than Python's recursion limit, within PATH_MAX
            deep.mkdir()
            deep = deep / "a"
        (deep.parent / "intro.yaml").write_text("kind: chapter\nid: intro\ntitle: Intro\n")
        assert source_stamp(open_project(mini), BuildOptions())
        [problem] = problems_of(mini)
    finally:  # shutil.rmtree, which cleans up after the tests, recurses; rm does not
        subprocess.run(["rm", "-rf", str(top)], check=True)
    assert problem.endswith(
        "a/intro.yaml:2:5: the chapter 'intro' is not in the outline, so it "
        "prints nowhere\n    hint: add it to 'outline' in handbook.yaml, or "
        "give it 'card: true' to print it as a card only"
    )
