"""Word « Dossier » against the real server: files chosen and dropped, the inventory with a
protected PDF's French error, the estimate, « Lancer » (Ctrl+Entrée), the progress while the
model works, the synthesis with references that open the file at their page and the server's
flags, the .docx download read back, the tracked insertion in the « IA » content control, the
list after the pane is reopened, the polling fallback, cancel and delete. Screenshots at 320 px
of each screen; axe-core on each."""
from __future__ import annotations

import json
import threading
import time
from typing import Any, Iterator

import pytest
from docx import Document

from backend import db, jobs
from tests.api.attachment_files import make_encrypted_pdf, make_pdf
from tests.dossier.conftest import model_reply, reply
from tests.fakes.upstream import Behaviour
from tests.documents.samples import scanned_pdf_bytes
from tests.dossier.files import conclusions_pdf, courrier_docx, expertise_pdf, note_txt

from .conftest import FeedbackLog, fake_llm_settings, open_tab, plain, wait_until, word_calls, word_state
from .test_accessibility import serious_violations

# Short job timings (the dossier room's tests use the same), and a model with time to think.
FAST = {"JOB_LEASE_SECONDS": 1.5, "JOB_POLL_SECONDS": 0.2, "JOB_RETRY_DELAY": 0.0, "JOB_STOP_GRACE": 2.0,
        "LLM_RETRIES": 0, "QUOTA_REQUESTS_PER_MINUTE": 0,
        "LLM_TIMEOUT_FIRST_TOKEN": 60.0, "LLM_TIMEOUT_TOTAL": 120.0, "LLM_TIMEOUT_CHUNK": 60.0}
PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
# A fact no page supports: the server's check must flag its reference.
INVENTED = {"date": "2023-06-01", "texte": "Un constat que le dossier ne contient pas",
            "ref": "conclusions.pdf, p. 40", "citation": None}


class Gate:
    """Holds the model's answers until the test opens it (to see the pane while it waits)."""

    def __init__(self) -> None:
        self.open = threading.Event()
        self.open.set()

    def close(self) -> None:
        self.open.clear()

    def release(self) -> None:
        self.open.set()


def flagged_reply(gate: Gate):
    def reply(body: dict) -> str:
        gate.open.wait(60)
        answer = json.loads(model_reply(body))
        if any("conclusions.pdf" in m.get("content", "") for m in body["messages"] if m.get("role") == "user"):
            answer["faits"].append(INVENTED)
        return json.dumps(answer, ensure_ascii=False)
    return reply


@pytest.fixture
def serve_dossiers(make_app, serve_app, fake_llm) -> Iterator[Any]:
    """``serve_dossiers(worker=True)``: a served Plume, with a job worker unless ``worker`` is
    False (its jobs then stay queued), the fake model answering as the map prompt asks."""
    workers: list[Any] = []
    gate = Gate()
    fake_llm.reply = flagged_reply(gate)

    def start(worker: bool = True) -> dict[str, Any]:
        app = make_app(**{**fake_llm_settings(fake_llm), **FAST})
        base = serve_app(app)
        if worker:
            workers.append(jobs.Worker(app, 2).start())
        return {"base": base, "gate": gate, "app": app}

    yield start
    gate.release()
    for worker in workers:
        worker.stop(grace=0)


@pytest.fixture
def served(serve_dossiers) -> dict[str, Any]:
    return serve_dossiers()


SCAN = ["Procès-verbal de constat", "Le 12 mars 2024, l'huissier constate des fissures",
        "sur le mur nord de la maison."]


def scan() -> bytes:
    """A scanned PDF: a page of text as an image, then a page of noise (badly recognised)."""
    return scanned_pdf_bytes([SCAN, None])


def files(*names: str) -> list[dict[str, Any]]:
    made = {"conclusions.pdf": (PDF, conclusions_pdf), "expertise.pdf": (PDF, expertise_pdf),
            "courrier.docx": (DOCX, courrier_docx), "note.txt": ("text/plain", note_txt),
            "protege.pdf": (PDF, make_encrypted_pdf), "constat-scan.pdf": (PDF, scan)}
    return [{"name": n, "mimeType": made[n][0], "buffer": made[n][1]()} for n in names]


