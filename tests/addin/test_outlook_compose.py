"""Outlook compose mode — Rédiger une réponse: tone and length reach the model, the draft is
inserted at the cursor on a click and never sent; Orientation in read mode."""
from __future__ import annotations

from .conftest import FeedbackLog, plain, wait_until
from .outlook_fixtures import (POSTPONEMENT_MAIL, ROUTING_PROMPT, chat_requests, mail_model, outlook_calls,
                               system_prompt, user_prompt)

QUOTED = ("\n\n-----Message d'origine-----\n"
          "De : Maître Claire Martin <c.martin@avocats.example.fr>\n"
          "Objet : Demande de renvoi – RG n° 24/01234\n"
          "Je sollicite le renvoi de l'audience du 12 mars 2026, mon client étant hospitalisé.")
REPLY_MAIL = {"mode": "compose", "subject": "RE: Demande de renvoi – RG n° 24/01234", "body": QUOTED,
              "selection": {"start": 0, "end": 0}}
DRAFT = ("Maître,\n\nNous accusons réception de votre demande de renvoi de l'audience du 12 mars 2026 "
         "(RG n° 24/01234). Elle sera soumise au président de la chambre.\n\nLe greffe")


def draft_reply(page):
    page.get_by_role("button", name="Rédiger", exact=True).click()
    wait_until(page, "() => document.getElementById('reply-status').textContent.includes('prêt')"
                     " || !document.getElementById('reply-error').hidden")


def test_a_reply_is_drafted_then_inserted_at_the_cursor_never_sent(plume, fake_llm, outlook, screenshot):
    fake_llm.reply = mail_model(reply=DRAFT)
    page = outlook(plume(), REPLY_MAIL)
    feedback = FeedbackLog(page)
    assert page.locator("#read-mode").is_hidden()
    page.get_by_label("Neutre").check()
    page.get_by_label("Longue").check()
    page.get_by_label("Points à mentionner (facultatif)").fill("Indiquer que la demande sera soumise au président.")
    draft_reply(page)
    assert "Nous accusons réception de votre demande de renvoi" in plain(page.locator("#reply-output").inner_text())
    # Nothing reached the message yet.
    assert page.evaluate("window.__composeBody") == QUOTED
    screenshot(page, "outlook-rediger")

    page.get_by_role("button", name="Insérer à l’emplacement du curseur").click()
    wait_until(page, "() => document.querySelector('[data-inserted]')")
    assert page.evaluate("window.__composeBody") == DRAFT + QUOTED
    [insert] = outlook_calls(page, "body.setSelectedDataAsync")
    assert insert["args"] == {"data": DRAFT, "coercionType": "text"}
    names = [c["name"] for c in outlook_calls(page)]
    assert "sendAsync" not in names and "body.setAsync" not in names and "saveAsync" not in names
    assert "Plume n'envoie jamais de message" in plain(page.locator("[data-inserted]").inner_text())
    feedback.wait(1)
    [(sent, status)] = feedback.sent
    assert sent["outcome"] == "inserted" and status in (200, 201, 204)
    screenshot(page, "outlook-rediger-insere")

    # Tone, length and the clerk's points reached the model; the quoted mail only as data.
    [call] = chat_requests(fake_llm)
    system, user = system_prompt(call), user_prompt(call)
    assert "Ton : neutre et direct" in system and "Longueur : longue" in system
    assert "Consignes du greffier : Indiquer que la demande sera soumise au président." in user
    assert "<<<DONNEES" in user and "Je sollicite le renvoi" in user


def test_a_discarded_draft_leaves_the_message_alone(plume, fake_llm, outlook):
    fake_llm.reply = mail_model(reply=DRAFT)
    page = outlook(plume(), REPLY_MAIL)
    feedback = FeedbackLog(page)
    draft_reply(page)
    page.get_by_role("button", name="Écarter").click()
    assert plain(page.locator("#reply-status").inner_text()) == "Projet écarté : rien n'a été inséré."
    assert plain(page.locator("#reply-output").inner_text()) == ""
    assert page.evaluate("window.__composeBody") == QUOTED
    assert outlook_calls(page, "body.setSelectedDataAsync") == []
    feedback.wait(1)
    assert feedback.sent[0][0]["outcome"] == "discarded"


