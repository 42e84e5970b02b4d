"""Browser fixture for the observatory and « À propos » pages.

The pane tests keep one sync Playwright alive for the whole session, and a second sync
Playwright cannot start in the same thread. These pages are therefore checked with the
async API in a thread of their own (``in_chromium(check)``), whatever ran before.
"""
from __future__ import annotations

import asyncio
import threading
from typing import Any, Awaitable, Callable

import pytest

from tests.addin.conftest import CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS, WAIT_MS


def _run_in_thread(check: Callable[[Any], Awaitable[Any]]) -> Any:
    from playwright.async_api import async_playwright

    outcome: dict[str, Any] = {}

    async def main() -> Any:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                                       args=CHROMIUM_ARGS)
            try:
                return await check(browser)
            finally:
                await browser.close()

    def target() -> None:
        try:
            outcome["value"] = asyncio.run(main())
        except BaseException as exc:  # re-raised in the test's thread
            outcome["error"] = exc

    thread = threading.Thread(target=target, name="audit-chromium")
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


@pytest.fixture
def in_chromium() -> Callable[[Callable[[Any], Awaitable[Any]]], Any]:
    """``in_chromium(async def check(browser): ...)`` runs ``check`` in a fresh Chromium."""
    return _run_in_thread


async def new_page(browser: Any, url: str, *, width: int = 1280, height: int = 1800) -> Any:
    """A French page at ``url`` that records console messages in ``page.console_messages``."""
    context = await browser.new_context(viewport={"width": width, "height": height},
                                        locale="fr-FR", accept_downloads=True)
    context.set_default_timeout(WAIT_MS)
    page = await context.new_page()
    page.console_messages = []
    page.on("console", lambda msg: page.console_messages.append(f"{msg.type}: {msg.text}"))
    page.on("pageerror", lambda err: page.console_messages.append(f"pageerror: {err}"))
    await page.goto(url)
    return page


async def screenshot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