DROP = """async (files) => {
  const transfer = new DataTransfer();
  for (const f of files) transfer.items.add(new File([Uint8Array.from(atob(f.b64), (c) => c.charCodeAt(0))], f.name, {type: f.type}));
  const zone = document.getElementById('dossier-drop');
  zone.dispatchEvent(new DragEvent('dragover', {dataTransfer: transfer, bubbles: true, cancelable: true}));
  zone.dispatchEvent(new DragEvent('drop', {dataTransfer: transfer, bubbles: true, cancelable: true}));
}"""


def drop(page, payloads: list[dict[str, Any]]) -> None:
    import base64
    page.evaluate(DROP, [{"name": p["name"], "type": p["mimeType"], "b64": base64.b64encode(p["buffer"]).decode()}
                         for p in payloads])


def open_dossier_tab(open_pane, base: str, **config: Any):
    page = open_pane(base, globals={"__officeMockConfig": {"paragraphs": ["Premier paragraphe du jugement."],
                                                           "selection": [0, 0], **config}})
    open_tab(page, "dossier")  # at 320 px it may be in the « Plus » menu
    assert page.locator("#panel-dossier").is_visible()
    return page


def api(page, path: str, method: str = "GET") -> Any:
    response = page.request.fetch(f"{page.url.split('/addin/')[0]}/api/v1{path}", method=method)
    return response


def progress_text(page, row: str) -> str:
    return page.locator(f"[data-progress] [data-row={row}] dd").inner_text()


def check(page, screen: str, problems: list) -> None:
    problems.extend(serious_violations(page, screen))


