"""``handbook serve``: the preview page, its pictures and state, what it refuses, and a
real browser watching a save reach the page."""

from __future__ import annotations

import http.client
import json
import os
import queue
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from pypdf import PdfReader

from handbook.build import BuildOptions, check
from handbook.build.output import TEMP_SUFFIX
from handbook.errors import HandbookError
from handbook.serve import PreviewState, serve, start_server
from handbook.serve.pictures import Pictures

PNG = b"\x89PNG\r\n\x1a\n"
TECHNIQUE = "content/gliding.yaml"


def fetch(url: str, path: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    """GET ``path`` exactly as written (no client-side normalising): status and body."""
    address = url.removeprefix("http://").rstrip("/")
    host, port = address.rsplit(":", 1)
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        connection.putrequest("GET", path, skip_host=bool(headers and "Host" in headers))
        for name, value in (headers or {}).items():
            connection.putheader(name, value)
        connection.endheaders()
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def state_of(url: str, since: int | None = None) -> dict:
    status, body = fetch(url, "/state" if since is None else f"/state?since={since}")
    assert status == 200
    return json.loads(body)


def _preview(built: Path, out: Path):
    """A server over a copy of a build, its pictures drawn; stopped when the test ends."""
    shutil.copytree(built, out)
    state = PreviewState(Pictures(out))
    state.built([], None)
    server = start_server(state, port=0, title="Tiny <preview>")
    yield server, state, out
    state.close()
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def served(tiny_build, tmp_path_factory):
    """A preview of the tiny project's session build, for tests that only read it."""
    yield from _preview(tiny_build[0], tmp_path_factory.mktemp("served") / "out")


@pytest.fixture
def preview(tiny_build, tmp_path):
    """A preview of a copy of the session build of its own, for tests that change it."""
    yield from _preview(tiny_build[0], tmp_path / "out")


def test_the_page_shows_every_booklet_page_and_card_as_a_picture(served):
    server, _state, out = served
    assert server.url.startswith("http://127.0.0.1:")
    status, page = fetch(server.url, "/")
    assert status == 200
    assert b"<title>Tiny &lt;preview&gt;</title>" in page  # autoescaped
    assert b'src="/assets/serve.js"' in page and b"http" not in page.split(b"<body>")[1]
    shown = state_of(server.url)
    assert shown["title"] == "Tiny handbook"
    assert len(shown["pages"]) == len(PdfReader(out / "handbook.pdf").pages)
    assert [card["id"] for card in shown["cards"]] == sorted(
        path.stem for path in (out / "cards").glob("*.pdf")
    )
    gliding = next(card for card in shown["cards"] if card["id"] == "gliding")
    assert gliding["title"] == "Gliding"
    [heading] = [h for h in shown["contents"] if h["title"] == "Gliding"]
    assert heading["level"] == 2 and f"page-{heading['page']}" in {
        p["name"] for p in shown["pages"]
    }
    status, png = fetch(server.url, gliding["src"])
    assert status == 200 and png.startswith(PNG)
    for asset in ("/assets/serve.js", "/assets/serve.css"):
        assert fetch(server.url, asset)[0] == 200


REFUSED = [
    "/../handbook.pdf",
    "/pictures/../handbook.pdf",
    "/%2e%2e/handbook.pdf",
    "/pictures/%2E%2E/%2e%2e/etc/passwd",
    "/pictures/..%2fhandbook.pdf",
    "/assets/%2e%2e/index.html.j2",
    "/assets/..%5cindex.html.j2",
    "//etc/passwd",
    "/etc/passwd",
    "http://127.0.0.1/etc/passwd",
    "/handbook.pdf",
    "/cards/gliding.pdf",
    "/.handbook-cache.json",
    "/assets/index.html.j2",
    "/pictures/gliding.pdf",
]


def test_nothing_but_the_page_its_assets_and_pictures_is_served(served):
    server, _state, _out = served
    for path in REFUSED:
        status, body = fetch(server.url, path)
        assert status in (400, 404), path
        assert not body.startswith((b"%PDF", b"root:", b"{", b"<!DOCTYPE")), path


def test_a_request_for_another_host_name_is_refused(preview):
    """A page elsewhere that points its own name at 127.0.0.1 learns nothing."""
    server, _state, _out = preview
    status, _body = fetch(server.url, "/state", {"Host": "attacker.example:80"})
    assert status == 421


def test_a_content_error_is_shown_over_the_last_pictures_and_cleared_when_fixed(preview, tiny_copy):
    server, state, _out = preview
    good = state_of(server.url)
    technique = tiny_copy / TECHNIQUE
    text = technique.read_text(encoding="utf-8")
    technique.write_text(text.replace("level: 1", "level: 9"), encoding="utf-8")
    with pytest.raises(HandbookError) as raised:
        check(tiny_copy)
    state.built(raised.value.problems, None)
    failed = state_of(server.url, since=good["version"])
    line = text.splitlines().index("level: 1") + 1
    [problem] = [p for p in failed["problems"] if p["where"].startswith(TECHNIQUE)]
    assert problem["where"] == f"{TECHNIQUE}:{line}:8"
    assert problem["message"] and problem["hint"]
    assert failed["pages"] == good["pages"] and failed["cards"] == good["cards"]
    state.built([], None)
    assert state_of(server.url, since=failed["version"])["problems"] == []


def test_a_waiting_page_hears_of_a_save_at_once(preview):
    server, state, _out = preview
    version = state_of(server.url)["version"]
    answers: queue.Queue = queue.Queue()
    waiting = threading.Thread(target=lambda: answers.put(state_of(server.url, since=version)))
    waiting.start()
    time.sleep(0.2)
    assert answers.empty()  # still waiting: nothing is new
    state.saving(time.time())
    news = answers.get(timeout=5)
    assert news["building"] is True and news["version"] == version + 1
    waiting.join()


def test_only_the_pdfs_that_changed_are_drawn_again(preview):
    _server, state, out = preview
    before = state.snapshot()
    pictures = state.pictures
    assert not pictures.refresh()  # nothing changed
    shutil.copy(out / "cards" / "pressing.pdf", out / "cards" / "gliding.pdf")
    state.built([], None)
    after = state.snapshot()
    changed = {c["id"] for c, old in zip(after.cards, before.cards, strict=True) if c != old}
    assert changed == {"gliding"}
    assert after.pages == before.pages


def test_a_port_in_use_is_a_problem_with_a_hint(served):
    server, state, _out = served
    port = server.server_address[1]
    with pytest.raises(HandbookError) as raised:
        start_server(state, port=port)
    [problem] = raised.value.problems
    assert problem.message == f"port {port} on 127.0.0.1 is in use"
    assert "--port" in problem.hint


@pytest.mark.slow
def test_a_save_rebuilds_and_reaches_the_state_an_error_shows_then_clears(tiny_copy):
    urls: queue.Queue = queue.Queue()
    builds: queue.Queue = queue.Queue()
    stop = threading.Event()
    server = threading.Thread(
        target=serve,
        args=(tiny_copy, BuildOptions()),
        kwargs={
            "on_ready": urls.put,
            "on_build": builds.put,
            "stop_event": stop,
            "debounce_ms": 100,
        },
    )
    server.start()
    try:
        url = urls.get(timeout=30)
        builds.get(timeout=120)
        first = state_of(url)
        technique = tiny_copy / TECHNIQUE
        text = technique.read_text(encoding="utf-8")
        # Saved as editors do: a new file renamed over the old one.
        edited = technique.with_suffix(".tmp")
        edited.write_text(text.replace("Glide slowly", "Glide very slowly"), encoding="utf-8")
        edited.rename(technique)
        builds.get(timeout=120)
        second = state_of(url)
        changed = {
            c["id"] for c, old in zip(second["cards"], first["cards"], strict=True) if c != old
        }
        assert "gliding" in changed and "pressing" not in changed
        assert second["seconds"] is not None and second["seconds"] > 0

        technique.write_text(text.replace("level: 1", "level: 9"), encoding="utf-8")
        assert isinstance(builds.get(timeout=120), HandbookError)
        failed = state_of(url)
        line = text.splitlines().index("level: 1") + 1
        assert any(p["where"] == f"{TECHNIQUE}:{line}:8" for p in failed["problems"])
        assert failed["cards"] == second["cards"]
        technique.write_text(text, encoding="utf-8")
        builds.get(timeout=120)
        assert state_of(url)["problems"] == []
    finally:
        stop.set()
        server.join(timeout=30)
    assert not server.is_alive()


def descendants(pid: int) -> list[int]:
    """The processes started by ``pid`` and by them, from /proc (Linux)."""
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            found += [int(child), *descendants(int(child))]
    return found


def alive(pid: int) -> bool:
    """Whether the process runs (a zombie waiting to be reaped does not)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "State:\tZ" not in status


@pytest.mark.slow
def test_ctrl_c_stops_serving_cleanly(tiny_copy):
    process = subprocess.Popen(
        [sys.executable, "-m", "handbook", "serve", "--no-open", "--project", str(tiny_copy)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
    )
    assert process.stdout is not None
    url = ""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if "serving the preview at" in line:
            url = line.split(" at ")[1].split()[0]
        if " rendered in " in line:
            break
    assert url and state_of(url)["building"] is False
    workers = descendants(process.pid)
    assert workers  # the file watcher's build workers, or the fork server that makes them
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0
    assert "Traceback" not in err and "stopped serving" in out
    # The fork server and resource tracker end when they see their parent gone.
    deadline = time.monotonic() + 10
    while any(map(alive, workers)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert [pid for pid in workers if alive(pid)] == []
    with pytest.raises(OSError):
        fetch(url, "/state")
    leftovers = [p for p in (tiny_copy / "build").rglob("*") if p.name.endswith(TEMP_SUFFIX)]
    assert leftovers == []


CHROMIUM = "/usr/bin/chromium"  # Debian's, installed by .ci/install test


@pytest.mark.slow
def test_in_a_browser_a_save_updates_its_card_in_place_and_an_error_comes_and_goes(tiny_copy):
    from playwright.sync_api import expect, sync_playwright

    urls: queue.Queue = queue.Queue()
    builds: queue.Queue = queue.Queue()
    stop = threading.Event()
    options = BuildOptions(html=True)
    kwargs = {"on_ready": urls.put, "on_build": builds.put, "stop_event": stop}
    server = threading.Thread(target=serve, args=(tiny_copy, options), kwargs=kwargs)
    server.start()
    technique = tiny_copy / TECHNIQUE
    text = technique.read_text(encoding="utf-8")
    try:
        url = urls.get(timeout=30)
        builds.get(timeout=120)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1200, "height": 700})
            page.goto(url)
            card = page.locator("#card-gliding img")
            expect(card).to_have_attribute("src", re.compile(r"/pictures/card-gliding\.png\?v="))
            before = card.get_attribute("src")
            page.locator("#card-pressing").scroll_into_view_if_needed()
            scrolled = page.evaluate("window.scrollY")
            assert scrolled > 0

            technique.write_text(text.replace("Glide slowly", "Glide very slowly"))
            expect(card).not_to_have_attribute("src", before, timeout=120_000)
            assert page.evaluate("window.scrollY") == scrolled
            expect(page.locator("#status")).to_have_text(re.compile(r"Updated \d+\.\d\d s after"))

            technique.write_text(text.replace("level: 1", "level: 9"))
            line = text.splitlines().index("level: 1") + 1
            problems = page.locator("#problems")
            expect(problems).to_be_visible(timeout=120_000)
            expect(problems).to_contain_text(f"{TECHNIQUE}:{line}:8")
            expect(card).to_be_visible()  # the last good pictures stay under it
            technique.write_text(text)
            expect(problems).to_be_hidden(timeout=120_000)

            # The HTML edition, in the same browser: its contents are links within the page.
            page.goto((tiny_copy / "build" / "html" / "index.html").as_uri())
            page.locator("nav.toc a[href='#gentle']").click()
            assert page.evaluate("location.hash") == "#gentle"
            expect(page.locator("#gentle h3")).to_be_in_viewport()
            page.go_back()
            page.locator("nav.toc a[href='#gliding']").click()
            expect(page.locator("#gliding h3")).to_be_in_viewport()
            browser.close()
    finally:
        stop.set()
        server.join(timeout=30)


def test_a_card_written_mid_build_is_shown_before_the_build_ends(preview):
    """A card renders in a moment; the booklet takes longer: the page needs not wait."""
    server, state, out = preview
    state.saving(time.time())
    building = state_of(server.url)
    shutil.copy(out / "cards" / "pressing.pdf", out / "cards" / "gliding.pdf")
    state.rendered()
    shown = state_of(server.url, since=building["version"])
    assert shown["building"] is True
    old = {c["id"]: c["src"] for c in building["cards"]}
    assert [c["id"] for c in shown["cards"] if c["src"] != old[c["id"]]] == ["gliding"]


def test_a_page_that_goes_away_while_it_waits_leaves_no_traceback(preview, capsys):
    server, state, _out = preview
    version = state_of(server.url)["version"]
    host, port = server.server_address[:2]
    for _ in range(3):
        with socket.create_connection((host, port)) as client:
            client.sendall(f"GET /state?since={version} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
        time.sleep(0.1)  # the server is waiting on it when it closes
    state.saving(time.time())  # the answers go to closed connections
    time.sleep(0.5)
    try:
        raise BrokenPipeError(32, "Broken pipe")
    except BrokenPipeError:
        server.handle_error(None, (host, port))
    assert "Traceback" not in capsys.readouterr().err


def test_a_page_from_before_a_restart_gets_the_state_at_once(served):
    server, _state, _out = served
    current = state_of(server.url)["version"]
    started = time.monotonic()
    assert state_of(server.url, since=current + 40)["version"] == current
    assert time.monotonic() - started < 2


def test_an_odd_state_number_is_read_as_none_and_answered(served):
    server, _state, _out = served
    for since in ("--5", "%C2%B2", "9" * 5000, "1.5"):
        status, body = fetch(server.url, f"/state?since={since}")
        assert status == 200, since
        assert json.loads(body)["version"] >= 0


def test_a_card_file_that_is_a_link_is_never_drawn(preview, tmp_path):
    server, state, out = preview
    outside = tmp_path / "private.pdf"
    outside.write_bytes((out / "cards" / "gliding.pdf").read_bytes())
    (out / "cards" / "private.pdf").symlink_to(outside)
    state.built([], None)  # a look after a failed build shows every card file there is
    names = [card["id"] for card in state_of(server.url)["cards"]]
    assert "private" not in names and "gliding" in names
