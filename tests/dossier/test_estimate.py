"""The estimate shown before a dossier starts follows the job's own plan: its model calls are
within a quarter of the calls the job then makes, on dossiers of a few sizes and kinds of
files (dense and sparse PDFs, Word, text, a scanned page)."""
from __future__ import annotations

import io

import pytest
from docx import Document

from backend import db
from tests.api.attachment_files import make_pdf
from tests.documents.samples import scanned_pdf_bytes
from tests.dossier.conftest import FAST, finished, model_reply, upload
from tests.dossier.files import good_dossier
from tests.jobs.processes import WorkerThreads

SENTENCES = [
    "Le {d} {m} 2023, le locataire a adressé au bailleur une mise en demeure restée sans effet.",
    "L'expert judiciaire relève des infiltrations récurrentes dans la chambre et le séjour.",
    "La société défenderesse soutient que les désordres résultent d'un défaut d'entretien.",
    "Par ordonnance du {d} {m} 2024, le juge de la mise en état a ordonné une expertise.",
    "Le demandeur sollicite la condamnation du bailleur au paiement de dommages et intérêts.",
]
MONTHS = ["janvier", "mars", "mai", "juillet"]


def page(file: int, number: int, lines: int) -> list[str]:
    out = [f"Pièce n° {file} — page {number}"]
    n = 0
    while len(out) < lines:
        text = SENTENCES[(file + number + n) % len(SENTENCES)].format(d=n % 28 + 1, m=MONTHS[n % 4])
        out += [text[i:i + 90] for i in range(0, len(text), 90)]
        n += 1
    return out[:lines]


def docx(paragraphs: int) -> bytes:
    document = Document()
    document.add_heading("Conclusions en réplique", level=1)
    for n in range(paragraphs):
        document.add_paragraph(SENTENCES[n % len(SENTENCES)].format(d=n % 28 + 1, m="mars") * 3)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def medium() -> dict[str, bytes]:
    """60 pages: dense and sparse PDFs, a Word file, a text file, two scanned pages."""
    files = {f"piece-{i}.pdf": make_pdf([page(i, p, 34 if i % 2 else 12) for p in range(1, 9)])
             for i in range(1, 7)}
    files["repliques.docx"] = docx(40)
    files["note.txt"] = (" ".join(SENTENCES) * 20).encode()
    files["pv-scan.pdf"] = scanned_pdf_bytes([page(9, 1, 14), page(9, 2, 14)])
    return files


def large() -> dict[str, bytes]:
    """About 200 pages in 20 PDFs of 2 to 20 pages each."""
    return {f"piece-{i:02d}.pdf": make_pdf([page(i, p, 22) for p in range(1, 2 + i % 10 * 2)])
            for i in range(1, 21)}


@pytest.mark.parametrize("files, context", [(good_dossier, 8192), (medium, 3000), (large, 4000)],
                         ids=["small", "medium", "large"])
def test_the_estimate_is_within_a_quarter_of_the_calls_made(make_app, fake_llm, files, context):
    fake_llm.reply = model_reply
    app = make_app(LLM_BASE_URL=fake_llm.url, **FAST, LLM_CONTEXT_TOKENS=context,
                   QUOTA_DAILY_TOKENS={"generation": 10_000_000})
    with app.app_context():
        client = app.test_client()
        created = upload(client, files()).get_json()
        threads = WorkerThreads(app, 1)
        threads.start()
        try:
            dossier = finished(client, created["id"], timeout=240)
        finally:
            threads.stop_all()
        assert dossier["state"] == "done", dossier
        with db.connection() as conn:
            parts, calls = conn.execute("SELECT parts, model_calls FROM dossier_measures "
                                        "WHERE interaction_id = %s", (created["id"],)).fetchone()
        estimated = created["estimate"]["model_calls"]
        print(f"{len(files())} files, {created['estimate']['pages']} pages: "
              f"{estimated} calls estimated, {calls} made ({parts} parts)")
        assert calls >= 1 and abs(estimated - calls) <= 0.25 * calls
