"""Synthétiser: the answer streams into the pane, « § N » selects the paragraph, and « Insérer »
puts the text in with change tracking, in the AI content control, with a comment."""
from __future__ import annotations

from .conftest import FeedbackLog, open_tab, plain, wait_until, word_calls, word_state

PARAGRAPHS = [
    "Attendu que M. Martin a été licencié le 3 mars 2023 pour faute grave.",
    "Que la cour d'appel a retenu que ses absences répétées caractérisaient la faute grave.",
    "",
    "Par ces motifs, rejette le pourvoi.",
]
REPLY = ("Le salarié a été licencié pour faute grave (§ 1). La cour retient les absences "
         "répétées (§ 2). Le pourvoi est rejeté (§ 4).")

STATE_JS = """() => ({
    text: document.querySelector('#summarize-output').textContent,
    busy: document.querySelector('#summarize-output').getAttribute('aria-busy'),
    stopVisible: !document.querySelector('#summarize-stop').hidden,
    insertButtons: document.querySelectorAll('#summarize-after [data-action=insert]').length,
})"""


def test_summary_streams_progressively_then_inserts_tracked(plume, fake_llm, open_pane, screenshot):
    fake_llm.reply = REPLY
    fake_llm.token_delay = 0.12
    page = open_pane(plume(), globals={"__officeMockConfig": {"paragraphs": PARAGRAPHS}})
    feedback = FeedbackLog(page)
    open_tab(page, "summarize")
    page.check("input[name=summarize-scope][value=document]")
    page.click("#summarize-run")

    # Intermediate states while the fake upstream is still streaming.
    wait_until(page, "() => document.querySelector('#summarize-output').textContent.length > 0")
    first = page.evaluate(STATE_JS)
    wait_until(page, "(n) => document.querySelector('#summarize-output').textContent.length > n",
               len(first["text"]) + 10)
    second = page.evaluate(STATE_JS)
    for state in (first, second):
        assert state["busy"] == "true" and state["stopVisible"] and state["insertButtons"] == 0
        assert 0 < len(state["text"]) < len(REPLY)
    assert second["text"].startswith(first["text"].rstrip()) and len(second["text"]) > len(first["text"])
    screenshot(page, "word-summarize-streaming")

    page.wait_for_selector("#summarize-after [data-action=insert]")
    final = page.evaluate(STATE_JS)
    assert plain(final["text"]) == REPLY and final["busy"] is None and not final["stopVisible"]
    assert "suggestion" in plain(page.inner_text("#summarize-after .plume-oversight"))
    # The paragraphs went out numbered by their place in the document (the empty one skipped).
    sent = fake_llm.chat_requests()[-1].json["messages"][-1]["content"]
    assert "[§ 2] Que la cour d'appel" in sent and "[§ 4] Par ces motifs" in sent and "[§ 3]" not in sent
    # Nothing reached the document before the click.
    assert not [c for c in word_calls(page) if c["api"].startswith(("Range.insert", "Document.change"))]

    page.click("#summarize-output button[data-paragraph='2']")
    wait_until(page, "() => window.__officeState.selected !== null")
    select = [c for c in word_calls(page) if c["api"] == "Paragraph.select"]
    assert select[-1]["index"] == 1 and select[-1]["text"] == PARAGRAPHS[1]
    assert plain(page.inner_text("#summarize-status")) == "Paragraphe 2 sélectionné dans le document."

    page.click("#summarize-after [data-action=insert]")
    page.wait_for_selector("#summarize-after [data-outcome=inserted]")
    calls = [c for c in word_calls(page) if c["api"] not in {"Document.getSelection", "ContentControl.getRange"}]
    assert [c["api"] for c in calls[-8:]] == [
        "Document.changeTrackingMode", "Range.insertParagraph", "Range.insertContentControl",
        "ContentControl.tag", "ContentControl.title", "ContentControl.appearance",
        "Range.insertComment", "Document.changeTrackingMode"]
    tracking_on, insert, _, tag, title, _, comment, tracking_back = calls[-8:]
    assert tracking_on["args"] == ["TrackAll"] and tracking_back["args"] == ["Off"]
    assert insert["args"] == [REPLY, "After"] and insert["trackingMode"] == "TrackAll"
    assert tag["args"] == ["plume-ai"] and title["args"] == ["Texte généré par IA – à vérifier"]
    assert "Synthèse du document" in comment["args"][0] and comment["trackingMode"] == "TrackAll"
    state = word_state(page)
    assert state["trackingMode"] == "Off"
    assert state["contentControls"][0]["tag"] == "plume-ai"
    assert "suivi des modifications" in plain(page.inner_text("#summarize-after [data-outcome=inserted]"))
    feedback.wait(1)
    assert [(body["outcome"], status) for body, status in feedback.sent] == [("inserted", 201)]
    screenshot(page, "word-summarize")


