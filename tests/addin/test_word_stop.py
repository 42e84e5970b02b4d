"""The Stop button closes the stream: the pane keeps the text so far, and the connection is
closed all the way to the LLM host."""
from __future__ import annotations

import time

from .conftest import wait_until, word_calls, open_tab

LONG_REPLY = " ".join(f"mot{n}" for n in range(60))


def test_stop_closes_the_stream_up_to_the_upstream(plume, fake_llm, open_pane, screenshot):
    fake_llm.reply = LONG_REPLY
    fake_llm.token_delay = 0.2
    page = open_pane(plume(), globals={"__officeMockConfig": {"paragraphs": ["Texte."], "selection": [0, 0]}})
    open_tab(page, "summarize")
    page.click("#summarize-run")
    wait_until(page, "() => document.querySelector('#summarize-output').textContent.split(' ').length > 3")
    page.click("#summarize-stop")
    page.wait_for_selector("#summarize-status:has-text('Génération arrêtée')")

    upstream = fake_llm.chat_requests()[-1]
    deadline = time.monotonic() + 10
    while not upstream.disconnected and time.monotonic() < deadline:
        time.sleep(0.05)
    assert upstream.disconnected, "the fake LLM host still streams after Stop"
    assert upstream.tokens_sent < len(LONG_REPLY.split())

    kept = page.inner_text("#summarize-output")
    assert kept.startswith("mot0 mot1 mot2") and "mot59" not in kept
    assert page.locator("#summarize-stop").is_hidden()
    assert page.locator("#summarize-after [data-action=insert]").count() == 0
    assert "Texte incomplet" in page.inner_text("#summarize-after [data-incomplete]")
    assert page.locator("#summarize-after [data-action=discard]").inner_text() == "Écarter"  # one label everywhere
    assert "suggestion" in page.inner_text("#summarize-after")
    assert not [c for c in word_calls(page) if c["api"].startswith("Range.insert")]
    screenshot(page, "word-stopped")
