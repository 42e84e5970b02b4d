"""Outlook « Dossier » against the real server: « Synthétiser le dossier » sends the message's
text and every attachment Outlook hands over (one it refuses is said once, a protected PDF
and a photo get their French error in the inventory), the estimate, the progress, the
synthesis with its references, then « Joindre à une réponse » opens a reply draft with the
.docx attached — never sent. Screenshots at 320 px; axe-core on each screen."""
from __future__ import annotations

import base64
import io
import json

from docx import Document

from tests.dossier.conftest import reply
from tests.dossier.files import conclusions_pdf

from .conftest import FeedbackLog, open_tab, plain, wait_until
from .outlook_fixtures import POSTPONEMENT_MAIL, attachments_scenario, b64, outlook_calls
from .test_accessibility import serious_violations
from .test_word_dossier import api, serve_dossiers, served  # noqa: F401 (fixtures)


def scenario() -> dict:
    """The postponement mail with real conclusions, a .docx, a protected PDF, a photo and a
    PDF Outlook fails to hand over."""
    attachments = attachments_scenario()
    attachments[1] = {"id": "att-pdf", "name": "conclusions.pdf", "content": b64(conclusions_pdf()),
                      "contentType": "application/pdf"}
    return {**POSTPONEMENT_MAIL, "attachments": attachments}


def chat_prompts(fake_llm) -> list[str]:
    return [m["content"] for r in fake_llm.requests if r.path.endswith("/chat/completions")
            for m in r.json["messages"] if m["role"] == "user"]


def test_a_message_and_its_attachments_become_a_dossier_attached_to_a_reply(served, fake_llm, outlook, screenshot):
    gate = served["gate"]
    page = outlook(served["base"], scenario())
    problems: list = []
    open_tab(page, "dossier")  # at 320 px it is in the « Plus » menu
    listed = page.locator("#dossier-mail-files li").all_inner_texts()
    assert listed == ["Le texte du message", "conclusions.docx", "conclusions.pdf", "protege.pdf", "photo.jpg", "bordereau.pdf"]
    screenshot(page, "outlook-dossier-message")
    problems.extend(serious_violations(page, "dossier : message"))

    page.get_by_role("button", name="Synthétiser le dossier").click()
    page.wait_for_selector("#dossier-start")
    refused = page.locator("[data-refused]")
    assert refused.get_attribute("data-refused") == "1"
    assert "bordereau.pdf : Outlook n'a pas pu fournir le contenu de cette pièce jointe." in plain(refused.inner_text())
    names = page.locator(".dossier-inventory > li").evaluate_all("(items) => items.map((li) => li.dataset.file)")
    assert names == ["courriel.txt", "conclusions.docx", "conclusions.pdf", "protege.pdf", "photo.jpg"]
    dossier_id = api(page, "/dossiers").json()["dossiers"][0]["id"]
    server = api(page, f"/dossiers/{dossier_id}").json()
    assert server["title"] == POSTPONEMENT_MAIL["subject"] and server["held"] is True
    for name in ("protege.pdf", "photo.jpg"):
        error = next(f["error"] for f in server["inventory"] if f["name"] == name)
        shown = page.locator(f".dossier-inventory > li[data-file='{name}'] [data-error-code]")
        assert shown.get_attribute("data-error-code") == error["error"]
        assert plain(shown.inner_text()) == plain(f"⛔ Non lu : {error['message']}")
    assert page.locator("[data-estimate] [data-figure=calls]").inner_text().startswith("environ")
    screenshot(page, "outlook-dossier-inventaire")
    problems.extend(serious_violations(page, "dossier : inventaire"))

    gate.close()
    page.get_by_role("button", name="Lancer la synthèse").click()
    wait_until(page, "() => document.querySelector('[data-row=files] dd')?.textContent === '3 / 3'", timeout_ms=60_000)
    screenshot(page, "outlook-dossier-progression")
    problems.extend(serious_violations(page, "dossier : progression"))
    gate.release()

    page.wait_for_selector("#dossier-result [data-action=reply-attach]", timeout=90_000)
    # The message itself was read: its headers and text reached the model as « courriel.txt ».
    prompt = "\n".join(chat_prompts(fake_llm))
    assert "[courriel.txt, p. 1]" in prompt and "De : Maître Claire Martin" in prompt
    assert "je sollicite le renvoi de l'audience du 12 mars 2026" in prompt
    mail_ref = page.locator(".dossier-section[data-section=faits] .plume-ref[data-file='courriel.txt']")
    assert mail_ref.count() >= 1
    screenshot(page, "outlook-dossier-resultat")
    problems.extend(serious_violations(page, "dossier : synthèse"))

    feedback = FeedbackLog(page)
    page.get_by_role("button", name="Joindre à une réponse").click()
    page.wait_for_selector("[data-outcome=reply]")
    feedback.wait(1)
    assert feedback.sent == [({"interaction_id": dossier_id, "useful": None, "comment": None, "outcome": "inserted"}, 201)]
    [call] = outlook_calls(page, "displayReplyForm")
    [attachment] = call["args"]["form"]["attachments"]
    assert attachment["type"] == "base64"
    assert attachment["name"] == "Synthèse – Demande de renvoi – RG n° 24 01234.docx"
    exported = Document(io.BytesIO(base64.b64decode(attachment["base64file"])))
    assert any(p.text == "Faits" for p in exported.paragraphs)
    assert "générée par IA" in call["args"]["form"]["htmlBody"]
    assert outlook_calls(page, "sendAsync") == []  # a draft only: Plume never sends
    assert "Plume n'envoie jamais de message" in plain(page.locator("[data-outcome=reply]").inner_text())
    screenshot(page, "outlook-dossier-reponse")
    assert problems == [], json.dumps(problems, ensure_ascii=False, indent=1)

    # Back to « Mes dossiers »: the dossier is there, finished.
    page.click("#dossier-back")
    row = page.locator(f"#dossier-list li[data-dossier='{dossier_id}']")
    row.wait_for()
    assert row.get_attribute("data-state") == "done"