def test_selection_summary_keeps_the_users_tracking_mode(plume, fake_llm, open_pane):
    fake_llm.reply = "Résumé court (§ 1)."
    page = open_pane(plume(), globals={"__officeMockConfig": {
        "paragraphs": PARAGRAPHS, "selection": [0, 1], "trackingMode": "TrackMineOnly"}})
    open_tab(page, "summarize")
    page.click("#summarize-run")
    page.click("#summarize-after [data-action=insert]")
    page.wait_for_selector("#summarize-after [data-outcome=inserted]")
    modes = [c["args"][0] for c in word_calls(page) if c["api"] == "Document.changeTrackingMode"]
    assert modes == ["TrackAll", "TrackMineOnly"]
    assert word_state(page)["trackingMode"] == "TrackMineOnly"
    sent = fake_llm.chat_requests()[-1].json["messages"][-1]["content"]
    assert "[§ 1] Attendu que" in sent and "Par ces motifs" not in sent


def test_discard_inserts_nothing_and_tells_the_server(plume, fake_llm, open_pane):
    page = open_pane(plume(), globals={"__officeMockConfig": {"paragraphs": PARAGRAPHS, "selection": [0, 0]}})
    feedback = FeedbackLog(page)
    open_tab(page, "summarize")
    page.click("#summarize-run")
    page.click("#summarize-after [data-action=discard]")
    assert "rien n'a été inséré" in plain(page.inner_text("#summarize-status"))
    feedback.wait(1)
    assert [(body["outcome"], status) for body, status in feedback.sent] == [("discarded", 201)]
    assert not [c for c in word_calls(page) if c["api"].startswith(("Range.insert", "Document.change"))]


def test_thumbs_send_feedback(plume, fake_llm, open_pane):
    page = open_pane(plume(), globals={"__officeMockConfig": {"paragraphs": PARAGRAPHS, "selection": [0, 0]}})
    feedback = FeedbackLog(page)
    open_tab(page, "summarize")
    page.click("#summarize-run")
    page.click("#summarize-after [aria-label='Réponse utile']")
    page.wait_for_selector(".plume-feedback__thanks:not(:empty)")
    assert plain(page.inner_text(".plume-feedback__thanks")) == "Merci pour votre avis."
    feedback.wait(1)
    assert [(body["useful"], body["outcome"], status) for body, status in feedback.sent] == [(True, None, 201)]


def test_empty_selection_asks_for_one(plume, open_pane):
    page = open_pane(plume(), globals={"__officeMockConfig": {"paragraphs": PARAGRAPHS}})
    open_tab(page, "summarize")
    page.click("#summarize-run")
    page.wait_for_selector("#summarize-error:not(:empty)")  # after the pane has read the selection
    assert "Sélectionnez le passage à synthétiser" in plain(page.inner_text("#summarize-error"))