def test_orientation_suggests_a_service_from_the_list_and_says_why(plume, fake_llm, outlook, screenshot):
    fake_llm.reply = mail_model(routing={
        "categorie": "Demande de renvoi", "service": "Service des audiences",
        "justification": "L'avocate demande le renvoi de l'audience du 12 mars 2026."})
    page = outlook(plume(), POSTPONEMENT_MAIL)
    page.get_by_role("tab", name="Orientation").click()
    page.get_by_role("button", name="Proposer une orientation").click()
    wait_until(page, "() => document.querySelector('.outlook-routing')")
    card = page.locator(".outlook-routing")
    assert plain(card.locator("[data-routing='category'] dd").inner_text()) == "Demande de renvoi"
    assert plain(card.locator("[data-routing='service'] dd").inner_text()) == "Service des audiences"
    assert plain(card.locator("[data-routing='reason'] dd").inner_text()) == \
        "L'avocate demande le renvoi de l'audience du 12 mars 2026."
    assert "Choisi par le modèle parmi les services configurés." in plain(card.inner_text())
    page.get_by_text("Services configurés", exact=True).click()
    wait_until(page, "() => document.querySelectorAll('#routing-services-list li').length > 3")
    assert "JAF" in plain(page.locator("#routing-services-list").inner_text())
    screenshot(page, "outlook-orientation")
    assert any(ROUTING_PROMPT in system_prompt(r) for r in chat_requests(fake_llm))


def test_orientation_without_a_model_uses_keywords(plume, outlook):
    page = outlook(plume(LLM_BASE_URL=None), POSTPONEMENT_MAIL)
    page.get_by_role("tab", name="Orientation").click()
    page.get_by_role("button", name="Proposer une orientation").click()
    wait_until(page, "() => document.querySelector('.outlook-routing')")
    card = page.locator(".outlook-routing")
    assert plain(card.locator("[data-routing='service'] dd").inner_text()) == "Service des audiences"
    assert "Établi à partir des mots-clés configurés" in plain(card.inner_text())
    assert "Aucun modèle n'est configuré" in plain(card.inner_text())


def test_keyboard_only_draft_and_insertion(plume, fake_llm, outlook):
    fake_llm.reply = mail_model(reply=DRAFT)
    page = outlook(plume(), REPLY_MAIL)
    page.locator("#reply-instructions").focus()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "reply-run"
    page.keyboard.press("Enter")
    wait_until(page, "() => document.getElementById('reply-status').textContent.includes('prêt')")
    # The focus stayed on the action while it ran, then goes on through the answer's actions.
    assert page.evaluate("document.activeElement.id") == "reply-run"
    for label in ("Copier", "Régénérer", "Affiner…", "Insérer à l'emplacement du curseur"):
        page.keyboard.press("Tab")
        assert plain(page.evaluate("document.activeElement.textContent")) == label
    page.keyboard.press("Enter")
    wait_until(page, "() => document.activeElement && document.activeElement.dataset.inserted === 'true'")
    assert page.evaluate("window.__composeBody") == DRAFT + QUOTED


def test_read_mode_follows_a_dark_office_theme(plume, fake_llm, outlook, screenshot):
    fake_llm.reply = mail_model()
    dark = {"bodyBackgroundColor": "#292929", "bodyForegroundColor": "#ffffff",
            "controlBackgroundColor": "#1f1f1f", "controlForegroundColor": "#ffffff"}
    page = outlook(plume(), {**POSTPONEMENT_MAIL, "theme": dark})
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"
    page.get_by_role("button", name="Résumer le message").click()
    wait_until(page, "() => document.getElementById('summary-status').textContent.includes('terminé')")
    screenshot(page, "outlook-resumer-theme-sombre")
