"""Reformuler: the plain-language version shown as a word-level diff of the selection (jsdiff,
vendored); « Remplacer la sélection » replaces it, tracked, inside the AI content control."""
from __future__ import annotations

from .conftest import open_tab, plain, word_calls, word_state

# The diff's two readings: the selection (unchanged + struck-through words) and the
# proposal (unchanged + underlined words), without the labels read to screen readers.
DIFF_SIDES = """() => {
    const text = (node) => [...node.childNodes].filter((c) => !(c.classList && c.classList.contains('plume-visually-hidden')))
        .map((c) => c.textContent).join('');
    const sides = {before: '', after: '', removed: [], added: []};
    for (const node of document.getElementById('rewrite-diff').childNodes) {
        const kind = node.nodeName === 'DEL' ? 'removed' : node.nodeName === 'INS' ? 'added' : 'same';
        const value = kind === 'same' ? node.textContent : text(node);
        if (kind !== 'added') sides.before += value;
        if (kind !== 'removed') sides.after += value;
        if (kind !== 'same') sides[kind].push(value);
    }
    return sides;
}"""

PARAGRAPHS = ["Attendu que l'appelant ne justifie d'aucun grief.", "Que l'exception de nullité sera rejetée.",
              "Par ces motifs."]
REPLY = "L'appelant ne prouve pas qu'il a subi un préjudice. La demande d'annulation est donc rejetée."


def test_rewrite_shows_the_changes_word_by_word_then_replaces_the_selection(plume, fake_llm, open_pane, screenshot):
    fake_llm.reply = REPLY
    page = open_pane(plume(), globals={"__officeMockConfig": {"paragraphs": PARAGRAPHS, "selection": [0, 1]}})
    open_tab(page, "rewrite")
    page.click("#rewrite-run")
    page.wait_for_selector("#rewrite-after [data-action=insert]")
    page.wait_for_selector("#rewrite-diff ins")
    sides = page.evaluate(DIFF_SIDES)
    assert plain(sides["before"]) == "\n".join(PARAGRAPHS[:2])
    assert plain(sides["after"]) == REPLY
    assert "Attendu" in " ".join(sides["removed"]) and "prouve" in " ".join(sides["added"])
    # Words the two share are not marked: « L'appelant » stays, « rejetée » too.
    assert "rejetée" not in " ".join(sides["removed"] + sides["added"])
    assert page.locator("#rewrite-output").is_hidden()
    assert plain(page.locator("#rewrite-diff del .plume-visually-hidden").first.text_content()) == "[retiré : "
    count = plain(page.inner_text("#rewrite-diff-count"))
    assert count.startswith(tuple(f"{n} mot" for n in range(1, 30))) and "retiré" in count and "ajouté" in count
    assert plain(page.inner_text("#rewrite-after [data-action=insert]")) == "Remplacer la sélection"
    screenshot(page, "word-rewrite")

    page.click("#rewrite-after [data-action=insert]")
    page.wait_for_selector("#rewrite-after [data-outcome=inserted]")
    replace = next(c for c in word_calls(page) if c["api"] == "Range.insertText")
    assert replace["args"] == [REPLY, "Replace"] and replace["trackingMode"] == "TrackAll"
    state = word_state(page)
    assert state["paragraphs"] == [REPLY, "Par ces motifs."]
    assert state["contentControls"][0]["tag"] == "plume-ai" and state["trackingMode"] == "Off"
    assert "Reformulation" in state["comments"][0]["text"]


def test_rewrite_without_selection_says_what_to_do(plume, open_pane):
    page = open_pane(plume(), globals={"__officeMockConfig": {"paragraphs": PARAGRAPHS}})
    open_tab(page, "rewrite")
    page.click("#rewrite-run")
    page.wait_for_selector("#rewrite-error:not(:empty)")  # after the pane has read the selection
    assert plain(page.inner_text("#rewrite-error")) == "Sélectionnez dans le document le passage à reformuler."


def test_discarding_clears_the_comparison(plume, fake_llm, open_pane):
    fake_llm.reply = REPLY
    page = open_pane(plume(), globals={"__officeMockConfig": {"paragraphs": PARAGRAPHS, "selection": [0, 0]}})
    open_tab(page, "rewrite")
    page.click("#rewrite-run")
    page.click("#rewrite-after [data-action=discard]")
    assert page.locator("#rewrite-compare").is_hidden()
    assert "rien n'a été inséré" in plain(page.inner_text("#rewrite-status"))
    assert word_state(page)["paragraphs"] == PARAGRAPHS


def test_refused_rewrite_shows_no_empty_comparison(plume, open_pane):
    clerk = {"id": "greffe-1", "name": "Greffier", "roles": ["Plume.Greffier"], "jurisdictions": []}
    # Roles unknown to the pane (``/me`` failed): the tab shows, and the server refuses.
    page = open_pane(plume(DEV_USER=clerk), globals={"__officeMockConfig": {"paragraphs": PARAGRAPHS, "selection": [0, 0]}},
                     wait_ready=False)
    page.route("**/api/v1/me", lambda route: route.fulfill(status=503, body="{}", content_type="application/json"))
    page.reload()
    page.wait_for_selector("body[data-ready='true']")
    open_tab(page, "rewrite")
    page.click("#rewrite-run")
    page.wait_for_selector("#rewrite-error [role=alert]")
    assert page.locator("#rewrite-compare").is_hidden()


def test_identical_rewrite_says_nothing_changes(plume, fake_llm, open_pane):
    fake_llm.reply = PARAGRAPHS[2]
    page = open_pane(plume(), globals={"__officeMockConfig": {"paragraphs": PARAGRAPHS, "selection": [2, 2]}})
    open_tab(page, "rewrite")
    page.click("#rewrite-run")
    page.wait_for_selector("#rewrite-diff-count:not(:empty)")
    assert plain(page.inner_text("#rewrite-diff-count")) == "Aucun mot ne change."
    assert page.locator("#rewrite-diff del, #rewrite-diff ins").count() == 0