def test_long_document_shows_the_map_reduce_progress(plume, fake_llm, open_pane):
    paragraphs = [f"Paragraphe {n} : le demandeur soutient que le contrat de travail a été rompu "
                  f"abusivement, que l'employeur n'a pas respecté la procédure et que les indemnités "
                  f"dues au titre du préavis et des congés payés restent impayées à ce jour." for n in range(1, 61)]
    fake_llm.reply = "Le demandeur conteste la rupture (§ 57)."
    page = open_pane(plume(LLM_CONTEXT_TOKENS=1024, LLM_MAX_OUTPUT_TOKENS=200),
                     globals={"__officeMockConfig": {"paragraphs": paragraphs}})
    page.evaluate("""() => {
        window.__statuses = [];
        const status = document.querySelector('#summarize-status');
        new MutationObserver(() => window.__statuses.push(status.textContent))
            .observe(status, { childList: true, characterData: true, subtree: true });
        window.__progress = [];
        const bar = document.querySelector('#panel-summarize progress');
        new MutationObserver(() => window.__progress.push([bar.getAttribute('value'), bar.getAttribute('max'), bar.hidden]))
            .observe(bar, { attributes: true });
    }""")
    open_tab(page, "summarize")
    page.check("input[name=summarize-scope][value=document]")
    page.click("#summarize-run")
    page.wait_for_selector("#summarize-after [data-action=insert]")
    statuses = [plain(s) for s in page.evaluate("window.__statuses")]
    assert any(s.startswith("Document long : lecture en ") for s in statuses), statuses
    # A real progress bar: parts done out of the total, up to all of them, hidden once the answer streams.
    progress = page.evaluate("window.__progress")
    values = [(int(v), int(m)) for v, m, _ in progress if v is not None and m != "1"]
    total = values[0][1]  # the parts of the first reading (a regrouping may follow)
    assert total > 1 and (0, total) in values and (total, total) in values, values
    assert page.locator("#panel-summarize progress").is_hidden()
    assert len(fake_llm.chat_requests()) > 2  # several parts, then the final summary
    page.click("#summarize-output button[data-paragraph='57']")
    select = wait_until(page, "() => window.__officeCalls.filter((c) => c.api === 'Paragraph.select')")
    assert select[-1]["index"] == 56


def test_keyboard_only_summary_and_insertion(plume, fake_llm, open_pane):
    fake_llm.reply = "Résumé (§ 1)."
    page = open_pane(plume(), globals={"__officeMockConfig": {"paragraphs": PARAGRAPHS, "selection": [0, 0]}})
    page.locator("#tab-search").focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Tab")  # « Plus »
    page.keyboard.press("Tab")  # the scope radio group
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "summarize-run"
    page.keyboard.press("Enter")
    page.wait_for_selector("#summarize-after [data-action=insert]")
    assert page.evaluate("document.activeElement.id") == "summarize-run"  # focus kept while it ran
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.dataset.paragraph") == "1"
    for action in ("copy", "regenerate", "refine", "insert"):  # the answer's action bar, in order
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.dataset.action") == action
    page.keyboard.press("Enter")
    page.wait_for_selector("#summarize-after [data-outcome=inserted]")
    assert page.evaluate("document.activeElement.dataset.outcome") == "inserted"
    assert word_state(page)["contentControls"][0]["tag"] == "plume-ai"


def test_demo_model_is_announced(plume, fake_llm, open_pane):
    page = open_pane(plume(LLM_DEMO=True), globals={"__officeMockConfig": {"paragraphs": PARAGRAPHS, "selection": [0, 0]}})
    assert plain(page.inner_text("[data-banner=models]")).startswith("Modèle de démonstration")
    open_tab(page, "summarize")
    page.click("#summarize-run")
    page.wait_for_selector("#summarize-after [data-notice=demo]")
    assert "modèle de démonstration" in plain(page.inner_text("#summarize-after [data-notice=demo]"))
    # One AI notice for the answer: the demonstration warning is its first sentence, not a second box.
    notes = page.locator("#summarize-after [role=note]")
    assert notes.count() == 1 and plain(notes.inner_text()).startswith("Réponse du modèle de démonstration")
    assert "Relisez-le et vérifiez" in plain(notes.inner_text())
