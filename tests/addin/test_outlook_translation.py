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
    assert page.inner_text("#translate-mail-detected") == "Langue reconnue : anglais"
    assert "Notre client ne peut pas assister" in plain(page.inner_text("#translate-mail-output"))
    assert "Langue d'origine" not in page.inner_text("#translate-mail-output")
    assert page.locator("#translate-mail-after .plume-oversight").count() == 1
    screenshot(page, "outlook-traduction")
    page.locator("#translate-mail-after [data-action=discard]").click()
    assert page.locator("#translate-mail").is_hidden()
    assert {c["name"] for c in outlook_calls(page)} == {"body.getAsync"}  # read only: nothing sent
