"""Judilibre's own formats: decisions and /export batches as the API returns them, codes or
labels; the transaction history's deletions; malformed input refused in French, losing nothing."""
from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest

from backend.retrieval import judilibre

from .conftest import decision, ingest

# The eight answers of ../shared/judilibre, copied with their provenance note.
SAMPLES = Path(__file__).resolve().with_name("judilibre")
SHAPES = ("unresolved", "resolved")

# What each sample becomes, whichever shape it came in.
EXPECTED = {
    "cc": {"source_id": "judilibre-5fca277de35a255d41ca73ab", "jurisdiction": "Cour de cassation",
           "chamber": "Chambre commerciale financière et économique", "number": "19-19.463",
           "ecli": "ECLI:FR:CCASS:2020:CO00740", "decision_date": "2020-11-18", "solution": "Rejet",
           "publication": "Publié au Bulletin", "source": "Judilibre (jurinet)",
           "zones": {"introduction", "expose", "moyens", "motivations", "dispositif", "annexes"}},
    "ca": {"source_id": "judilibre-5fca277de35a255d41ca73ab0ca",
           "jurisdiction": "Cour d'appel de Chambéry",
           "chamber": "Chambre commerciale financière et économique", "number": "20/00804",
           "ecli": None, "decision_date": "2020-11-18", "solution": "Annule la décision déférée",
           "publication": None, "source": "Judilibre (jurica)",
           "zones": {"introduction", "expose", "motivations", "dispositif"}},
    "tj": {"source_id": "judilibre-5fca277de35a255d41ca73ab0ca",
           "jurisdiction": "Tribunal judiciaire de Bordeaux",
           "chamber": "Chambre commerciale financière et économique", "number": "20/00804",
           "ecli": None, "decision_date": "2020-11-18", "solution": "Annule la décision déférée",
           "publication": None, "source": "Judilibre (tj)",
           "zones": {"introduction", "expose", "motivations", "dispositif"}},
    "tcom": {"source_id": "judilibre-6777e9f21e60c54e02024fdd",
             "jurisdiction": "Tribunal de commerce de La Roche-sur-Yon", "chamber": None,
             "number": "2022004346", "ecli": None, "decision_date": "2022-11-22", "solution": None,
             "publication": None, "source": "Judilibre (tcom)", "zones": None},
}


def sample(court: str, shape: str = "unresolved") -> Path:
    return SAMPLES / f"{court}-decision-{shape}.json"


def load(court: str, shape: str = "unresolved") -> dict:
    return json.loads(sample(court, shape).read_text(encoding="utf-8"))


def _rows(url: str, sql: str, *params):
    with psycopg.connect(url) as conn:
        return conn.execute(sql, params).fetchall()


def _decision(url: str, source_id: str) -> dict | None:
    with psycopg.connect(url) as conn:
        cur = conn.execute(
            "SELECT source_id, jurisdiction, chamber, number, ecli, decision_date::text AS decision_date,"
            " solution, publication, source, zoning, zones, passage_count, content_hash, themes,"
            " summary, license FROM decisions WHERE source_id = %s", (source_id,))
        row = cur.fetchone()
        return dict(zip([c.name for c in cur.description], row)) if row else None


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("court", ["cc", "ca", "tj", "tcom"])
def test_each_sample_is_ingested_as_the_api_returned_it(app, database_url, court, shape):
    report = ingest(app, [sample(court, shape)])
    assert (report.ingested, report.skipped, report.failed_files) == (1, [], [])
    expected = EXPECTED[court]
    stored = _decision(database_url, expected["source_id"])
    for name in ("jurisdiction", "chamber", "number", "ecli", "decision_date", "solution",
                 "publication", "source"):
        assert stored[name] == expected[name], name
    assert stored["license"] == "Licence Ouverte / Etalab 2.0"
    zones = {z["zone"] for z in stored["zones"]}
    if expected["zones"] is None:  # no zones given: derived from the headings
        assert stored["zoning"] == "derived"
    else:  # Judilibre's offsets used (moved at most to the nearest paragraph break)
        assert stored["zoning"] in ("source", "adjusted") and zones == expected["zones"]
    # Passages point into the text, each inside the zone Judilibre gave it.
    spans = {(z["zone"], z["start"], z["end"]) for z in stored["zones"]}
    passages = _rows(database_url, "SELECT p.zone, p.start_offset, p.end_offset, p.text, "
                     "substr(d.text, p.start_offset + 1, p.end_offset - p.start_offset) "
                     "FROM passages p JOIN decisions d ON d.id = p.decision_id "
                     "WHERE d.source_id = %s", expected["source_id"])
    assert len(passages) == stored["passage_count"] > 0
    for zone, start, end, text, in_decision in passages:
        assert text == in_decision
        assert any(z == zone and s <= start and end <= e for z, s, e in spans)


