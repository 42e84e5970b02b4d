"""Pseudonymiser in Word: proposals from the real engine, edited, then applied as tracked
changes with one letter per person and a comment (Office.js mock + Paragraph.search)."""
from __future__ import annotations

import time

from .conftest import open_tab, plain, word_calls, word_state

# The mock has no Paragraph.search: add one (exact, case-sensitive, like matchCase) whose
# ranges select and replace characters inside their paragraph.
SEARCH_PATCH = """async () => {
  await Word.run(async (ctx) => {
    const ps = ctx.document.body.paragraphs;
    ps.load('items');
    await ctx.sync();
    const paragraphProto = Object.getPrototypeOf(ps.items[0]);
    const RangeCtor = Object.getPrototypeOf(paragraphProto).constructor;
    const CollectionCtor = ps.constructor;
    const state = window.__officeState;
    const record = (api, args, extra) => window.__officeCalls.push(
      Object.assign({ api, args, trackingMode: state.trackingMode }, extra || {}));
    class TextRange extends RangeCtor {
      constructor(context, index, start, end) {
        super(context, index, index, state.paragraphs[index].slice(start, end));
        this._start = start;
        this._end = end;
      }
      insertText(text, location) {
        record('Range.insertText', [text, location], { paragraph: this._first, start: this._start });
        const p = state.paragraphs[this._first];
        state.paragraphs[this._first] = p.slice(0, this._start) + text + p.slice(this._end);
        return this;
      }
      select(mode) {
        record('Range.select', [mode || 'Select'], { paragraph: this._first, start: this._start, text: this._text });
        state.selected = { first: this._first, last: this._first, start: this._start, end: this._end };
      }
    }
    paragraphProto.search = function (text, options) {
      record('Paragraph.search', [text, options]);
      const p = state.paragraphs[this._index];
      const items = [];
      for (let at = p.indexOf(text); at >= 0; at = p.indexOf(text, at + text.length)) {
        items.push(new TextRange(this.context, this._index, at, at + text.length));
      }
      return new CollectionCtor(this.context, items);
    };
  });
}"""

DECISION = [
    "COUR D'APPEL DE LYON",
    "Président : Mme Claire VIDAL",
    "Greffier : M. Paul Roche",
    "M. Jean DUPONT, demeurant 12 rue des Lilas, 69100 Villeurbanne, appelant",
    "Représenté par Me Olivier DOLMAZON, avocat au barreau de LYON",
    "Mme Nadia Benali, intimée",
    "Sur un forum, Mme Benali écrivait sous le pseudonyme Kiki42.",
    "Kiki42",
    "M. Dupont soutient que Mme Benali a quitté le domicile ; M. Dupont conteste la somme. 😀",
]


def open_pseudonymize(open_pane, base_url, paragraphs, **config):
    page = open_pane(base_url, globals={"__officeMockConfig": {"paragraphs": paragraphs, **config}})
    page.evaluate(SEARCH_PATCH)
    open_tab(page, "pseudonymize")  # at 320 px it is in the « Plus » menu
    assert page.locator("#panel-pseudonymize").is_visible()
    return page


# For the screenshot only: the mock document as Word would show it, replacements underlined
# as tracked insertions and the comment beside it.
SHOW_DOCUMENT = """() => {
  const state = window.__officeState;
  const box = document.createElement('section');
  box.style.cssText = 'border:1px solid #888;margin:8px;padding:8px;font:13px serif;background:#fff';
  box.append(Object.assign(document.createElement('h2'), { textContent: 'Document (mock Word) après « Appliquer » (remplacements suivis)' }));
  for (const text of state.paragraphs) {
    const p = document.createElement('p');
    for (const part of text.split(/(\\[[^\\]]+\\])/)) {
      const span = document.createElement(part.startsWith('[') ? 'u' : 'span');
      if (part.startsWith('[')) span.style.color = '#b00';
      span.textContent = part;
      p.append(span);
    }
    box.append(p);
  }
  for (const comment of state.comments) {
    box.append(Object.assign(document.createElement('aside'), { textContent: '💬 ' + comment.text }));
  }
  document.body.append(box);
}"""


def cards(page):
    return [plain(label) for label in page.evaluate("""() => [...document.querySelectorAll('#pseudo-list > li.plume-card')]
        .map((li) => li.querySelector('label').textContent.trim())""")]


