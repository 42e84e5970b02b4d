"""The one action bar under every answer, in both panes: Copier, Régénérer, Affiner (« plus
court », « plus ferme » or the user's words, rerun with the previous answer as context),
Insérer, Écarter — and « Arrêter » only while something runs."""
from __future__ import annotations

from .conftest import wait_until, word_state, open_tab
from .outlook_fixtures import (ATTACHMENT_PROMPT, POSTPONEMENT_MAIL, SUMMARY_PROMPT, attachments_scenario, chat_requests,
                               mail_model, user_prompt)
from .test_outlook_compose import DRAFT, REPLY_MAIL, draft_reply

PARAGRAPHS = ["Attendu que l'appelant ne justifie d'aucun grief.", "Que l'exception de nullité sera rejetée.",
              "Par ces motifs."]
LONG = ("L'appelant ne prouve pas qu'il a subi un préjudice du fait de l'irrégularité qu'il invoque. "
        "Pour cette raison, la demande d'annulation de l'acte est rejetée par la cour.")
SHORT = "Sans préjudice prouvé, la demande d'annulation est rejetée."
PREVIOUS = "Réponse précédente de Plume"


def rewrite_model(request):
    prompt = user_prompt(request)
    return SHORT if "plus court" in prompt else LONG


def fenced(prompt: str, text: str) -> bool:
    """``text`` sits inside the data fence of ``prompt`` (after « <<<NAME », before « NAME>>> »)."""
    start = prompt.index("<<<")
    name = prompt[start + 3:prompt.index("\n", start)].split(" · ")[0]
    return text in prompt[start:prompt.index(f"{name}>>>")]


def test_word_copy_refine_shorter_then_regenerate_and_insert(plume, fake_llm, open_pane, screenshot):
    fake_llm.reply = rewrite_model
    page = open_pane(plume(), globals={"__officeMockConfig": {"paragraphs": PARAGRAPHS, "selection": [0, 1]}})
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    open_tab(page, "rewrite")
    assert page.locator("#rewrite-stop").is_hidden()  # « Arrêter » only while something runs
    page.click("#rewrite-run")
    page.wait_for_selector("#rewrite-after [data-action=insert]")
    assert page.locator("#rewrite-stop").is_hidden()
    bar = page.locator("#rewrite-after .plume-answerbar")
    assert [b.inner_text() for b in bar.locator("button:visible").all()] == [
        "Copier", "Régénérer", "Affiner…", "Remplacer la sélection", "Écarter"]
    assert page.locator("#rewrite-after .plume-oversight").count() == 1

    bar.get_by_role("button", name="Copier").click()
    page.wait_for_selector("#rewrite-status:has-text('copiée')")
    assert page.evaluate("navigator.clipboard.readText()") == LONG

    bar.get_by_role("button", name="Affiner…").click()
    assert bar.get_by_role("button", name="Affiner…").get_attribute("aria-expanded") == "true"
    screenshot(page, "word-answer-refine")
    page.get_by_role("button", name="Plus court").click()
    wait_until(page, "(t) => document.querySelector('#rewrite-output').textContent.startsWith(t)", "Sans préjudice")
    page.wait_for_selector("#rewrite-after [data-action=insert]")
    first, refined = chat_requests(fake_llm)
    prompt = user_prompt(refined)
    # The previous answer went as fenced data; the request as the user's instructions.
    assert fenced(prompt, PREVIOUS) and fenced(prompt, "du fait de l'irrégularité") and fenced(prompt, PARAGRAPHS[0])
    assert "plus court" in prompt[:prompt.index("<<<")]
    assert PREVIOUS not in user_prompt(first)

    page.click("#rewrite-after [data-action=regenerate]")
    wait_until(page, "() => document.querySelector('#rewrite-output').textContent.includes('du fait de')")
    page.wait_for_selector("#rewrite-after [data-action=insert]")
    again = chat_requests(fake_llm)[-1]
    assert PREVIOUS not in user_prompt(again) and fenced(user_prompt(again), PARAGRAPHS[0])

    page.click("#rewrite-after [data-action=insert]")
    page.wait_for_selector("#rewrite-after [data-outcome=inserted]")
    assert word_state(page)["paragraphs"][0] == LONG


