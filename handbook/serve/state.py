"""What the preview page shows, shared between the build loop and the server's threads.

The build loop publishes a new version after each build; a page asks for
the state newer than the version it has and waits (a long poll) until there
is one, so a save reaches it without a reload.
"""

from __future__ import annotations

import threading
import time
from dataclasses import asdict, dataclass, field

from handbook.errors import Problem
from handbook.serve.pictures import Picture, Pictures

POLL_SECONDS = 20.0  # how long a page's request for news waits before it asks again


@dataclass
class Snapshot:
    """The state as the page receives it (JSON)."""

    version: int = 0
    title: str = ""  # the booklet's title, once it is built
    building: bool = True
    problems: list[dict] = field(default_factory=list)
    pages: list[dict] = field(default_factory=list)
    contents: list[dict] = field(default_factory=list)
    cards: list[dict] = field(default_factory=list)
    saved_at: float | None = None  # when the files this build answers were saved (epoch s)
    seconds: float | None = None  # from that save to the pictures being ready


class PreviewState:
    """The latest snapshot and a condition that wakes the pages waiting for the next."""

    def __init__(self, pictures: Pictures):
        self.pictures = pictures
        self._snapshot = Snapshot()
        self._changed = threading.Condition(threading.RLock())
        self._closed = False

    def snapshot(self, newer_than: int | None = None, wait: float = POLL_SECONDS) -> Snapshot:
        """The current snapshot; with ``newer_than`` (the version a page has), wait up to
        ``wait`` s for another one. A page that has a version this server never made (it
        was started again) gets the current one at once."""
        with self._changed:
            if newer_than is not None:
                self._changed.wait_for(
                    lambda: self._closed or self._snapshot.version != newer_than, wait
                )
            return self._snapshot

    def picture(self, name: str) -> Picture | None:
        with self._changed:
            return self.pictures.find(name)

    def saving(self, saved_at: float) -> None:
        """Files were saved at ``saved_at``: a build is on its way."""
        self._update(building=True, saved_at=saved_at, seconds=None)

    def rendered(self) -> None:
        """An output of the build under way was written: show it at once if it is a
        picture (a card is ready long before the booklet)."""
        with self._changed:  # the pictures change under the lock the server reads them with
            if self.pictures.refresh():
                self._update(**self._pictures())

    def built(self, problems: list[Problem], card_order: list[str] | None) -> None:
        """A build ended with these problems (none when it succeeded): draw what changed."""
        with self._changed:
            self.pictures.refresh(card_order)
            saved_at = self._snapshot.saved_at
            seconds = None if saved_at is None else max(0.0, time.time() - saved_at)
            shown = [_problem(p) for p in problems]
            self._update(building=False, problems=shown, seconds=seconds, **self._pictures())

    def _pictures(self) -> dict:
        pictures = self.pictures
        return {
            "title": pictures.title,
            "pages": [_picture(p) for p in pictures.pages],
            "contents": [asdict(h) for h in pictures.contents],
            "cards": [
                {"id": c.id, "title": c.title, **_picture(c.picture)} for c in pictures.cards
            ],
        }

    def close(self) -> None:
        """Wake every waiting page: the server is stopping."""
        with self._changed:
            self._closed = True
            self._changed.notify_all()

    def _update(self, **changes) -> None:
        with self._changed:
            current = asdict(self._snapshot)
            current.update(changes, version=self._snapshot.version + 1)
            self._snapshot = Snapshot(**current)
            self._changed.notify_all()


def _picture(picture: Picture) -> dict:
    return {
        "name": picture.name,
        "src": f"/pictures/{picture.name}.png?v={picture.version}",
        "width": picture.width,
        "height": picture.height,
    }


def _problem(problem: Problem) -> dict:
    where = problem.path
    if problem.line:
        where += f":{problem.line}:{problem.column}"
    return {"where": where, "message": problem.message, "hint": problem.hint or ""}
