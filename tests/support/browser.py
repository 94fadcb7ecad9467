"""Headless Chromium for the tests of the published pages: load a local file, report what it did.

The pages Heed publishes are self-contained (one HTML file, inline CSS and SVG), so a load must
request nothing but the file itself. :class:`Browser` drives the system Chromium (Debian's
``chromium`` package) through Playwright, without Playwright's own browser download; every request
other than the page is recorded and aborted, so a page that reaches for the network is caught
and nothing ever leaves the machine.

Which Chromium: ``HEED_TEST_CHROMIUM`` (``.ci/run`` sets it), else ``chromium`` on ``PATH``.
When there is none, or Playwright is not installed, :func:`launch_browser` skips the test, unless
``HEED_TEST_REQUIRE_SERVICES`` is set (CI), where that is a failure. A test module's fixture::

    @pytest.fixture(scope="module")
    def browser() -> Iterator[Browser]:
        with launch_browser() as launched:
            yield launched
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn, Self

import pytest

CHROMIUM_ENV = "HEED_TEST_CHROMIUM"
REQUIRE_ENV = "HEED_TEST_REQUIRE_SERVICES"
#: The viewport every page is laid out in unless a test asks for another (CSS pixels).
VIEWPORT = (1024, 768)

# Flags that keep Chromium quiet and offline: no background fetches, component updates, sync,
# metrics upload or pings, and every host name but 127.0.0.1 resolving to nowhere (belt and
# braces: the page's own requests are aborted before they are sent, and the context is emulated
# offline; Browser.open_url reaches a server on 127.0.0.1).
CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",  # CI runs as root, where the sandbox refuses to start
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-default-apps",
    "--disable-domain-reliability",
    "--disable-sync",
    "--disable-extensions",
    "--metrics-recording-only",
    "--no-first-run",
    "--no-pings",
    # 127.0.0.1 is excluded for the portal's pages (Browser.open_url), served on this machine.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    "--force-color-profile=srgb",  # the same pixel values on every machine
    "--hide-scrollbars",
)

# Schemes that are part of the page itself, not requests leaving it.
_INLINE_SCHEMES = ("data:", "blob:", "about:")


@dataclass(frozen=True)
class Box:
    """An element's border box in page coordinates (CSS pixels, origin at the document's top)."""

    x: float
    y: float
    width: float
    height: float

    @property
    def empty(self) -> bool:
        """True when the element takes no room (not rendered, or zero-sized)."""
        return self.width <= 0 or self.height <= 0


@dataclass(frozen=True)
class ConsoleEntry:
    """One console message: its type (``log``, ``warning``, ``error`` …), text and source."""

    type: str
    text: str
    location: str = ""


@dataclass
class LoadedPage:
    """A page loaded in Chromium, what it did while loading, and queries on its layout."""

    url: str
    page: Any  # playwright.sync_api.Page (kept untyped: Playwright is an optional dependency)
    console: list[ConsoleEntry] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    failed_loads: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    @property
    def console_errors(self) -> list[str]:
        """Return the text of every console message of type ``error``."""
        return [entry.text for entry in self.console if entry.type == "error"]

    @property
    def errors(self) -> list[str]:
        """Return every sign of a broken page: console errors, JS exceptions, failed loads."""
        return [
            *(f"console: {text}" for text in self.console_errors),
            *(f"exception: {text}" for text in self.page_errors),
            *(f"failed load: {text}" for text in self.failed_loads),
        ]

    @property
    def left_page(self) -> bool:
        """True when the page requested anything but itself (a self-contained page never does)."""
        return bool(self.requests)

    def document_height(self) -> int:
        """Return the laid-out height of the whole document, in CSS pixels."""
        return int(self.page.evaluate("() => document.documentElement.scrollHeight"))

    def document_width(self) -> int:
        """Return the laid-out width of the whole document, in CSS pixels."""
        return int(self.page.evaluate("() => document.documentElement.scrollWidth"))

    def boxes(self, selector: str) -> list[Box]:
        """Return the border box of every element matching the CSS *selector*, in order."""
        rects = self.page.evaluate(
            """(sel) => Array.from(document.querySelectorAll(sel), (el) => {
                const r = el.getBoundingClientRect();
                return [r.left + window.scrollX, r.top + window.scrollY, r.width, r.height];
            })""",
            selector,
        )
        return [Box(*rect) for rect in rects]

    def texts(self, selector: str) -> list[str]:
        """Return the rendered text of every element matching *selector*, whitespace-collapsed."""
        texts = self.page.evaluate(
            "(sel) => Array.from(document.querySelectorAll(sel), (el) => el.innerText)", selector
        )
        return [" ".join(text.split()) for text in texts]

    def visible(self, selector: str) -> list[bool]:
        """Return, per element matching *selector*, whether it is rendered and takes room."""
        return [
            bool(shown)
            for shown in self.page.evaluate(
                """(sel) => Array.from(document.querySelectorAll(sel), (el) => {
                    const s = getComputedStyle(el), r = el.getBoundingClientRect();
                    return s.visibility !== 'hidden' && s.display !== 'none'
                        && Number(s.opacity) > 0 && r.width > 0 && r.height > 0;
                })""",
                selector,
            )
        ]

    def screenshot(self, path: Path) -> Path:
        """Save a full-page PNG of the page to *path* (one image pixel per CSS pixel)."""
        self.page.screenshot(path=str(path), full_page=True, animations="disabled")
        return path


class Browser:
    """One headless Chromium; each :meth:`open` gets a fresh, isolated browser context."""

    def __init__(self, executable: str) -> None:
        from playwright.sync_api import sync_playwright

        self.executable = executable
        self._playwright = sync_playwright().start()
        try:
            self._browser = self._playwright.chromium.launch(
                executable_path=executable, headless=True, args=list(CHROMIUM_ARGS)
            )
        except Exception:
            self._playwright.stop()
            raise

    @property
    def version(self) -> str:
        """Return the Chromium version string."""
        return str(self._browser.version)

    def close(self) -> None:
        """Shut the browser and Playwright's driver down."""
        try:
            self._browser.close()
        finally:
            self._playwright.stop()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def open(self, path: Path, *, viewport: tuple[int, int] = VIEWPORT) -> Iterator[LoadedPage]:
        """Load the local HTML file *path*; yield the page once its ``load`` event has fired.

        Every request other than the file itself is recorded in ``requests`` and aborted.
        """
        url = Path(path).resolve().as_uri()
        context = self._browser.new_context(
            viewport={"width": viewport[0], "height": viewport[1]},
            device_scale_factor=1,
            java_script_enabled=True,
            offline=True,
            service_workers="block",
        )
        try:
            page = context.new_page()
            loaded = LoadedPage(url=url, page=page)
            _watch(page, loaded)

            def route(r: Any) -> None:
                if r.request.url == url:
                    r.continue_()
                else:
                    r.abort("blockedbyclient")

            context.route("**/*", route)
            page.goto(url, wait_until="load")
            yield loaded
        finally:
            context.close()

    @contextmanager
    def open_url(self, url: str, *, viewport: tuple[int, int] = VIEWPORT) -> Iterator[LoadedPage]:
        """Load *url* of a server on this machine (``heed serve``); yield the page once loaded.

        Requests to the page's own origin go through (the portal's links and forms); every
        other request is recorded in ``requests`` and aborted.
        """
        origin = "/".join(url.split("/", 3)[:3])
        context = self._browser.new_context(
            viewport={"width": viewport[0], "height": viewport[1]},
            device_scale_factor=1,
            java_script_enabled=True,
            service_workers="block",
        )
        try:
            page = context.new_page()
            loaded = LoadedPage(url=url, page=page)
            _watch(page, loaded, same_origin=origin)

            def route(r: Any) -> None:
                if r.request.url == origin or r.request.url.startswith(origin + "/"):
                    r.continue_()
                else:
                    r.abort("blockedbyclient")

            context.route("**/*", route)
            page.goto(url, wait_until="load")
            yield loaded
        finally:
            context.close()