def test_proposals_edited_then_applied_as_tracked_changes(plume, open_pane, screenshot):
    page = open_pseudonymize(open_pane, plume(), DECISION, selection=[7, 7])
    page.click("#pseudo-run")
    page.wait_for_selector("#pseudo-list li.plume-card", timeout=120_000)
    listed = cards(page)
    assert "[A] : Jean DUPONT — 3 occurrences" in listed
    assert "[B] : Nadia Benali — 3 occurrences" in listed
    assert any(text.startswith("[Adresse 1] : 12 rue des Lilas") for text in listed)
    assert not any("VIDAL" in text or "Roche" in text or "DOLMAZON" in text for text in listed)
    assert word_state(page)["paragraphs"] == DECISION  # nothing changes before « Appliquer »
    screenshot(page, "word-pseudonymize-proposals")

    # An occurrence selects its words in the document.
    page.click("li.plume-card[data-entity='personne:A'] summary")
    page.click("li.plume-card[data-entity='personne:A'] .plume-ref >> nth=2")
    page.wait_for_function("() => window.__officeState.selected && window.__officeState.selected.start !== undefined")
    selected = word_state(page)["selected"]
    assert selected["first"] == 8 and DECISION[8][selected["start"]:selected["end"]] == "Dupont"

    # She unticks the locality, adds the missed pseudonym from the selection, and makes the
    # address a place.
    page.uncheck("li.plume-card[data-entity='localite:1'] input[type=checkbox]")
    page.click("#pseudo-add")
    page.wait_for_function("() => document.querySelectorAll('#pseudo-list li.plume-card').length >= 5")
    assert "[C] : Kiki42 — 2 occurrences" in cards(page)
    page.select_option("li.plume-card[data-entity='adresse:1'] select", "localite")
    assert any(text.startswith("[Localité 2] : 12 rue des Lilas") for text in cards(page))
    screenshot(page, "word-pseudonymize-edited")

    page.click("#pseudo-apply")
    page.wait_for_selector("#pseudo-list .plume-message--success")
    state = word_state(page)
    assert state["paragraphs"][3] == "M. [A], demeurant [Localité 2], 69100 Villeurbanne, appelant"
    assert state["paragraphs"][5] == "Mme [B], intimée"
    assert state["paragraphs"][6] == "Sur un forum, Mme [B] écrivait sous le pseudonyme [C]."
    assert state["paragraphs"][7] == "[C]"
    assert state["paragraphs"][8] == "M. [A] soutient que Mme [B] a quitté le domicile ; M. [A] conteste la somme. 😀"
    assert state["paragraphs"][:3] == DECISION[:3] and state["paragraphs"][4] == DECISION[4]
    replacements = [c for c in word_calls(page) if c["api"] == "Range.insertText"]
    assert len(replacements) == 9 and {c["trackingMode"] for c in replacements} == {"TrackAll"}
    assert state["trackingMode"] == "Off"  # her own mode is back
    assert state["comments"][0]["text"].startswith("Pseudonymisation Plume du ")
    assert "9 occurrences remplacées (3 personnes, 1 autre élément)" in state["comments"][0]["text"]
    assert "9 remplacements effectués en suivi des modifications" in page.inner_text("#pseudo-status")
    page.evaluate(SHOW_DOCUMENT)
    screenshot(page, "word-pseudonymize-applied")


def test_ctrl_enter_analyses_and_never_applies(plume, open_pane):
    page = open_pseudonymize(open_pane, plume(), DECISION)
    page.keyboard.press("Control+Enter")
    page.wait_for_selector("#pseudo-list li.plume-card", timeout=120_000)
    assert "[A] : Jean DUPONT — 3 occurrences" in cards(page)
    # Again with the proposals on screen: Plume analyses anew, the document stays as it was.
    with page.expect_response(lambda r: r.url.endswith("/api/v1/pseudonymize"), timeout=120_000) as answer:
        page.keyboard.press("Control+Enter")
    assert answer.value.status == 200
    page.wait_for_selector("#pseudo-list li.plume-card", timeout=120_000)
    assert word_state(page)["paragraphs"] == DECISION
    assert not [c for c in word_calls(page) if c["api"] == "Range.insertText"]


def test_a_hundred_page_document(plume, open_pane, screenshot):
    from tests.pseudonymize.testset import build

    documents = [d for d in build(limit=None) if any(t.category == "personne" for t in d.truth)]
    paragraphs: list[str] = []
    for document in documents:
        paragraphs += [p for p in document.text.split("\n") if p.strip()]
        if sum(len(p) for p in paragraphs) > 100 * 3000:
            break
    page = open_pseudonymize(open_pane, plume(), paragraphs)
    started = time.monotonic()
    page.click("#pseudo-run")
    page.wait_for_selector("#pseudo-list li.plume-card", timeout=300_000)
    analysed = time.monotonic() - started
    count = page.evaluate("document.querySelectorAll('#pseudo-list li.plume-card').length")
    assert count > 100
    screenshot(page, "word-pseudonymize-100-pages")
    page.click("#pseudo-apply")
    page.wait_for_selector("#pseudo-list .plume-message--success", timeout=300_000)
    after = word_state(page)["paragraphs"]
    assert len(after) == len(paragraphs)
    replaced = int(page.inner_text("#pseudo-status").split()[0])
    assert replaced > 1000
    print(f"100 pages: {sum(len(p) for p in paragraphs)} characters, {count} entities, analysed in "
          f"{analysed:.1f} s, {replaced} replacements")


