"""Outlook read mode — « Traduire en français »: a mail in another language translated through
the metered translate task, the language recognised shown, nothing sent or changed."""
from __future__ import annotations

import json

from .conftest import plain, wait_until
from .outlook_fixtures import outlook_calls

FOREIGN_MAIL = {
    "mode": "read",
    "subject": "Hearing of 12 March 2026 – case 24/01234",
    "from": {"displayName": "Jane Smith", "emailAddress": "j.smith@lawfirm.example.co.uk"},
    "body": "Dear Sir or Madam,\nOur client cannot attend the hearing of 12 March 2026. "
            "We kindly request an adjournment.\nYours faithfully,\nJane Smith",
}
TRANSLATION = ("Madame, Monsieur,\nNotre client ne peut pas assister à l'audience du 12 mars 2026. "
               "Nous sollicitons un renvoi.\nVeuillez agréer, Madame, Monsieur, mes salutations distinguées,\nJane Smith")


def test_a_foreign_mail_is_translated_into_french(plume, fake_llm, outlook, screenshot):
    fake_llm.reply = f"Langue d'origine : anglais\n\n{TRANSLATION}"
    page = outlook(plume(), FOREIGN_MAIL)
    sent = {}
    page.on("request", lambda r: sent.update(json.loads(r.post_data or "{}")) if r.url.endswith("/assist/translate") else None)
    page.get_by_role("button", name="Traduire en français").click()
    wait_until(page, "() => document.getElementById('translate-mail-status').textContent === 'Traduction terminée.'")
    assert sent["language"] == "fr" and "cannot attend the hearing" in sent["text"]
    assert plain(page.inner_text("#translate-mail-detected")) == "Langue reconnue : anglais"
    assert "Notre client ne peut pas assister" in plain(page.inner_text("#translate-mail-output"))
    assert "Langue d'origine" not in plain(page.inner_text("#translate-mail-output"))
    assert page.locator("#translate-mail-after .plume-oversight").count() == 1
    screenshot(page, "outlook-traduction")
    page.locator("#translate-mail-after [data-action=discard]").click()
    assert page.locator("#translate-mail").is_hidden()
    assert {c["name"] for c in outlook_calls(page)} == {"body.getAsync"}  # read only: nothing sent


ENGLISH_QUOTED = ("\n\n-----Original Message-----\nFrom: Jane Smith\nSubject: Hearing of 12 March 2026\n"
                  "Our client cannot attend the hearing of 12 March 2026. We kindly request an adjournment.")
ENGLISH_REPLY = "Dear Ms Smith,\n\nWe acknowledge receipt of your request for an adjournment.\n\nThe court registry"
FRENCH_VERSION = "Madame,\n\nNous accusons réception de votre demande de renvoi.\n\nLe greffe"


def reply_or_translate(request: dict) -> str:
    system = request["messages"][0]["content"]
    if "traduire le texte fourni en français" in system:
        return f"Langue d'origine : anglais\n\n{FRENCH_VERSION}"
    return ENGLISH_REPLY


def test_a_reply_in_the_senders_language_comes_with_its_french_version(plume, fake_llm, outlook, screenshot):
    fake_llm.reply = reply_or_translate
    page = outlook(plume(), {"mode": "compose", "subject": "RE: Hearing of 12 March 2026", "body": ENGLISH_QUOTED,
                             "selection": {"start": 0, "end": 0}})
    page.check("input[name=reply-language][value=auto]")
    page.get_by_role("button", name="Rédiger", exact=True).click()
    wait_until(page, "() => document.getElementById('reply-french-status').textContent.includes('version française')")
    requests = [r.json for r in fake_llm.requests if r.path.endswith("/chat/completions")]
    assert "Langue de la réponse : la langue dans laquelle le courriel reçu est écrit" in requests[0]["messages"][0]["content"]
    assert "Dear Ms Smith" in plain(page.inner_text("#reply-output"))
    assert "Nous accusons réception" in plain(page.inner_text("#reply-french-output"))
    assert "Projet rédigé en anglais" in plain(page.inner_text("#reply-french-status"))
    screenshot(page, "outlook-reponse-langue-expediteur")
    # « Insérer » puts the reply itself, never the French version.
    page.locator("#reply-after [data-action=insert]").click()
    wait_until(page, "() => document.querySelector('#reply-after [data-inserted]')")
    body = page.evaluate("window.__composeBody")
    assert body.startswith("Dear Ms Smith") and "Nous accusons" not in body
