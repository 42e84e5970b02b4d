"""What users say about an answer reaches the observatory: 👍/👎 at once, then a comment
written in the pane, in Word and in Outlook, listed under « Derniers commentaires »."""
from __future__ import annotations

import requests

from .conftest import FeedbackLog, open_tab, plain, wait_until
from .outlook_fixtures import POSTPONEMENT_MAIL, mail_model

PARAGRAPHS = ["Attendu que M. Martin a été licencié le 3 mars 2023 pour faute grave."]
COMMENT = "La synthèse oublie la date du licenciement."


def recent_comments(base_url: str) -> list[dict]:
    """« Derniers commentaires » as the observatory page reads them (the dev user is an admin)."""
    answer = requests.get(f"{base_url}/api/v1/observatory/feedback", timeout=10)
    answer.raise_for_status()
    return answer.json()["recent_comments"]


def test_a_thumb_down_then_a_comment_reach_the_observatory_from_word(plume, fake_llm, open_pane, screenshot):
    fake_llm.reply = "Le salarié a été licencié pour faute grave (§ 1)."
    base = plume()
    page = open_pane(base, globals={"__officeMockConfig": {"paragraphs": PARAGRAPHS, "selection": [0, 0]}})
    feedback = FeedbackLog(page)
    open_tab(page, "summarize")
    page.click("#summarize-run")
    bar = page.locator("#summarize-after .plume-feedback")
    bar.get_by_role("button", name="Réponse peu utile").click()
    feedback.wait(1)
    # The rating is sent at once, before any comment.
    assert [(body["useful"], body["comment"], status) for body, status in feedback.sent] == [(False, None, 201)]

    box = bar.get_by_label("Un commentaire ? (facultatif, sans donnée personnelle)")
    assert box.is_visible()
    bar.get_by_role("button", name="Envoyer le commentaire").click()
    assert plain(bar.locator(".plume-feedback__comment-status").inner_text()) == "Écrivez votre commentaire avant de l'envoyer."
    box.fill(COMMENT)
    screenshot(page, "word-feedback-comment")
    bar.get_by_role("button", name="Envoyer le commentaire").click()
    feedback.wait(2)
    assert feedback.sent[1] == ({"interaction_id": feedback.sent[0][0]["interaction_id"], "useful": None,
                                 "comment": COMMENT, "outcome": None}, 201)
    wait_until(page, "() => document.querySelector('.plume-feedback__comment-status').textContent.includes('envoyé')")
    assert box.get_attribute("readonly") is not None

    [listed] = recent_comments(base)
    assert listed["comment"] == COMMENT and listed["task"] == "summarize"


def test_a_comment_on_a_mail_summary_reaches_the_observatory(plume, fake_llm, outlook):
    fake_llm.reply = mail_model()
    base = plume()
    page = outlook(base, POSTPONEMENT_MAIL)
    feedback = FeedbackLog(page)
    page.get_by_role("button", name="Résumer le message").click()
    bar = page.locator("#summary-after .plume-feedback")
    bar.get_by_role("button", name="Réponse utile").click()
    bar.get_by_label("Un commentaire ? (facultatif, sans donnée personnelle)").fill("Très utile pour le renvoi.")
    bar.get_by_role("button", name="Envoyer le commentaire").click()
    feedback.wait(2)
    assert [(body["useful"], body["comment"], status) for body, status in feedback.sent] == [
        (True, None, 201), (None, "Très utile pour le renvoi.", 201)]
    [listed] = recent_comments(base)
    assert listed["comment"] == "Très utile pour le renvoi." and listed["task"] == "mail-summary"