def test_a_dossier_from_files_to_tracked_insertion(served, fake_llm, open_pane, screenshot, tmp_path):
    gate, base = served["gate"], served["base"]
    page = open_dossier_tab(open_pane, base)
    problems: list = []
    wait_until(page, "() => document.querySelector('#dossier-list').textContent.includes('Aucun dossier')")

    # Three files from the picker (multi-select), two dropped on the zone.
    page.set_input_files("#dossier-files", files("conclusions.pdf", "expertise.pdf", "courrier.docx", "constat-scan.pdf"))
    drop(page, files("note.txt", "protege.pdf"))
    chosen = page.locator("#dossier-chosen li").evaluate_all("(items) => items.map((li) => li.dataset.file)")
    assert chosen == ["conclusions.pdf", "expertise.pdf", "courrier.docx", "constat-scan.pdf", "note.txt", "protege.pdf"]
    page.get_by_role("button", name="Retirer note.txt").click()
    drop(page, files("note.txt"))
    page.fill("#dossier-title-input", "Dupont c/ Immobilière du Rhône")
    page.click("#dossier-prepare")

    # The inventory and the estimate, before anything runs.
    page.wait_for_selector("#dossier-start")
    dossier_id = api(page, "/dossiers").json()["dossiers"][0]["id"]
    server = api(page, f"/dossiers/{dossier_id}").json()
    assert server["held"] is True and server["state"] == "queued"
    cards = page.locator(".dossier-inventory > li")
    assert cards.evaluate_all("(items) => items.map((li) => li.dataset.file)") == [
        "conclusions.pdf", "expertise.pdf", "courrier.docx", "constat-scan.pdf", "protege.pdf", "note.txt"]
    assert plain(page.locator(".dossier-inventory > li[data-file='conclusions.pdf'] .plume-card__meta").inner_text()) \
        .startswith("PDF · 3 pages")
    locked = page.locator(".dossier-inventory > li[data-file='protege.pdf'] [data-error-code]")
    error = next(f["error"] for f in server["inventory"] if f["name"] == "protege.pdf")
    assert locked.get_attribute("data-error-code") == error["error"]
    assert plain(locked.inner_text()) == plain(f"⛔ Non lu : {error['message']}")
    scan_card = page.locator(".dossier-inventory > li[data-file='constat-scan.pdf']")
    assert plain(scan_card.locator(".plume-card__meta").inner_text()).startswith("PDF · 2 pages")
    assert scan_card.locator("[data-ocr]").inner_text() == "OCR nécessaire"
    estimate = server["estimate"]
    figures = {li.get_attribute("data-figure"): plain(li.inner_text()) for li in page.locator("[data-estimate] li").all()}
    assert figures["pages"].startswith(f"{estimate['pages']} pages à lire")
    assert figures["calls"] == f"environ {estimate['model_calls']} appel{'s' if estimate['model_calls'] > 1 else ''} au modèle"
    assert figures["tokens"] == f"environ {estimate['tokens']:,} jetons".replace(",", " ")
    assert "1 fichier écarté" in plain(page.locator(".dossier-files summary").inner_text())
    assert not [r for r in fake_llm.requests if r.path.endswith("/chat/completions")]  # held: nothing ran
    screenshot(page, "word-dossier-inventaire")
    page.locator(".dossier-inventory > li[data-file='protege.pdf']").scroll_into_view_if_needed()
    screenshot(page, "word-dossier-erreur-fichier")
    check(page, "inventaire", problems)

    # Ctrl+Entrée starts it; the model is held while the pane shows the progress.
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url.split("/api/v1")[-1]) if "/api/v1/dossiers/" in r.url else None)
    gate.close()
    assert page.evaluate("document.activeElement.id") == "dossier-start"
    page.keyboard.press("Control+Enter")
    page.wait_for_selector("[data-progress]")
    wait_until(page, "() => document.querySelector('[data-row=files] dd')?.textContent === '5 / 5'", timeout_ms=120_000)
    assert progress_text(page, "ocr") == "2 / 2"
    progress = page.locator("[data-progress]")
    # The model is held: the parts are counted, none summarised yet.
    parts = wait_until(page, "() => /^0 \\/ \\d+$/.test(document.querySelector('[data-row=parts] dd')?.textContent)"
                             " && document.querySelector('[data-row=parts] dd').textContent")
    assert parts == f"0 / {api(page, f'/dossiers/{dossier_id}').json()['progress']['parts_total']}"
    assert progress.locator("[data-row=eta] dt").inner_text() == "Temps restant"
    assert page.locator("#dossier-view [data-state=running]").inner_text() == "En cours"
    screenshot(page, "word-dossier-progression")
    check(page, "progression", problems)
    gate.release()

    # The synthesis: sections, references that open the file at its page, the flags.
    page.wait_for_selector(".dossier-synthesis", timeout=90_000)
    page.wait_for_selector("#dossier-result [data-action=insert]")
    # Followed by its event stream alone: no polling while the stream works.
    assert asked == [f"/dossiers/{dossier_id}/start", f"/dossiers/{dossier_id}/events", f"/dossiers/{dossier_id}/synthesis"]
    synthesis = api(page, f"/dossiers/{dossier_id}/synthesis").json()
    shown = page.locator(".dossier-section").evaluate_all("(s) => s.map((x) => x.dataset.section)")
    assert shown == [s["id"] for s in synthesis["sections"]]
    facts = len(synthesis["sections"][0]["items"])
    assert page.locator(".dossier-section[data-section=faits] .dossier-item").count() == facts
    invented = page.locator(".dossier-item", has_text="Un constat que le dossier ne contient pas")
    assert plain(invented.locator("[data-flag=reference_introuvable]").inner_text()) == \
        "Référence introuvable : ce fichier ou cette page n'existe pas dans le dossier."
    assert invented.locator(".plume-ref").get_attribute("data-verified") == "false"
    low = page.locator("#dossier-result [data-low-confidence]")
    assert low.get_attribute("data-low-confidence") == "1"
    assert low.locator(".plume-ref").inner_text() == "constat-scan.pdf, p. 2"
    assert "mal reconnue" in low.inner_text()
    screenshot(page, "word-dossier-resultat")
    check(page, "synthèse", problems)

    ref = page.locator(".dossier-section[data-section=faits] .plume-ref[data-file='conclusions.pdf'][data-page='2']").first
    with page.context.expect_page() as opened:
        ref.click()
    popup = opened.value
    assert popup.url.endswith(f"/api/v1/dossiers/{dossier_id}/files/conclusions.pdf#page=2")
    original = api(page, f"/dossiers/{dossier_id}/files/conclusions.pdf")
    assert original.status == 200 and original.body() == files("conclusions.pdf")[0]["buffer"]

    # « Télécharger (.docx) »: the export, read back.
    with page.expect_download() as download:
        page.click("#dossier-download")
    assert download.value.suggested_filename == "Synthèse – Dupont c Immobilière du Rhône.docx"
    saved = tmp_path / "synthese.docx"
    download.value.save_as(saved)
    text = "\n".join(p.text for p in Document(str(saved)).paragraphs)
    assert "Faits" in text and "Constat de la page 1 de conclusions.pdf" in text

    # « Insérer dans le document »: tracked, in the labelled content control, with the comment.
    feedback = FeedbackLog(page)
    page.click("#dossier-result [data-action=insert]")
    page.wait_for_selector("#dossier-result [data-outcome=inserted]")
    feedback.wait(1)  # the dossier is its own record in the observatory
    assert feedback.sent == [({"interaction_id": dossier_id, "useful": None, "comment": None, "outcome": "inserted"}, 201)]
    state = word_state(page)
    [control] = state["contentControls"]
    assert control["tag"] == "plume-ai" and control["title"] == "Texte généré par IA – à vérifier"
    assert control["text"].startswith(synthesis["title"])
    assert "[conclusions.pdf, p. 1]" in control["text"] and "\nFaits\n" in control["text"]
    inserted = [c for c in word_calls(page) if c["api"] == "Range.insertParagraph"]
    assert [c["trackingMode"] for c in inserted] == ["TrackAll"]
    assert state["trackingMode"] == "Off"  # the user's mode is back
    assert "Fichiers du dossier : « conclusions.pdf », « expertise.pdf », « courrier.docx », « constat-scan.pdf »," \
        in state["comments"][0]["text"]
    assert problems == [], json.dumps(problems, ensure_ascii=False, indent=1)

    # She closes the pane and comes back: her dossier is in the list, finished.
    page.close()
    again = open_dossier_tab(open_pane, base)
    row = again.locator(f"#dossier-list li[data-dossier='{dossier_id}']")
    row.wait_for()
    assert row.get_attribute("data-state") == "done"
    assert "Terminé" in row.inner_text() and "Dupont c/ Immobilière du Rhône" in plain(row.inner_text())
    screenshot(again, "word-dossier-liste")
    row.get_by_role("button", name="Ouvrir").click()
    again.wait_for_selector(".dossier-synthesis")
    assert again.locator(".dossier-section[data-section=faits] .dossier-item").count() == facts

    # Delete, after a second question.
    again.click("#dossier-back")
    row = again.locator(f"#dossier-list li[data-dossier='{dossier_id}']")
    row.get_by_role("button", name="Supprimer le dossier Dupont c/ Immobilière du Rhône").click()
    row.get_by_role("button", name="Garder").click()
    assert row.is_visible()
    row.get_by_role("button", name="Supprimer le dossier Dupont c/ Immobilière du Rhône").click()
    row.get_by_role("button", name="Supprimer définitivement").click()
    wait_until(again, "() => document.querySelector('#dossier-list').textContent.includes('Aucun dossier')")
    assert "supprimé" in again.locator("#dossier-status").inner_text()
    assert api(again, f"/dossiers/{dossier_id}").status == 404