def test_the_cour_de_cassation_sample_keeps_its_summary_themes_and_motivations(app, database_url):
    ingest(app, [sample("cc")])
    stored = _decision(database_url, EXPECTED["cc"]["source_id"])
    assert stored["summary"].startswith("Si la compétence des juridictions consulaires")
    assert "compétence matérielle" in stored["themes"]
    raw = load("cc")
    reasons = raw["text"][raw["zones"]["motivations"][0]["start"]:raw["zones"]["motivations"][0]["end"]]
    texts = [t for (t,) in _rows(database_url, "SELECT p.text FROM passages p JOIN decisions d ON "
                                 "d.id = p.decision_id WHERE p.zone = 'motivations'")]
    assert any("Réponse de la Cour" in reasons and t in reasons for t in texts)


@pytest.mark.parametrize("court", ["cc", "ca", "tj", "tcom"])
def test_codes_and_labels_give_the_same_decision(app, database_url, court):
    first = ingest(app, [sample(court, "unresolved")])
    again = ingest(app, [sample(court, "resolved")])
    assert (first.ingested, again.ingested, again.updated, again.unchanged) == (1, 0, 0, 1)


def test_codes_map_to_french_labels():
    raw = {"id": "x1", "text": "Texte de la décision.", "decision_date": "2021-01-05",
           "jurisdiction": "cc", "chamber": "civ2", "solution": "cassation",
           "publication": ["b", "r"], "number": "21-10.001", "numbers": ["21-10.001", "21-10.002"]}
    [record] = judilibre.to_records(raw, "test")
    assert record.source_id == "judilibre-x1"
    assert record.metadata["jurisdiction"] == "Cour de cassation"
    assert record.metadata["chamber"] == "Deuxième chambre civile"
    assert record.metadata["solution"] == "Cassation"
    assert record.metadata["publication"] == "Publié au Bulletin, Publié au Rapport"
    assert record.metadata["number"] == "21-10.001, 21-10.002"
    for code, label in [("soc", "Chambre sociale"), ("civ1", "Première chambre civile"),
                        ("civ3", "Troisième chambre civile"), ("com", "Chambre commerciale financière "
                        "et économique"), ("cr", "Chambre criminelle"), ("mi", "Chambre mixte"),
                        ("pl", "Assemblée plénière"), ("ordo", "Première présidence (Ordonnance)")]:
        assert judilibre.to_records({**raw, "chamber": code})[0].metadata["chamber"] == label
    for code, label in [("ca", "Cour d'appel"), ("tj", "Tribunal judiciaire"),
                        ("tcom", "Tribunal de commerce")]:
        assert judilibre.to_records({**raw, "jurisdiction": code})[0].metadata["jurisdiction"] == label
    assert judilibre.to_records({**raw, "jurisdiction": "ca", "location": "ca_aix_provence"}
                                )[0].metadata["jurisdiction"] == "Cour d'appel d'Aix-en-Provence"
    for code, label in [("rejet", "Rejet"), ("annulation", "Annulation"),
                        ("irrecevabilite", "Irrecevabilité")]:
        assert judilibre.to_records({**raw, "solution": code})[0].metadata["solution"] == label
    for code, label in [("l", "Publié aux Lettres de chambre"), ("c", "Communiqué"),
                        ("n", "Non publié")]:
        assert judilibre.to_records({**raw, "publication": [code]})[0].metadata["publication"] == label


def test_an_export_batch_loads_its_decisions_and_reports_the_abridged_one(app, database_url, tmp_path):
    batch = {"batch": 0, "batch_size": 3, "total": 3, "next_batch": None, "took": 12,
             "results": [load("cc"), load("tcom", "resolved"),
                         {k: v for k, v in load("ca").items() if k not in ("text", "displayText")}]}
    path = tmp_path / "export.json"
    path.write_text(json.dumps(batch, ensure_ascii=False), encoding="utf-8")  # one line, as curl saves it
    report = ingest(app, [path])
    assert report.ingested == 2 and not report.failed_files
    [(where, reason)] = report.skipped
    assert where == "export.json (lot 0) décision 3"
    assert "sans texte intégral" in reason
    assert {r[0] for r in _rows(database_url, "SELECT source_id FROM decisions")} == {
        EXPECTED["cc"]["source_id"], EXPECTED["tcom"]["source_id"]}
    assert "Écartées : 1" in report.summary()


def test_json_lines_mix_plume_records_judilibre_decisions_and_batches(app, database_url, write_jsonl):
    plume = decision("plume-1", "MOTIFS\nLe bail commercial est résilié faute de paiement des loyers. " * 5)
    path = write_jsonl([plume, load("cc"), {"batch": 1, "results": [load("tcom")]}])
    report = ingest(app, [path])
    assert (report.ingested, report.skipped, report.failed_files) == (3, [], [])
    assert len(_rows(database_url, "SELECT 1 FROM decisions")) == 3


