"""Outlook read mode — Pièces jointes: a real .docx and a real PDF summarised with page and
paragraph references; a protected file, a photo and a file Outlook cannot hand over each get
their own French message while the others go through."""
from __future__ import annotations

from .conftest import plain, wait_until
from .outlook_fixtures import (ATTACHMENT_PROMPT, POSTPONEMENT_MAIL, attachments_scenario, chat_requests,
                               mail_model, outlook_calls, system_prompt, user_prompt)


def attachment_answer(prompt: str) -> str:
    """What a model says of each file, pointing to the markers it was given."""
    if "ordonnance.pdf" in prompt:
        return "Ordonnance de mise en état, RG n° 24/01234 (p. 1).\n- Clôture fixée au 12 mars 2026 (p. 2)."
    return "Conclusions d'intimé pour M. Jean Dupont (§ 2).\n- Demande la confirmation du jugement (§ 5)."


def row(page, name):
    return page.locator(f"li.outlook-attachment[data-attachment='{name}']")


def test_each_attachment_is_summarised_or_explained(plume, fake_llm, outlook, screenshot):
    fake_llm.reply = mail_model(attachment=attachment_answer)
    page = outlook(plume(), {**POSTPONEMENT_MAIL, "attachments": attachments_scenario()})
    page.get_by_role("tab", name="Pièces jointes").click()
    assert page.locator("li.outlook-attachment").count() == 5
    assert row(page, "photo.jpg").get_by_role("button").count() == 0
    assert "Format non pris en charge" in plain(row(page, "photo.jpg").inner_text())

    page.get_by_role("button", name="Résumer toutes les pièces jointes").click()
    wait_until(page, "() => /résumées?,? /.test(document.getElementById('attachments-status').textContent)")
    status = plain(page.locator("#attachments-status").inner_text())
    # Counts that add up: 5 files, 2 summarised, 3 not (2 errors, the photo).
    assert status == ("2 pièces jointes résumées, 3 non résumées : 2 erreurs (voir le message sur la pièce), "
                      "1 dans un format que Plume ne lit pas.")
    # One AI notice and one 👍/👎 bar for the whole list, not one per file.
    assert page.locator("#panel-attachments .plume-oversight").count() == 1
    assert page.locator("#panel-attachments .plume-feedback").count() == 1
    assert plain(page.locator("#attachments-after .plume-feedback__label").inner_text()) == "Ces résumés vous ont-ils aidé ?"
    assert len(page.get_attribute("#attachments-after .plume-feedback", "data-interaction").split()) == 2
    # An error card is one level deep: the card says it, no bordered box inside it.
    assert "outlook-attachment--error" in row(page, "protege.pdf").get_attribute("class")
    assert page.evaluate("""() => [...document.querySelectorAll("li[data-attachment='protege.pdf'] *")]
        .filter((el) => getComputedStyle(el).borderTopStyle !== 'none').map((el) => el.className)""") == \
        ["plume-button plume-button--small"]  # only the « Résumer » button has a border

    pdf = row(page, "ordonnance.pdf")
    assert "Clôture fixée au 12 mars 2026 (p. 2)" in plain(pdf.inner_text())
    assert pdf.locator(".plume-bar").count() == 0
    docx = row(page, "conclusions.docx")
    assert "Conclusions d'intimé pour M. Jean Dupont (§ 2)" in plain(docx.inner_text())
    assert docx.locator("li").filter(has_text="Demande la confirmation du jugement (§ 5)").count() == 1

    locked = row(page, "protege.pdf").locator(".plume-bar")
    assert locked.get_attribute("data-error-code") == "document_chiffre"
    assert "protégé par un mot de passe" in plain(locked.inner_text())
    assert "Demandez à l'expéditeur une version sans mot de passe" in plain(locked.inner_text())
    broken = row(page, "bordereau.pdf").locator(".plume-bar")
    assert broken.get_attribute("data-error-code") == "piece_jointe_inaccessible"
    assert "Outlook n'a pas pu fournir le contenu de cette pièce jointe." in plain(broken.inner_text())
    screenshot(page, "outlook-pieces-jointes")

    # The real files reached the model as text with their page and paragraph markers.
    prompts = [user_prompt(r) for r in chat_requests(fake_llm) if ATTACHMENT_PROMPT in system_prompt(r)]
    assert len(prompts) == 2
    pdf_prompt = next(p for p in prompts if "ordonnance.pdf" in p)
    assert "[p. 1]" in pdf_prompt and "[p. 2]" in pdf_prompt and "RG n° 24/01234" in pdf_prompt
    docx_prompt = next(p for p in prompts if "conclusions.docx" in p)
    assert "[§ 2] Pour : M. Jean Dupont" in docx_prompt
    # The photo was never read; the files were read with Mailbox 1.8.
    read = {c["args"]["id"] for c in outlook_calls(page, "getAttachmentContentAsync")}
    assert read == {"att-docx", "att-pdf", "att-locked", "att-broken"}