def test_the_list_follows_a_running_dossier(served, open_pane, screenshot):
    gate = served["gate"]
    page = open_dossier_tab(open_pane, served["base"])
    page.set_input_files("#dossier-files", files("conclusions.pdf"))
    page.fill("#dossier-title-input", "Affaire Martin")
    page.click("#dossier-prepare")
    gate.close()
    page.click("#dossier-start")
    # Read, and waiting for the model (held): its progress message no longer changes.
    wait_until(page, "() => /^0 \\/ \\d+$/.test(document.querySelector('[data-row=parts] dd')?.textContent)", timeout_ms=60_000)
    page.click("#dossier-back")  # she leaves the dossier; the job goes on
    row = page.locator("#dossier-list li.dossier-row").first
    row.wait_for()
    assert row.get_attribute("data-state") in ("queued", "running")
    assert plain(row.locator("[data-progress=row]").inner_text()) == plain(api(page, "/dossiers").json()["dossiers"][0]["progress"]["message"])
    screenshot(page, "word-dossier-liste-en-cours")
    gate.release()
    wait_until(page, "() => document.querySelector('#dossier-list li.dossier-row')?.dataset.state === 'done'",
               timeout_ms=60_000)
    assert "Terminé" in page.locator("#dossier-list li.dossier-row").first.inner_text()


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_without_the_event_stream_the_pane_polls(theme, served, open_pane, screenshot):
    dark = {"theme": {"bodyBackgroundColor": "#292929", "bodyForegroundColor": "#ffffff",
                      "controlBackgroundColor": "#1f1f1f", "controlForegroundColor": "#ffffff"}} if theme == "dark" else {}
    page = open_pane(served["base"], color_scheme=theme, globals={"__officeMockConfig": {
        "paragraphs": ["Premier paragraphe du jugement."], "selection": [0, 0], **dark}})
    open_tab(page, "dossier")
    streams = []
    page.route("**/api/v1/dossiers/*/events", lambda route: (streams.append(route.request.url), route.abort()))
    page.set_input_files("#dossier-files", files("conclusions.pdf", "note.txt", "protege.pdf"))
    page.click("#dossier-prepare")
    page.wait_for_selector("#dossier-start")
    problems = serious_violations(page, f"inventaire ({theme})")
    page.click("#dossier-start")
    page.wait_for_selector(".dossier-synthesis", timeout=90_000)
    assert len(streams) == 1  # tried once, then the state was read every few seconds
    assert page.locator("#dossier-view [data-state=done]").inner_text() == "Terminé"
    page.wait_for_selector("#dossier-result [data-action=insert]")
    problems += serious_violations(page, f"synthèse ({theme})")
    # Keyboard alone: Tab goes through the references, then every action of the result.
    page.focus("#dossier-back")
    reached = []
    for _ in range(80):
        page.keyboard.press("Tab")
        reached.append(page.evaluate("document.activeElement.dataset.action || document.activeElement.className"))
        if reached[-1] == "delete":
            break
    actions = [a for a in reached if a in {"copy", "insert", "discard", "download", "delete"}]
    assert actions == ["copy", "insert", "discard", "download", "delete"], reached
    assert any("plume-ref" in a for a in reached)
    if theme == "dark":  # the light screens are the first test's
        screenshot(page, "word-dossier-resultat-sombre")
    assert problems == [], json.dumps(problems, ensure_ascii=False, indent=1)