def test_word_free_refinement_needs_words(plume, fake_llm, open_pane):
    fake_llm.reply = rewrite_model
    page = open_pane(plume(), globals={"__officeMockConfig": {"paragraphs": PARAGRAPHS, "selection": [0, 0]}})
    open_tab(page, "rewrite")
    page.click("#rewrite-run")
    page.wait_for_selector("#rewrite-after [data-action=insert]")
    page.click("#rewrite-after [data-action=refine]")
    page.click("#rewrite-after [data-action=refine-run]")
    assert "Écrivez comment affiner" in page.inner_text("#rewrite-status")
    assert len(chat_requests(fake_llm)) == 1
    page.get_by_label("Ou dites comment la changer").fill("citer l'article 114 du code de procédure civile")
    page.keyboard.press("Enter")
    wait_until(page, "(n) => document.querySelector('#rewrite-after [data-action=insert]') && n", 1)
    wait_until(page, "() => document.querySelector('#rewrite-status').textContent.includes('prête')")
    assert "citer l'article 114" in user_prompt(chat_requests(fake_llm)[-1])


def test_outlook_reply_refined_keeps_tone_and_length_then_inserts(plume, fake_llm, outlook, screenshot):
    firmer = DRAFT.replace("Elle sera soumise", "Elle sera, en tout état de cause, soumise")

    def model(request):
        return firmer if "plus ferme" in user_prompt(request) else mail_model(reply=DRAFT)(request)

    fake_llm.reply = model
    page = outlook(plume(), REPLY_MAIL)
    page.get_by_label("Neutre").check()
    page.get_by_label("Courte").check()
    draft_reply(page)
    page.click("#reply-after [data-action=refine]")
    page.click("#reply-after [data-refine='plus ferme']")
    wait_until(page, "() => document.querySelector('#reply-output').textContent.includes('en tout état de cause')")
    page.wait_for_selector("#reply-after [data-action=insert]")
    first, refined = [r for r in chat_requests(fake_llm)]
    for request in (first, refined):  # same tone and length
        assert "Ton : neutre et direct" in request["messages"][0]["content"]
        assert "Longueur : courte" in request["messages"][0]["content"]
    assert fenced(user_prompt(refined), PREVIOUS)
    screenshot(page, "outlook-answer-refined")
    page.click("#reply-after [data-action=insert]")
    wait_until(page, "() => document.querySelector('[data-inserted]')")
    assert page.evaluate("window.__composeBody").startswith(firmer)


def test_outlook_summary_regenerate_then_discard(plume, fake_llm, outlook):
    fake_llm.reply = mail_model()
    page = outlook(plume(), POSTPONEMENT_MAIL)
    page.get_by_role("button", name="Résumer le message").click()
    page.wait_for_selector("#summary-after [data-action=regenerate]")
    assert page.locator("#summary-after [data-action=insert]").count() == 0  # nothing to insert in a read mail
    summaries = lambda: [r for r in chat_requests(fake_llm) if SUMMARY_PROMPT in r["messages"][0]["content"]]  # noqa: E731
    assert len(summaries()) == 1
    page.click("#summary-after [data-action=regenerate]")
    wait_until(page, "() => document.querySelector('#summary-status').textContent === 'Résumé terminé.'"
                     " && document.querySelector('#summary-after [data-action=discard]')")
    assert len(summaries()) == 2
    page.click("#summary-after [data-action=discard]")
    assert page.inner_text("#summary-status") == "Résumé écarté."
    assert page.locator("#summary-output").inner_text() == ""


def test_outlook_attachment_summary_has_the_bar_and_refines_on_the_file(plume, fake_llm, outlook):
    fake_llm.reply = mail_model(attachment=lambda prompt: "Court." if "plus court" in prompt else "Long résumé (p. 1).")
    page = outlook(plume(), {**POSTPONEMENT_MAIL, "attachments": attachments_scenario()[1:2]})
    page.get_by_role("tab", name="Pièces jointes").click()
    page.get_by_role("button", name="Résumer ordonnance.pdf").click()
    row = page.locator("li.outlook-attachment[data-attachment='ordonnance.pdf']")
    row.locator("[data-action=refine]").wait_for()
    assert [b.inner_text() for b in row.locator(".plume-answerbar button:visible").all()] == [
        "Copier", "Régénérer", "Affiner…", "Écarter"]
    row.locator("[data-action=refine]").click()
    row.locator("[data-refine='plus court']").click()
    wait_until(page, "() => document.querySelector(\"li[data-attachment='ordonnance.pdf'] .outlook-attachment__output\")"
                     ".textContent === 'Court.'")
    asked = [r for r in chat_requests(fake_llm) if ATTACHMENT_PROMPT in r["messages"][0]["content"]]
    assert len(asked) == 2 and "plus court" in user_prompt(asked[-1])
    row.locator("[data-action=discard]").wait_for()
    row.locator("[data-action=discard]").click()
    assert row.locator(".outlook-attachment__output").inner_text() == ""
