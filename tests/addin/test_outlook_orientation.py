"""Outlook Orientation gives actions, not a dead end: « Appliquer la catégorie » (the user's
Outlook categories), « Transférer au service » (a new message to the service's configured
address with the mail attached, never sent) and the second-best suggestion."""
from __future__ import annotations

from .conftest import plain, wait_until
from .outlook_fixtures import POSTPONEMENT_MAIL, mail_model, outlook_calls

SERVICES = [
    {"service": "Service des audiences", "description": "Audiences et renvois", "keywords": ["audience", "renvoi"],
     "address": "audiences.tj-lyon@justice.fr"},
    {"service": "Greffe civil", "description": "Procédures civiles", "keywords": ["rg", "conclusions"],
     "address": "greffe-civil.tj-lyon@justice.fr"},
    {"service": "JAF", "description": "Famille", "keywords": ["pension alimentaire"]},
]
CATEGORIES = ["Demande de renvoi", "Conclusions ou pièces", "Autre"]
ROUTING = {"categorie": "Demande de renvoi", "service": "Service des audiences",
           "justification": "L'avocate demande le renvoi de l'audience du 12 mars 2026."}


def orient(page):
    page.get_by_role("tab", name="Orientation").click()
    page.get_by_role("button", name="Proposer une orientation").click()
    wait_until(page, "() => document.querySelector('.outlook-routing')")
    return page.locator(".outlook-routing")


def test_apply_the_category_and_draft_a_forward_to_the_service(plume, fake_llm, outlook, screenshot):
    fake_llm.reply = mail_model(routing=ROUTING)
    page = outlook(plume(ROUTING_SERVICES=SERVICES, ROUTING_CATEGORIES=CATEGORIES),
                   {**POSTPONEMENT_MAIL, "masterCategories": ["Demande de renvoi"]})
    card = orient(page)
    # The second-best service is shown, with its own forward.
    alternative = card.locator("[data-routing='alternative']")
    assert "Autre possibilité : Greffe civil" in plain(alternative.inner_text())
    screenshot(page, "outlook-orientation-actions")

    card.get_by_role("button", name="Appliquer la catégorie").click()
    wait_until(page, "() => document.getElementById('routing-status').textContent.includes('appliquée')")
    assert page.evaluate("window.__itemCategories") == ["Demande de renvoi"]
    assert plain(page.inner_text("#routing-status")) == "Catégorie « Demande de renvoi » appliquée au message."

    card.get_by_role("button", name="Transférer au service : Service des audiences").click()
    [form] = outlook_calls(page, "displayNewMessageForm")
    assert form["args"]["toRecipients"] == [{"displayName": "Service des audiences",
                                            "emailAddress": "audiences.tj-lyon@justice.fr"}]
    assert form["args"]["subject"] == f"TR : {POSTPONEMENT_MAIL['subject']}"
    assert form["args"]["attachments"][0]["type"] == "item"
    assert "envoyez-le vous-même" in plain(page.inner_text("#routing-status"))

    alternative.get_by_role("button", name="Transférer plutôt à ce service : Greffe civil").click()
    assert outlook_calls(page, "displayNewMessageForm")[-1]["args"]["toRecipients"][0]["emailAddress"] == \
        "greffe-civil.tj-lyon@justice.fr"
    # Nothing is ever sent by the pane.
    assert not outlook_calls(page, "sendAsync")


def test_a_category_missing_from_outlook_says_where_to_create_it(plume, fake_llm, outlook):
    fake_llm.reply = mail_model(routing=ROUTING)
    page = outlook(plume(ROUTING_SERVICES=SERVICES, ROUTING_CATEGORIES=CATEGORIES), POSTPONEMENT_MAIL)
    card = orient(page)
    card.get_by_role("button", name="Appliquer la catégorie").click()
    page.wait_for_selector("#routing-error [data-error-code='categorie_refusee']")
    text = plain(page.inner_text("#routing-error"))
    assert "« Demande de renvoi »" in text and "Toutes les catégories" in text
    assert page.evaluate("window.__itemCategories") is None
    # ReadWriteItem (the default manifest): Outlook refused to show the list, nothing was added.
    assert outlook_calls(page, "masterCategories.getAsync")
    assert not outlook_calls(page, "masterCategories.addAsync")


def test_with_the_mailbox_permission_a_missing_category_is_added_then_applied(plume, fake_llm, outlook, screenshot):
    fake_llm.reply = mail_model(routing=ROUTING)
    page = outlook(plume(ROUTING_SERVICES=SERVICES, ROUTING_CATEGORIES=CATEGORIES),
                   {**POSTPONEMENT_MAIL, "masterCategories": ["Urgent"], "permission": "ReadWriteMailbox"})
    card = orient(page)
    card.get_by_role("button", name="Appliquer la catégorie").click()
    wait_until(page, "() => document.getElementById('routing-status').textContent.includes('appliquée')")
    assert plain(page.inner_text("#routing-status")) == \
        "Catégorie « Demande de renvoi » ajoutée à vos catégories Outlook et appliquée au message."
    [added] = outlook_calls(page, "masterCategories.addAsync")
    assert [c["displayName"] for c in added["args"]["categories"]] == ["Demande de renvoi"]
    assert page.evaluate("window.__outlookScenario.masterCategories") == ["Urgent", "Demande de renvoi"]
    assert page.evaluate("window.__itemCategories") == ["Demande de renvoi"]
    assert page.locator("#routing-error").is_hidden()
    screenshot(page, "outlook-orientation-categorie-creee")
    # Applied again: the category is known now, nothing more is added to the user's list.
    card.get_by_role("button", name="Appliquer la catégorie").click()
    wait_until(page, "() => window.__outlookCalls.filter((c) => c.name === 'categories.addAsync').length === 2")
    wait_until(page, "() => !document.getElementById('routing-status').textContent.includes('ajoutée')")
    assert plain(page.inner_text("#routing-status")) == "Catégorie « Demande de renvoi » appliquée au message."
    assert len(outlook_calls(page, "masterCategories.addAsync")) == 1


def test_a_service_without_an_address_and_an_old_outlook_degrade_in_french(plume, fake_llm, outlook):
    fake_llm.reply = mail_model(routing={**ROUTING, "service": "JAF"})
    page = outlook(plume(ROUTING_SERVICES=SERVICES, ROUTING_CATEGORIES=CATEGORIES),
                   {**POSTPONEMENT_MAIL, "requirements": {"Mailbox": "1.5"}})
    card = orient(page)
    assert plain(card.locator("[data-no-address='JAF']").inner_text()) == \
        "Aucune adresse n'est configurée pour « JAF » : transférez le message vous-même."
    # Mailbox 1.5: no categories API, so no button that would fail.
    assert card.get_by_role("button", name="Appliquer la catégorie").count() == 0