def test_a_waiting_dossier_is_cancelled_with_escape_then_deleted(serve_dossiers, fake_llm, open_pane, screenshot):
    # No worker: the started dossier waits in the queue, where a cancel takes effect at once.
    page = open_dossier_tab(open_pane, serve_dossiers(worker=False)["base"])
    page.set_input_files("#dossier-files", files("conclusions.pdf", "expertise.pdf"))
    page.click("#dossier-prepare")
    page.click("#dossier-start")
    page.wait_for_selector("#dossier-view [data-state=queued]")
    assert page.locator("[data-row=eta] dd").inner_text() == "en attente d’un poste libre"
    screenshot(page, "word-dossier-en-attente")
    assert page.evaluate("document.activeElement.id") == "dossier-cancel"
    page.keyboard.press("Escape")
    page.wait_for_selector("[data-outcome=cancelled]")
    assert page.locator("#dossier-view [data-state=cancelled]").inner_text() == "Annulé"
    assert page.locator("#dossier-status").inner_text() == "Synthèse annulée."
    assert page.locator(".dossier-synthesis").count() == 0
    screenshot(page, "word-dossier-annule")
    dossier_id = api(page, "/dossiers").json()["dossiers"][0]["id"]
    assert api(page, f"/dossiers/{dossier_id}").json()["state"] == "cancelled"
    assert not [r for r in fake_llm.requests if r.path.endswith("/chat/completions")]
    page.locator("#dossier-view [data-action=delete]").click()
    page.locator("#dossier-view [data-action=confirm-delete]").click()
    wait_until(page, "() => !document.getElementById('dossier-home').hidden")
    assert api(page, f"/dossiers/{dossier_id}").status == 404


def test_no_readable_file_is_said_in_french(served, open_pane, screenshot):
    page = open_dossier_tab(open_pane, served["base"])
    page.click("#dossier-prepare")
    assert page.locator("#dossier-error").inner_text() == "Ajoutez d’abord les fichiers du dossier."
    page.set_input_files("#dossier-files", files("protege.pdf"))
    page.click("#dossier-prepare")
    bar = page.locator("#dossier-error .plume-bar")
    bar.wait_for()
    server = api(page, "/dossiers").json()["dossiers"]
    assert server == []  # nothing kept
    assert "protege.pdf" in bar.inner_text() and "PLUME_" not in bar.inner_text()
    assert bar.inner_text().strip().endswith("Ajoutez des fichiers lisibles, ou remplacez ceux qui sont signalés.")
    assert page.locator("#dossier-home").is_visible()
    screenshot(page, "word-dossier-aucun-fichier-lisible")


def chat_calls(fake_llm) -> list:
    return [r for r in fake_llm.requests if r.path.endswith("/chat/completions")]


