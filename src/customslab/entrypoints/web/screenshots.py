"""Screenshots of the main pages from the demo network, served live and driven by Chromium (Playwright)."""

from __future__ import annotations

import re
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import uvicorn

from customslab.config import Settings

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def live_server(app: Any) -> Iterator[str]:
    """Serve `app` with uvicorn in a background thread on a free 127.0.0.1 port; yields the base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the web server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def sign_in(page: Any, base: str, username: str, password: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state("networkidle")


def take_screenshots(out_dir: Path | str = Path("docs/screenshots"), n_requests: int = 300) -> list[Path]:
    """Build the demo database in a temporary folder, serve it, and save PNGs of the main pages."""
    from playwright.sync_api import sync_playwright

    from customslab.entrypoints.demo_setup import DEMO_PASSWORD, set_up_demo
    from customslab.entrypoints.web.app import create_web_app

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    shared = Settings(mode="demo").shared_data.resolve()
    saved: list[Path] = []
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            mode="demo",
            database_url=f"sqlite:///{tmp}/demo.sqlite3",
            file_store=Path(tmp) / "files",
            shared_data=shared,
        )
        set_up_demo(settings, n_requests)  # with the HS nomenclature and the default spectral library
        app = create_web_app(settings)
        with live_server(app) as base, sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 900})

            def shot(name: str) -> None:
                path = out / f"{name}.png"
                page.screenshot(path=str(path), full_page=True)
                saved.append(path)

            sign_in(page, base, "analyst", DEMO_PASSWORD)
            page.goto(f"{base}/queue")
            shot("queue")
            href = page.locator("#queue-rows a[href^='/samples/']").first.get_attribute("href")
            page.goto(f"{base}{href}")
            shot("sample")
            _identification(page, base, shared)
            shot("identification")
            _attachment_preview(page, base)
            shot("attachment-preview")
            _receive(page, base)
            shot("receive")
            page.goto(f"{base}/hs?q=rum")
            shot("hs-nomenclature")
            _hs_evaluation(page, base)
            shot("hs-evaluation")
            page.goto(f"{base}/quality")
            shot("quality")
            page.goto(f"{base}/quality/equipment")
            shot("quality-equipment")
            page.context.clear_cookies()
            sign_in(page, base, "coordinator", DEMO_PASSWORD)
            page.goto(f"{base}/dashboard")
            page.wait_for_selector("#ch-cases canvas")
            shot("dashboard")
            page.context.clear_cookies()
            sign_in(page, base, "officer", DEMO_PASSWORD)
            page.goto(f"{base}/requests")
            shot("officer-requests")
            _answered_request(page, base)
            shot("officer-request")
            page.goto(f"{base}/requests")
            page.select_option("#lang-select", "ko")
            page.wait_for_load_state("networkidle")
            shot("korean")
            browser.close()
    return saved


def _identification(page: Any, base: str, shared: Path) -> None:
    """On an analyst's open test: upload a real MassBank GC-MS record and search the library."""
    page.goto(f"{base}/my-work?state=in_analysis")
    for link in page.locator("#queue-rows tbody a[href^='/samples/']").all():
        page.goto(base + (link.get_attribute("href") or ""))
        identify = page.get_by_role("link", name="Identify a spectrum")
        if identify.count():
            identify.first.click()
            break
    spectrum = shared / "spectra/massbank-ei/MSBNK-GL_Sciences_Inc-GLS00001.txt"
    page.set_input_files("#spectrum-file", str(spectrum))
    page.get_by_role("button", name="Upload and identify").click()
    page.wait_for_selector("#mirror canvas")
    page.get_by_role("link", name=re.compile("alpha-MethylBenzylamine")).first.scroll_into_view_if_needed()


def _attachment_preview(page: Any, base: str) -> None:
    """The spectrum just uploaded, drawn on its attachment's preview page."""
    test = re.search(r"/tests/(\d+)/identify", page.url)
    assert test is not None, page.url
    page.locator("main a[href^='/samples/']").first.click()
    page.locator(f"#test-{test[1]} a[href$='/preview']").last.click()
    page.wait_for_selector("#preview figure.spectrum")


def _receive(page: Any, base: str, lab: str = "KCS-CCL") -> None:
    """The receiving bench with the labels of the demo analyst's laboratory scanned (typed as a hand
    scanner types); the waiting list also shows the local laboratories' samples, which it cannot receive."""
    page.goto(f"{base}/receive")
    codes = [a.inner_text().strip() for a in page.locator("main table a[href^='/samples/']").all()]
    for code in [c for c in codes if c.startswith(f"{lab}-")][:2]:
        page.keyboard.type(code)
        page.keyboard.press("Enter")
    page.get_by_label("Storage location").fill("Cold room 1")


def _answered_request(page: Any, base: str) -> None:
    """One of the officer's requests the laboratory has answered with a report, else the first."""
    hrefs = [a.get_attribute("href") for a in page.locator("main table a[href^='/requests/']").all()]
    for href in hrefs[:40]:
        page.goto(f"{base}{href}")
        if page.locator("p.report-download a").count():
            return
    page.goto(f"{base}{hrefs[0]}")


def _hs_evaluation(page: Any, base: str) -> None:
    """An approved sample whose evaluation has a verdict."""
    page.goto(f"{base}/queue?state=approved")
    hrefs = [a.get_attribute("href") for a in page.locator("#queue-rows tbody a[href^='/samples/']").all()]
    for href in hrefs[:25]:
        page.goto(f"{base}{href}/hs")
        if page.locator("#verdict .badge").count():
            return
