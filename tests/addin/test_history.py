"""« Historique »: the recent answers for this document or this message stay on the device, so
coming back to a file or a mail shows them again without asking the model (nor the server)."""
from __future__ import annotations

from .conftest import open_tab, plain, wait_until, word_state
from .outlook_fixtures import POSTPONEMENT_MAIL, SUMMARY_PROMPT, chat_requests, mail_model

JUDGMENT = {"paragraphs": ["Attendu que M. Martin a été licencié pour faute grave.", "Par ces motifs, rejette."],
            "url": "https://justice.sharepoint.example/sites/tj/RG-24-01234/jugement.docx"}
OTHER = {**JUDGMENT, "url": "https://justice.sharepoint.example/sites/tj/RG-24-05678/jugement.docx"}
FIRST = "Le salarié a été licencié pour faute grave (§ 1)."
SECOND = "Le pourvoi est rejeté (§ 2)."


def summarize_document(page):
    open_tab(page, "summarize")
    page.check("input[name=summarize-scope][value=document]")
    page.click("#summarize-run")
    page.wait_for_selector("#summarize-after [data-action=insert]")


def test_word_history_per_document_on_the_device(plume, fake_llm, open_pane, screenshot):
    base = plume()
    fake_llm.reply = FIRST
    page = open_pane(base, globals={"__officeMockConfig": JUDGMENT})
    server_calls = []
    page.on("request", lambda r: server_calls.append(r.url) if "/api/v1/" in r.url else None)
    summarize_document(page)
    fake_llm.reply = SECOND
    page.click("#summarize-run")
    wait_until(page, "() => document.querySelector('#summarize-output').textContent.startsWith('Le pourvoi')")
    page.wait_for_selector("#summarize-after [data-action=insert]")
    assert plain(page.inner_text("#panel-summarize .plume-history summary")) == "Historique (2)"

    # The same document opened again (a new pane, same device): both answers are there.
    page.goto(page.url)
    page.wait_for_selector("body[data-ready='true']")
    open_tab(page, "summarize")
    history = page.locator("#panel-summarize .plume-history")
    assert history.is_visible()
    history.locator("summary").click()
    items = history.locator(".plume-history__item")
    assert items.count() == 2 and "Le pourvoi est rejeté" in plain(items.nth(0).inner_text())
    screenshot(page, "word-history")
    asked = len(fake_llm.chat_requests())
    calls_before = len(server_calls)
    items.nth(1).click()
    assert plain(page.text_content("#summarize-output")).startswith("Le salarié a été licencié")
    assert "reprise de l'historique" in plain(page.inner_text("#summarize-status"))
    assert len(fake_llm.chat_requests()) == asked
    assert not [u for u in server_calls[calls_before:] if "/assist/" in u]
    # Kept on the device: in this browser's local storage, never sent to the server.
    stored = page.evaluate("Object.keys(localStorage).filter((k) => k.startsWith('plume.history'))")
    assert stored == [f"plume.history.v1:word:{JUDGMENT['url']}"]
    page.click("#summarize-after [data-action=insert]")
    page.wait_for_selector("#summarize-after [data-outcome=inserted]")
    assert FIRST in word_state(page)["paragraphs"]
    assert "Synthèse du document" in word_state(page)["comments"][0]["text"]

    # Another document has its own history (none yet).
    other = open_pane(base, globals={"__officeMockConfig": OTHER})
    open_tab(other, "summarize")
    assert other.locator("#panel-summarize .plume-history").is_hidden()


def test_outlook_back_on_a_mail_shows_its_summary_at_once(plume, fake_llm, outlook, screenshot):
    fake_llm.reply = mail_model()
    page = outlook(plume(), {**POSTPONEMENT_MAIL, "itemId": "AAMk-renvoi"})
    page.get_by_role("button", name="Résumer le message").click()
    wait_until(page, "() => document.getElementById('summary-status').textContent === 'Résumé terminé.'")
    summaries = len([r for r in chat_requests(fake_llm) if SUMMARY_PROMPT in r["messages"][0]["content"]])
    page.goto(page.url)  # the clerk went to another mail and came back: the pane starts again
    page.wait_for_selector("body[data-ready='true']")
    assert "repris de l'historique" in plain(page.inner_text("#summary-status"))
    assert plain(page.inner_text("#summary-output")).startswith("Maître Claire Martin")
    assert page.locator("#summary-fields [data-found]").count() > 0
    assert page.locator("#summary-after [data-action=copy]").count() == 1
    assert len([r for r in chat_requests(fake_llm) if SUMMARY_PROMPT in r["messages"][0]["content"]]) == summaries
    screenshot(page, "outlook-history")