def version_shown(page) -> str:
    return page.locator("#dossier-result [data-version]").get_attribute("data-version")


def test_refine_and_regenerate_write_again_and_versions_stay_on_the_device(
        served, fake_llm, open_pane, screenshot):

    fake_llm.reply = reply
    page = open_dossier_tab(open_pane, served["base"])
    page.set_input_files("#dossier-files", files("conclusions.pdf", "note.txt"))
    page.fill("#dossier-title-input", "Affaire Martin")
    page.click("#dossier-prepare")
    page.click("#dossier-start")
    page.wait_for_selector("#dossier-result [data-action=refine]", timeout=90_000)
    dossier_id = api(page, "/dossiers").json()["dossiers"][0]["id"]
    assert version_shown(page) == "initiale"
    assert page.locator("#dossier-result .plume-history").is_hidden()  # one version: nothing to choose
    read_calls = len(chat_calls(fake_llm))
    problems: list = []

    # « Affiner… » then « Plus court »: only the writing runs again, with the request.
    page.click("#dossier-result [data-action=refine]")
    page.click("#dossier-result [data-refine='plus court']")
    page.wait_for_selector("[data-revision=running]")
    wait_until(page, "() => document.querySelector('#dossier-result [data-version]')?.dataset.version?.length > 20",
               timeout_ms=60_000)
    shorter = version_shown(page)
    revision = api(page, f"/dossiers/{dossier_id}/revisions/{shorter}").json()
    assert revision["state"] == "done" and revision["instruction"] == "plus court"
    written = chat_calls(fake_llm)[read_calls:]
    assert len(written) == 1 and "« plus court »" in written[0].json["messages"][-1]["content"]
    items = page.locator(".dossier-section[data-section=faits] .dossier-item").all_inner_texts()
    assert items and all("[plus court]" in plain(text) for text in items)
    assert plain(page.locator("#dossier-result [data-version]").inner_text()) == "Affinée : « plus court »"
    assert page.locator(".dossier-item", has_text="Point inventé").locator(
        "[data-flag=reference_introuvable]").count() == 1  # checked again on the server
    assert "Historique (2)" in page.locator("#dossier-result .plume-history summary").inner_text()
    screenshot(page, "word-dossier-affinee")
    check(page, "synthèse affinée", problems)

    # Her own words, then « Régénérer ».
    page.click("#dossier-result [data-action=refine]")
    page.fill("#dossier-result .plume-refine input", "citer les dates en toutes lettres")
    page.click("#dossier-result [data-action=refine-run]")
    wait_until(page, f"() => !['{shorter}', undefined].includes(document.querySelector('#dossier-result [data-version]')?.dataset.version)",
               timeout_ms=60_000)
    assert "« citer les dates en toutes lettres »" in chat_calls(fake_llm)[-1].json["messages"][-1]["content"]
    mine = version_shown(page)

    # « Arrêter » (Échap) while a version is written: stopped on the server, the previous stays.
    fake_llm.then(Behaviour(first_token_delay=4.0))
    before = len(chat_calls(fake_llm))
    page.click("#dossier-result [data-action=regenerate]")
    page.wait_for_selector("#dossier-revision-stop")
    screenshot(page, "word-dossier-nouvelle-redaction")
    deadline = time.monotonic() + 30
    while len(chat_calls(fake_llm)) == before and time.monotonic() < deadline:
        time.sleep(0.1)
    page.keyboard.press("Escape")
    wait_until(page, f"() => document.querySelector('#dossier-result [data-version]')?.dataset.version === '{mine}'")
    assert "arrêtée" in page.locator("#dossier-status").inner_text()
    with served["app"].app_context():
        def last_revision_state() -> str:
            with db.connection() as conn:
                return conn.execute("SELECT state FROM jobs WHERE kind = 'dossier-revision' "
                                    "ORDER BY created_at DESC LIMIT 1").fetchone()[0]
        deadline = time.monotonic() + 30
        while last_revision_state() == "running" and time.monotonic() < deadline:
            time.sleep(0.2)
        assert last_revision_state() == "cancelled"
    page.click("#dossier-result [data-action=regenerate]")
    wait_until(page, "() => document.querySelector('#dossier-result [data-version]')?.textContent === 'Nouvelle rédaction'",
               timeout_ms=60_000)
    assert "formulée autrement" in chat_calls(fake_llm)[-1].json["messages"][-1]["content"]
    calls = len(chat_calls(fake_llm))

    # Back to an earlier version from the device's history: nothing is asked of the server.
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if "/api/v1/" in r.url else None)
    history = page.locator("#dossier-result .plume-history")
    assert "Historique (4)" in history.locator("summary").inner_text()
    history.locator("summary").click()
    entries = history.locator(".plume-history__item")
    assert "Affinée : « plus court »" in plain(entries.nth(2).inner_text())
    screenshot(page, "word-dossier-historique")
    check(page, "historique", problems)
    entries.nth(2).click()
    assert version_shown(page) == shorter
    assert plain(page.locator("#dossier-status").inner_text()) == "Affinée : « plus court » reprise de l'historique de cet appareil."
    page.locator("#dossier-result .plume-history summary").click()
    page.locator("#dossier-result .plume-history__item").nth(3).click()
    assert version_shown(page) == "initiale"
    assert asked == [] and len(chat_calls(fake_llm)) == calls

    # The export is the version on screen.
    page.locator("#dossier-result .plume-history summary").click()
    page.locator("#dossier-result .plume-history__item").nth(2).click()
    with page.expect_download() as download:
        page.click("#dossier-download")
    assert any(f"export.docx?revision={shorter}" in url for url in asked)
    saved = download.value.path()
    assert any("[plus court]" in p.text for p in Document(str(saved)).paragraphs)

    # The pane opened again on this device: the dossier opens on its last version, kept there.
    page.reload()
    page.wait_for_selector("body[data-ready='true']")
    open_tab(page, "dossier")
    again = page
    again.locator(f"#dossier-list li[data-dossier='{dossier_id}']").get_by_role("button", name="Ouvrir").click()
    wait_until(again, "() => document.querySelector('#dossier-result [data-version]')?.textContent === 'Nouvelle rédaction'")
    assert len(chat_calls(fake_llm)) == calls
    assert problems == [], json.dumps(problems, ensure_ascii=False, indent=1)