# The mock has no document settings: add them, kept in the mock's state as Word keeps them
# inside the file.
SETTINGS_PATCH = """() => {
  const state = window.__officeState;
  state.settings = {};
  Office.context.document.settings = {
    get: (name) => (name in state.settings ? JSON.parse(JSON.stringify(state.settings[name])) : null),
    set: (name, value) => { state.settings[name] = JSON.parse(JSON.stringify(value)); },
    saveAsync: (callback) => { state.settingsSaved = (state.settingsSaved || 0) + 1; callback({ status: 'succeeded' }); },
  };
}"""

SECOND_PART = [
    "M. Jean DUPONT, demeurant 12 rue des Lilas, 69100 Villeurbanne, appelant",
    "Mme Nadia Benali, intimée",
    "Attendu que M. Dupont a vendu le véhicule à M. Karim Haddad le 3 mars 2020.",
    "M. Haddad conteste ; M. Dupont et Mme Benali maintiennent leurs demandes.",
]


def test_a_second_selection_keeps_each_persons_letter(plume, open_pane, screenshot):
    page = open_pseudonymize(open_pane, plume(), SECOND_PART, selection=[0, 1])
    page.evaluate(SETTINGS_PATCH)
    page.check("input[name=pseudo-scope][value=selection]")
    with page.expect_request(lambda r: r.url.endswith("/api/v1/pseudonymize")) as first:
        page.click("#pseudo-run")
    assert "known" not in first.value.post_data_json  # nothing applied yet in this document
    page.wait_for_selector("#pseudo-list li.plume-card", timeout=120_000)
    assert "[A] : Jean DUPONT — 1 occurrence" in cards(page)
    assert "[B] : Nadia Benali — 1 occurrence" in cards(page)
    page.click("#pseudo-apply")
    page.wait_for_selector("#pseudo-list .plume-message--success")
    assert "gardées dans ce document" in page.inner_text("#pseudo-list")
    state = word_state(page)
    known = page.evaluate("window.__officeState.settings.plumePseudonymisation")
    assert {"text": "Jean DUPONT", "category": "personne", "replacement": "[A]"} in known
    assert {"text": "Nadia Benali", "category": "personne", "replacement": "[B]"} in known
    assert page.evaluate("window.__officeState.settingsSaved") == 1
    assert state["paragraphs"][:2] == ["M. [A], demeurant [Adresse 1], [Localité 1], appelant", "Mme [B], intimée"]

    # Another selection of the same document: Dupont and Benali keep their letters, the new
    # person takes the next free one, and the request carried what was applied.
    page.evaluate("window.__officeState.selection = [2, 3]")
    with page.expect_request(lambda r: r.url.endswith("/api/v1/pseudonymize")) as second:
        page.click("#pseudo-run")
    sent = second.value.post_data_json
    assert {"text": "Jean DUPONT", "category": "personne", "replacement": "[A]"} in sent["known"]
    page.wait_for_selector("#pseudo-list li.plume-card", timeout=120_000)
    listed = cards(page)
    assert "[A] : Dupont — 2 occurrences" in listed
    assert "[B] : Benali — 1 occurrence" in listed
    assert "[C] : Karim Haddad — 2 occurrences" in listed
    screenshot(page, "word-pseudonymize-second-selection")
    page.click("#pseudo-apply")
    page.wait_for_selector("#pseudo-list .plume-message--success")
    after = word_state(page)["paragraphs"]
    assert after[2] == "Attendu que M. [A] a vendu le véhicule à M. [C] le 3 mars 2020."
    assert after[3] == "M. [C] conteste ; M. [A] et Mme [B] maintiennent leurs demandes."
    known = page.evaluate("window.__officeState.settings.plumePseudonymisation")
    assert {"text": "Karim Haddad", "category": "personne", "replacement": "[C]"} in known
    assert {"text": "Jean DUPONT", "category": "personne", "replacement": "[A]"} in known


def test_without_document_settings_the_pane_still_works(plume, open_pane):
    page = open_pseudonymize(open_pane, plume(), SECOND_PART)
    with page.expect_request(lambda r: r.url.endswith("/api/v1/pseudonymize")) as request:
        page.click("#pseudo-run")
    assert "known" not in request.value.post_data_json
    page.wait_for_selector("#pseudo-list li.plume-card", timeout=120_000)
    page.click("#pseudo-apply")
    page.wait_for_selector("#pseudo-list .plume-message--success")
    assert "gardées dans ce document" not in page.inner_text("#pseudo-list")
    assert word_state(page)["paragraphs"][1] == "Mme [B], intimée"