def test_a_deletion_in_the_history_removes_the_decision_its_passages_and_vectors(
        app, database_url, tmp_path):
    ingest(app, [sample("cc"), sample("tcom")])
    cc_id = _rows(database_url, "SELECT id FROM decisions WHERE source_id = %s",
                  EXPECTED["cc"]["source_id"])[0][0]
    with psycopg.connect(database_url) as conn:  # as if the embedder had been through
        conn.execute("UPDATE passages SET embedding = array_fill(0.1, ARRAY[384])::vector")
    history = {"total": 4, "page_size": 4, "next_page": None, "query_date": "2025-01-31T08:10:18Z",
               "transactions": [
                   {"id": "5fca277de35a255d41ca73ab", "action": "created", "date": "2025-01-15T14:50:10Z"},
                   {"id": "5fca277de35a255d41ca73ab", "action": "deleted", "date": "2025-01-20T09:00:00Z"},
                   {"id": "6777e9f21e60c54e02024fdd", "action": "deleted", "date": "2025-01-16T10:00:00Z"},
                   {"id": "6777e9f21e60c54e02024fdd", "action": "created", "date": "2025-01-18T10:00:00Z"},
                   {"id": "000000000000000000000000", "action": "deleted", "date": "2025-01-19T10:00:00Z"}]}
    path = tmp_path / "history.json"
    path.write_text(json.dumps(history, indent=2), encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["ingest", "--quiet", str(path)])
    assert result.exit_code == 0, result.output
    assert "Retirées à la source (Judilibre) : 1 décision(s) supprimée(s) de l'index" in result.output
    # The commercial court's decision was re-created after its deletion: it stays.
    assert [r[0] for r in _rows(database_url, "SELECT source_id FROM decisions")] == [
        EXPECTED["tcom"]["source_id"]]
    assert _rows(database_url, "SELECT count(*) FROM passages WHERE decision_id = %s", cc_id) == [(0,)]
    assert _rows(database_url, "SELECT count(*) FROM passages WHERE embedding IS NOT NULL")[0][0] > 0


def test_a_malformed_history_deletes_nothing_and_says_why(app, database_url, tmp_path):
    ingest(app, [sample("cc")])
    path = tmp_path / "history.json"
    path.write_text(json.dumps({"transactions": [
        {"id": "5fca277de35a255d41ca73ab", "action": "deleted", "date": "2025-01-20T09:00:00Z"},
        {"id": "5fca277de35a255d41ca73ab", "action": "purged", "date": "2025-01-21T09:00:00Z"}]}),
        encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["ingest", "--quiet", str(path)])
    assert result.exit_code == 1
    assert "historique Judilibre mal formé, rien n'a été supprimé" in result.output
    assert "action « purged » inconnue" in result.output
    assert len(_rows(database_url, "SELECT 1 FROM decisions")) == 1


@pytest.mark.parametrize("damage, message", [
    (lambda text: text[: len(text) // 2], "JSON invalide"),
    (lambda text: text.replace('"text":', '"texte":', 1), "sans texte intégral"),
    (lambda text: text.replace('"id": "5fca277de35a255d41ca73ab"', '"id": null', 1),
     "sans identifiant « id »"),
])
def test_malformed_judilibre_json_is_refused_in_french_and_loses_nothing(
        app, database_url, tmp_path, damage, message):
    ingest(app, [sample("cc")])
    before = _decision(database_url, EXPECTED["cc"]["source_id"])
    passages = _rows(database_url, "SELECT id, text FROM passages ORDER BY id")
    broken = tmp_path / "cc-decision-unresolved.json"
    broken.write_text(damage(sample("cc").read_text(encoding="utf-8")), encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["ingest", "--quiet", str(broken)])
    assert result.exit_code == 1, result.output
    assert "Fichiers en échec : 1" in result.output and message in result.output
    assert _decision(database_url, EXPECTED["cc"]["source_id"]) == before
    assert _rows(database_url, "SELECT id, text FROM passages ORDER BY id") == passages


def test_broken_zone_offsets_are_reported_and_the_zones_derived(app, database_url, tmp_path):
    raw = load("ca")
    raw["zones"] = {"introduction": [{"start": 0, "end": 50}], "dispositif": [{"start": 40, "end": 90000}]}
    path = tmp_path / "ca.json"
    path.write_text(json.dumps(raw, ensure_ascii=False, indent=1), encoding="utf-8")
    report = ingest(app, [path])
    assert report.ingested == 1 and report.zones_derived == 1
    assert report.zones_broken == [(EXPECTED["ca"]["source_id"], "zones qui se chevauchent")]


def test_a_json_array_of_plume_records_is_read_whole_and_a_history_line_is_refused(
        app, database_url, tmp_path, write_jsonl):
    reasons = "MOTIFS\nLe bail commercial est résilié faute de paiement des loyers. " * 5
    array = tmp_path / "decisions.json"
    array.write_text(json.dumps([decision("plume-a", reasons), decision("plume-b", reasons)],
                                ensure_ascii=False, indent=2), encoding="utf-8")
    lines = write_jsonl([{"transactions": [{"id": "x", "action": "deleted", "date": "2025-01-01"}]}])
    report = ingest(app, [array, lines])
    assert report.ingested == 2 and not report.failed_files
    [(where, reason)] = report.skipped
    assert where == "decisions.jsonl ligne 1" and "passez-le seul, dans un fichier .json" in reason