def _watch(page: Any, loaded: LoadedPage, *, same_origin: str | None = None) -> None:
    """Record the console, uncaught exceptions and every request of *page* into *loaded*."""

    def on_console(message: Any) -> None:
        where = message.location or {}
        location = f"{where.get('url', '')}:{where.get('lineNumber', '')}".strip(":")
        loaded.console.append(ConsoleEntry(message.type, message.text, location))

    def on_request(request: Any) -> None:
        if same_origin is not None and request.url.startswith(same_origin + "/"):
            return
        if request.url != loaded.url and not request.url.startswith(_INLINE_SCHEMES):
            loaded.requests.append(request.url)

    def on_failed(request: Any) -> None:
        loaded.failed_loads.append(f"{request.url} ({request.failure})")

    page.on("console", on_console)
    page.on("pageerror", lambda error: loaded.page_errors.append(str(error)))
    page.on("request", on_request)
    page.on("requestfailed", on_failed)


def find_chromium() -> str | None:
    """Return the Chromium to test with: ``$HEED_TEST_CHROMIUM``, else ``chromium`` on PATH."""
    configured = os.environ.get(CHROMIUM_ENV)
    if configured:
        return configured if os.access(configured, os.X_OK) else None
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


def _unavailable(reason: str) -> NoReturn:
    """Skip the test, or fail it when the environment promises every service (CI)."""
    if os.environ.get(REQUIRE_ENV):
        pytest.fail(f"{reason}, but {REQUIRE_ENV} is set (CI installs Chromium and Playwright)")
    pytest.skip(reason)


@contextmanager
def launch_browser() -> Iterator[Browser]:
    """Launch the test Chromium for a fixture; skip the test (fail in CI) when there is none."""
    executable = find_chromium()
    if executable is None:
        _unavailable(f"no Chromium (set {CHROMIUM_ENV} or install Debian's chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _unavailable("Playwright is not installed (pip install -e '.[dev]')")
    with Browser(executable) as launched:
        yield launched
