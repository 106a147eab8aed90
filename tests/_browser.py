"""A headless system Chromium driven by Playwright, for the tests of the generated pages.

Nothing is downloaded: the browser is Debian's ``chromium`` (``/usr/bin/chromium``, or the
path in ``$CHROMIUM``). Without it, or without the ``playwright`` package, the browser tests
skip and say why. Every request that is not a ``file:`` or ``data:`` URL is aborted and
recorded, so a test can assert that a page needs no network.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

#: Screenshots go here when set (outside the repository), e.g. SHOTS=/tmp/shots.
SHOTS = os.environ.get("SHOTS")


def chromium_path() -> str | None:
    for cand in (os.environ.get("CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium")):
        if cand and Path(cand).is_file() and os.access(cand, os.X_OK):
            return cand
    return None


@dataclass
class Watch:
    """What a page did: console errors, uncaught exceptions, requests off the file system."""

    errors: list[str] = field(default_factory=list)
    network: list[str] = field(default_factory=list)


def browser_context() -> Iterator[Any]:
    """A persistent context in a fresh profile folder (module-scoped fixture body)."""
    exe = chromium_path()
    if exe is None:
        pytest.skip("no Chromium at /usr/bin/chromium ($CHROMIUM): apt-get install chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("the playwright package is not installed (pip install playwright)")
    with sync_playwright() as p, tempfile.TemporaryDirectory() as profile:
        ctx = p.chromium.launch_persistent_context(
            profile,
            executable_path=exe,
            args=ARGS,
            headless=True,
            viewport={"width": 1500, "height": 1200},
        )
        try:
            yield ctx
        finally:
            ctx.close()


def open_page(ctx: Any, path: Path) -> tuple[Any, Watch]:
    """Open ``path`` from ``file://`` with the console and the network watched."""
    watch = Watch()
    page = ctx.new_page()
    page.on("console", lambda m: watch.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: watch.errors.append(str(e)))

    def route(r: Any) -> None:
        url = r.request.url
        if url.startswith(("file:", "data:")):
            r.continue_()
        else:
            watch.network.append(url)
            r.abort()

    page.route("**/*", route)

    def request(req: Any) -> None:
        if not req.url.startswith(("file:", "data:")):
            watch.network.append(req.url)

    page.on("request", request)
    page.goto(path.resolve().as_uri())
    return page, watch


def shot(page: Any, name: str) -> None:
    """Save a full-page screenshot under $SHOTS (if set), to look at."""
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / name), full_page=True)