UPLOAD_SAMPLES = """() => {
  window.__uploads = [];
  const box = document.getElementById('dossier-upload');
  new MutationObserver(() => {
    const shown = box.querySelector('[data-upload]');
    if (shown) window.__uploads.push([shown.dataset.upload, Number(shown.dataset.sent), Number(shown.dataset.total), shown.textContent]);
  }).observe(box, {childList: true, subtree: true});
}"""


def test_a_large_dossier_shows_the_bytes_sent_while_it_uploads(served, open_pane, screenshot):

    page = open_dossier_tab(open_pane, served["base"])
    heavy = [{"name": f"scan-{n}.pdf", "mimeType": PDF, "buffer": make_pdf(padding=3_000_000)} for n in range(2)]
    page.set_input_files("#dossier-files", heavy)
    page.evaluate(UPLOAD_SAMPLES)
    # A slow line (2 Mo/s up): the upload takes a few seconds, as a large dossier does.
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", {"offline": False, "latency": 20, "downloadThroughput": -1,
                                                  "uploadThroughput": 2_000_000})
    page.click("#dossier-prepare")
    page.wait_for_selector("#dossier-upload [data-upload=sending]")
    wait_until(page, "() => window.__uploads.some(([, sent, total]) => sent > 0 && sent < total)")
    screenshot(page, "word-dossier-envoi")
    page.wait_for_selector("#dossier-start", timeout=60_000)
    cdp.send("Network.emulateNetworkConditions", {"offline": False, "latency": 0, "downloadThroughput": -1,
                                                  "uploadThroughput": -1})
    samples = page.evaluate("window.__uploads")
    sending = [(sent, total) for state, sent, total, _ in samples if state == "sending"]
    total = sending[-1][1]
    assert total > sum(len(f["buffer"]) for f in heavy)  # the files and the form around them
    sent = [s for s, _ in sending]
    assert sent == sorted(sent) and len({s for s in sent if 0 < s < total}) >= 3
    assert any(plain(text).startswith("Envoi : ") and " Mo sur " in plain(text) and "%" in text for *_, text in samples)
    assert samples[-1][0] == "inventory" and "Inventaire en cours" in samples[-1][3]
    assert page.locator("#dossier-upload").is_hidden()  # the inventory took its place
    assert page.locator(".dossier-inventory > li").count() == 2