def test_one_attachment_on_its_own(plume, fake_llm, outlook):
    fake_llm.reply = mail_model(attachment=attachment_answer)
    page = outlook(plume(), {**POSTPONEMENT_MAIL, "attachments": attachments_scenario()})
    page.get_by_role("tab", name="Pièces jointes").click()
    page.get_by_role("button", name="Résumer ordonnance.pdf").click()
    wait_until(page, "() => document.getElementById('attachments-status').textContent.includes('résumée')")
    assert plain(page.locator("#attachments-status").inner_text()) == "1 pièce jointe résumée."
    assert plain(row(page, "conclusions.docx").locator(".outlook-attachment__output").inner_text()) == ""


def test_too_large_a_file_says_what_to_do(plume, fake_llm, outlook):
    fake_llm.reply = mail_model(attachment=attachment_answer)
    page = outlook(plume(ATTACHMENT_MAX_PAGES=1), {**POSTPONEMENT_MAIL, "attachments": attachments_scenario()[:2]})
    page.get_by_role("tab", name="Pièces jointes").click()
    page.get_by_role("button", name="Résumer toutes les pièces jointes").click()
    wait_until(page, "() => document.getElementById('attachments-status').textContent.includes('non résumée')")
    alert = row(page, "ordonnance.pdf").locator(".plume-bar")
    assert "Ce PDF compte 2 pages ; la limite est de 1." in plain(alert.inner_text())
    assert plain(page.inner_text("#attachments-status")) == \
        "1 pièce jointe résumée, 1 non résumée : 1 erreur (voir le message sur la pièce)."
    assert "résumez-en les pages utiles" in plain(alert.inner_text())
    assert "Conclusions d'intimé" in plain(row(page, "conclusions.docx").inner_text())


def test_outlook_without_mailbox_1_8_explains(plume, outlook, screenshot):
    page = outlook(plume(), {**POSTPONEMENT_MAIL, "attachments": attachments_scenario(),
                             "requirements": {"Mailbox": "1.7"}})
    page.get_by_role("tab", name="Pièces jointes").click()
    notice = page.locator("[data-requirement='Mailbox 1.8']")
    assert "ne permet pas à Plume de lire les pièces jointes" in plain(notice.inner_text())
    assert page.get_by_role("button", name="Résumer toutes les pièces jointes").is_disabled()
    assert page.get_by_role("button", name="Résumer ordonnance.pdf").is_disabled()
    screenshot(page, "outlook-pieces-jointes-mailbox-1.7")


def test_a_mail_without_attachments(plume, outlook):
    page = outlook(plume(), POSTPONEMENT_MAIL)
    page.get_by_role("tab", name="Pièces jointes").click()
    assert "Ce message n'a pas de pièce jointe." in plain(page.locator("#attachments-list").inner_text())
    assert page.get_by_role("button", name="Résumer toutes les pièces jointes").is_disabled()


def test_one_rating_for_the_list_reaches_every_summary(plume, fake_llm, outlook):
    from .conftest import FeedbackLog

    fake_llm.reply = mail_model(attachment=attachment_answer)
    page = outlook(plume(), {**POSTPONEMENT_MAIL, "attachments": attachments_scenario()[:2]})
    feedback = FeedbackLog(page)
    page.get_by_role("tab", name="Pièces jointes").click()
    page.get_by_role("button", name="Résumer toutes les pièces jointes").click()
    wait_until(page, "() => document.getElementById('attachments-status').textContent === '2 pièces jointes résumées.'")
    page.locator("#attachments-after").get_by_role("button", name="Réponse utile").click()
    feedback.wait(2)
    assert sorted((body["useful"], status) for body, status in feedback.sent) == [(True, 201), (True, 201)]
    assert len({body["interaction_id"] for body, _ in feedback.sent}) == 2
    # Discarding one summary leaves the bar for the other.
    row(page, "conclusions.docx").get_by_role("button", name="Écarter").click()
    assert len(page.get_attribute("#attachments-after .plume-feedback", "data-interaction").split()) == 1
    assert plain(page.locator("#attachments-after .plume-feedback__label").inner_text()) == "Ce résumé vous a-t-il aidé ?"