def test_a_message_without_attachments_has_no_dossier_tab(served, outlook):
    page = outlook(served["base"], POSTPONEMENT_MAIL)
    assert page.locator("#tab-dossier").get_attribute("data-unavailable") == "true"
    assert page.locator("#panel-dossier").is_hidden()


def test_a_clerk_refines_the_synthesis_and_attaches_that_version(served, fake_llm, outlook, screenshot):

    fake_llm.reply = reply
    page = outlook(served["base"], scenario())
    open_tab(page, "dossier")
    page.get_by_role("button", name="Synthétiser le dossier").click()
    page.click("#dossier-start")
    page.wait_for_selector("#dossier-result [data-action=refine]", timeout=90_000)
    dossier_id = api(page, "/dossiers").json()["dossiers"][0]["id"]
    page.click("#dossier-result [data-action=refine]")
    page.click("#dossier-result [data-refine='plus ferme']")
    # The renderer sets French typography: no-break spaces before « : » and inside « ».
    wait_until(page, "() => (document.querySelector('#dossier-result [data-version]')?.textContent || '')"
                     ".replace(/[\\u00a0\\u202f]/g, ' ') === 'Affinée : « plus ferme »'",
               timeout_ms=60_000)
    revision_id = page.locator("#dossier-result [data-version]").get_attribute("data-version")
    assert api(page, f"/dossiers/{dossier_id}/revisions/{revision_id}").json()["instruction"] == "plus ferme"
    items = page.locator(".dossier-section[data-section=faits] .dossier-item").all_inner_texts()
    assert items and all("[plus ferme]" in plain(text) for text in items)
    screenshot(page, "outlook-dossier-affinee")
    problems = serious_violations(page, "dossier : synthèse affinée")

    # The reply carries the version on screen, and the feedback goes to that version's record.
    feedback = FeedbackLog(page)
    page.get_by_role("button", name="Joindre à une réponse").click()
    page.wait_for_selector("[data-outcome=reply]")
    feedback.wait(1)
    assert feedback.sent[0][0]["interaction_id"] == revision_id
    [call] = outlook_calls(page, "displayReplyForm")
    exported = Document(io.BytesIO(base64.b64decode(call["args"]["form"]["attachments"][0]["base64file"])))
    assert any("[plus ferme]" in p.text for p in exported.paragraphs)
    assert outlook_calls(page, "sendAsync") == []
    assert problems == [], json.dumps(problems, ensure_ascii=False, indent=1)
