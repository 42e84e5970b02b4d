"""Ingestion: what lands in the database, what the report says, what is refused."""
from __future__ import annotations

import json
import time

import psycopg

from backend import retrieval
from backend.retrieval.embeddings import LOCAL_MODEL
from tests.documents.samples import docx_bytes, encrypted_pdf_bytes, pdf_bytes

from .conftest import decision, ingest

REASONS = ("Attendu que le salarié a été licencié pour faute grave après plusieurs absences "
           "injustifiées, la cour d'appel a exactement retenu que le licenciement était fondé. ")


def _rows(database_url: str, sql: str, *params):
    with psycopg.connect(database_url) as conn:
        return conn.execute(sql, params).fetchall()


def test_sample_decisions_are_loaded_with_passages_that_point_into_their_text(
        app, database_url, sample_records, write_jsonl):
    path = write_jsonl(sample_records[:12])
    report = ingest(app, [path])
    assert (report.ingested, report.updated, report.unchanged) == (12, 0, 0)
    assert not report.skipped and not report.failed_files
    assert report.passages == _rows(database_url, "SELECT count(*) FROM passages")[0][0] > 12
    bad = _rows(database_url, """
        SELECT p.id FROM passages p JOIN decisions d ON d.id = p.decision_id
        WHERE substr(d.text, p.start_offset + 1, p.end_offset - p.start_offset) <> p.text""")
    assert bad == []
    first = _rows(database_url, "SELECT jurisdiction, chamber, number, decision_date::text, "
                                "summary IS NOT NULL, cardinality(themes), visibility, zoning "
                                "FROM decisions WHERE source_id = %s", sample_records[0]["id"])
    assert first == [("Cour de cassation", "Chambre commerciale financière et économique",
                      "19-19.463", "2020-11-18", True, 9, "public", "adjusted")]
    summary = report.summary()
    assert "12 décision(s) ajoutée(s)" in summary and "passage(s) enregistré(s)" in summary


def test_full_text_vector_is_french_and_accent_folded(app, database_url, write_jsonl):
    ingest(app, [write_jsonl([decision("d1", REASONS * 3)])])
    rows = _rows(database_url, "SELECT count(*) FROM passages WHERE tsv @@ "
                               "websearch_to_tsquery('french', plume_unaccent('licenciements salarie'))")
    assert rows == [(1,)]


def test_full_text_vectors_are_stored_without_a_compression_attempt(app, database_url,
                                                                     sample_records, write_jsonl):
    """A passage's lexemes and positions do not compress (migration 074): they are stored as
    they are, out of line when the row is wide, and still found."""
    ingest(app, [write_jsonl(sample_records[:5])])
    assert _rows(database_url, "SELECT attstorage FROM pg_attribute "
                               "WHERE attrelid = 'passages'::regclass AND attname = 'tsv'") == [("e",)]
    compressed, stored = _rows(database_url, "SELECT count(pg_column_compression(tsv)), count(*) "
                                             "FROM passages")[0]
    assert compressed == 0 and stored > 5
    assert _rows(database_url, "SELECT count(*) FROM passages WHERE tsv @@ 'cassat'")[0][0] > 0


def test_texts_are_stored_uncompressed_and_read_back_whole(app, database_url, sample_records,
                                                           write_jsonl):
    """Decisions' and passages' texts are not compressed (migration 085); a passage is still
    exactly its span of the decision's text."""
    ingest(app, [write_jsonl(sample_records[:5])])
    assert _rows(database_url, "SELECT count(pg_column_compression(d.text)) "
                               "+ count(pg_column_compression(p.text)), count(*) "
                               "FROM passages p JOIN decisions d ON d.id = p.decision_id")[0][0] == 0
    assert _rows(database_url, "SELECT count(*) FROM passages p JOIN decisions d ON d.id = p.decision_id "
                               "WHERE substr(d.text, p.start_offset + 1, p.end_offset - p.start_offset) "
                               "<> p.text") == [(0,)]
    assert max(len(r["text"]) for r in sample_records[:5]) > 8000   # would have been compressed


def test_ingesting_twice_changes_nothing_and_a_change_updates_in_place(app, database_url, write_jsonl):
    records = [decision("d1", REASONS * 3), decision("d2", REASONS * 2, number="22-10.000")]
    ingest(app, [write_jsonl(records)])
    before = _rows(database_url, "SELECT id, source_id, content_hash FROM decisions ORDER BY id")
    passages_before = _rows(database_url, "SELECT id FROM passages ORDER BY id")

    again = ingest(app, [write_jsonl(records)])
    assert (again.ingested, again.updated, again.unchanged, again.passages) == (0, 0, 2, 0)
    assert _rows(database_url, "SELECT id, source_id, content_hash FROM decisions ORDER BY id") == before
    assert _rows(database_url, "SELECT id FROM passages ORDER BY id") == passages_before

    records[1]["solution"] = "Cassation"
    changed = ingest(app, [write_jsonl(records)])
    assert (changed.ingested, changed.updated, changed.unchanged) == (0, 1, 1)
    after = _rows(database_url, "SELECT id, source_id, solution FROM decisions ORDER BY id")
    assert [(r[0], r[1]) for r in after] == [(r[0], r[1]) for r in before]
    assert after[1][2] == "Cassation"
    assert _rows(database_url, "SELECT count(*) FROM decisions") == [(2,)]


def test_bad_lines_are_skipped_with_their_reason_and_the_rest_loads(app, database_url, write_jsonl):
    path = write_jsonl([
        decision("ok-1", REASONS),
        "{not json",
        decision("empty", "   \n  "),
        {"jurisdiction": "Cour de cassation", "text": "Sans identifiant."},
        decision("private-nobody", REASONS, visibility="private"),
        decision("ok-1", REASONS + "Doublon."),
        decision("ok-2", REASONS),
    ])
    report = ingest(app, [path])
    assert report.ingested == 2
    reasons = dict(report.skipped)
    assert reasons["decisions.jsonl ligne 2"].startswith("JSON invalide")
    assert reasons["decisions.jsonl ligne 3"] == "texte vide"
    assert reasons["decisions.jsonl ligne 4"] == "identifiant « id » absent"
    assert "privée sans juridiction" in reasons["decisions.jsonl ligne 5"]
    assert reasons["decisions.jsonl ligne 6"] == "décision en double dans le lot"
    assert "Écartées : 5" in report.summary()
    assert sorted(r[0] for r in _rows(database_url, "SELECT source_id FROM decisions")) == ["ok-1", "ok-2"]


def test_broken_zone_offsets_and_mojibake_are_reported(app, write_jsonl):
    body = "MOTIFS\nLa soci¿t¿ Xq¿zt a fait appel. " + REASONS + "\nPAR CES MOTIFS\nRejette."
    report = ingest(app, [write_jsonl([
        decision("z1", body, zones={"motivations": [{"start": 10, "end": 99999}]}),
    ])])
    assert report.zones_broken == [("z1", "décalages incohérents avec le texte")]
    assert report.mojibake_repaired == 1 and report.mojibake_left == [("z1", 1)]
    summary = report.summary()
    assert "z1 : décalages incohérents avec le texte" in summary
    assert "1 avec des mots non réparés (1)" in summary


def test_word_and_pdf_files_become_decisions_with_guessed_metadata(app, database_url, tmp_path):
    docx = tmp_path / "arret-lyon.docx"
    docx.write_bytes(docx_bytes([
        ("paragraph", "COUR D'APPEL DE LYON"), ("paragraph", "ARRÊT DU 22 OCTOBRE 2024"),
        ("paragraph", "N° RG 23/09232"), ("heading", "MOTIFS"), ("paragraph", REASONS * 2),
        ("heading", "PAR CES MOTIFS"), ("paragraph", "Confirme le jugement."),
    ]))
    pdf = tmp_path / "jugement.pdf"
    pdf.write_bytes(pdf_bytes([["TRIBUNAL JUDICIAIRE DE BOBIGNY", "Jugement du 3 mars 2023.",
                                "Le tribunal statue publiquement."]]))
    report = ingest(app, [docx, pdf])
    assert (report.ingested, report.failed_files) == (2, [])
    rows = _rows(database_url, "SELECT source_id, jurisdiction, number, decision_date::text "
                               "FROM decisions ORDER BY source_id")
    assert rows == [("fichier:arret-lyon.docx", "Cour d'appel de Lyon", "23/09232", "2024-10-22"),
                    ("fichier:jugement.pdf", "Tribunal judiciaire de Bobigny", None, "2023-03-03")]
    zones = _rows(database_url, "SELECT DISTINCT zone FROM passages p JOIN decisions d "
                                "ON d.id = p.decision_id WHERE d.source_id = 'fichier:arret-lyon.docx'")
    assert sorted(z[0] for z in zones) == ["dispositif", "introduction", "motivations"]


def test_a_sidecar_gives_metadata_and_makes_a_decision_private(app, database_url, tmp_path):
    docx = tmp_path / "interne.docx"
    docx.write_bytes(docx_bytes([("paragraph", REASONS)]))
    (tmp_path / "interne.docx.json").write_text(json.dumps({
        "id": "ca-paris-interne-1", "jurisdiction": "Cour d'appel de Paris", "date": "2024-01-05",
        "private_to": ["Cour d'appel de Paris"]}), encoding="utf-8")
    ingest(app, [docx])
    assert _rows(database_url, "SELECT source_id, visibility, private_to FROM decisions") == [
        ("ca-paris-interne-1", "private", ["Cour d'appel de Paris"])]


def test_unreadable_files_are_reported_and_nothing_of_them_is_loaded(app, database_url, tmp_path,
                                                                    write_jsonl):
    locked = tmp_path / "protege.pdf"
    locked.write_bytes(encrypted_pdf_bytes([["Secret."]]))
    broken = tmp_path / "casse.docx"
    broken.write_bytes(b"PK\x03\x04 not really a zip")
    other = tmp_path / "notes.txt"
    other.write_text("texte", encoding="utf-8")
    good = write_jsonl([decision("ok", REASONS)])
    report = ingest(app, [locked, broken, other, good])
    failed = dict(report.failed_files)
    assert "mot de passe" in failed[str(locked)]
    assert "endommagé ou illisible" in failed[str(broken)]
    assert "format non pris en charge" in failed[str(other)]
    assert report.ingested == 1
    assert _rows(database_url, "SELECT source_id FROM decisions") == [("ok",)]
    assert "Fichiers en échec : 3." in report.summary()


def test_ingest_command_prints_the_french_report_and_fails_on_bad_files(app, tmp_path, write_jsonl):
    good = write_jsonl([decision("ok", REASONS)])
    runner = app.test_cli_runner()
    result = runner.invoke(args=["ingest", "--quiet", str(good)])
    assert result.exit_code == 0, result.output
    assert "1 décision(s) ajoutée(s)" in result.output
    bad = tmp_path / "x.pdf"
    bad.write_bytes(b"%PDF-1.4 garbage")
    result = runner.invoke(args=["ingest", "--quiet", str(good), str(bad)])
    assert result.exit_code == 1
    assert "1 inchangée(s)" in result.output and "Fichiers en échec : 1." in result.output


def test_sample_corpus_vectors_are_taken_from_the_shipped_file(app, database_url, sample_records,
                                                               write_jsonl):
    report = ingest(app, [write_jsonl(sample_records[:3])])
    assert report.vectors_reused > 0
    with_vector = _rows(database_url, "SELECT count(*) FROM passages WHERE embedding IS NOT NULL")
    assert with_vector == [(report.vectors_reused,)]
    assert _rows(database_url, "SELECT model, dimension FROM embedding_model") == [(LOCAL_MODEL, 384)]


def test_a_decision_refused_by_the_database_does_not_stop_the_batch(app, database_url, write_jsonl):
    # A NUL character is valid JSON but PostgreSQL text refuses it: only that decision fails.
    records = [decision("ok-1", REASONS), decision("nul", REASONS + "\u0000"), decision("ok-2", REASONS)]
    report = ingest(app, [write_jsonl(records)])
    assert report.ingested == 2
    assert [reason for where, reason in report.skipped] == ["refusée par la base de données (donnée invalide)"]
    assert sorted(r[0] for r in _rows(database_url, "SELECT source_id FROM decisions")) == ["ok-1", "ok-2"]
    assert _rows(database_url, "SELECT count(*) FROM passages p LEFT JOIN decisions d "
                               "ON d.id = p.decision_id WHERE d.id IS NULL") == [(0,)]


def test_count_decisions(app, write_jsonl):
    ingest(app, [write_jsonl([decision("a", REASONS), decision("b", REASONS)])])
    with app.app_context():
        assert retrieval.count_decisions() == 2


def test_preparing_processes_store_exactly_what_one_process_does(app, database_url, sample_records,
                                                                 write_jsonl):
    """A large load prepares decisions in other processes: same rows, same report, and a
    decision with no text is still reported and skipped."""
    from tests.conftest import truncate_all

    records = sample_records[:60] + [decision("vide", "   ")]
    path = write_jsonl(records)
    snapshot = ("SELECT d.source_id, p.ordinal, p.zone, p.start_offset, p.end_offset, p.content_hash, "
                "p.tsv::text FROM passages p JOIN decisions d ON d.id = p.decision_id ORDER BY 1, 2")
    reports, rows = [], []
    for processes in (2, 0):
        with app.app_context():
            report = retrieval.ingest.ingest_paths([str(path)], progress=False, processes=processes)
        reports.append((report.ingested, report.passages, report.skipped))
        rows.append(_rows(database_url, snapshot))
        truncate_all(database_url)
    assert reports[0] == reports[1]
    assert reports[0][0] == 60 and reports[0][2] == [(f"{path.name} ligne 61", "texte vide")]
    assert rows[0] == rows[1] and len(rows[0]) == reports[0][1]


def test_batches_stored_at_once_store_exactly_what_one_writer_does(app, database_url,
                                                                   sample_records, write_jsonl,
                                                                   monkeypatch):
    """Several writers (small batches, so several are in flight, each held 50 ms): same
    rows, same report as one writer, and batches were indeed stored at the same time."""
    import threading

    from backend.retrieval import ingest
    from tests.conftest import truncate_all

    store, lock = ingest._store, threading.Lock()
    in_flight, most = [0], {}

    def counted_store(conn, batch, vectors, report):
        with lock:
            in_flight[0] += 1
            most[writers] = max(most.get(writers, 0), in_flight[0])
        try:
            store(conn, batch, vectors, report)
            time.sleep(0.05)
        finally:
            with lock:
                in_flight[0] -= 1

    monkeypatch.setattr(ingest, "_store", counted_store)
    path = write_jsonl(sample_records[:80] + [decision("vide", "   ")])
    snapshot = ("SELECT d.source_id, d.passage_count, p.ordinal, p.zone, p.start_offset, "
                "p.content_hash, p.tsv::text FROM passages p JOIN decisions d ON d.id = p.decision_id "
                "ORDER BY 1, 3")
    reports, rows = [], []
    for writers in (3, 1):
        with app.app_context():
            report = retrieval.ingest.ingest_paths([str(path)], progress=False, processes=0,
                                                   batch_decisions=7, writers=writers)
        reports.append((report.ingested, report.updated, report.passages, report.skipped))
        rows.append(_rows(database_url, snapshot))
        truncate_all(database_url)
    assert reports[0] == reports[1] and reports[0][0] == 80
    assert rows[0] == rows[1] and len(rows[0]) == reports[0][2]
    assert most[3] >= 2 and most[1] == 1      # several at once, never more than asked


def test_a_decision_met_again_waits_for_the_batch_holding_it_and_ends_in_its_later_version(
        app, database_url, write_jsonl, monkeypatch):
    """The same decision in two files, with two writers: the second file's batch is stored
    only once the first's is (held open 0.3 s here), so one row remains, with the second
    file's text, every other decision loaded and nothing refused. (Stored at once, the
    first batch would lose the conflict, be retried and put its older text back.)"""
    from backend.retrieval import ingest

    events: list[str] = []
    store = ingest._store

    def slow_first_batch(conn, batch, vectors, report):
        name = "premier" if any(r.item.record.source_id == "a-0" for r in batch) else "second"
        events.append(f"{name} commence")
        store(conn, batch, vectors, report)
        if name == "premier":
            time.sleep(0.3)
        events.append(f"{name} fini")

    monkeypatch.setattr(ingest, "_store", slow_first_batch)
    first = write_jsonl([decision(f"a-{i}", REASONS) for i in range(5)] + [decision("commune", REASONS)],
                        name="premier.jsonl")
    later = REASONS.replace("faute grave", "cause réelle et sérieuse")
    second = write_jsonl([decision("commune", later)] + [decision(f"b-{i}", REASONS) for i in range(5)],
                         name="second.jsonl")
    with app.app_context():
        report = retrieval.ingest.ingest_paths([str(first), str(second)], progress=False,
                                               processes=0, batch_decisions=6, writers=2)
    assert events == ["premier commence", "premier fini", "second commence", "second fini"]
    assert (report.skipped, report.ingested, report.updated) == ([], 11, 1)
    assert _rows(database_url, "SELECT count(*) FROM decisions") == [(11,)]
    texts = _rows(database_url, "SELECT text FROM decisions WHERE source_id = 'commune'")
    assert len(texts) == 1 and "cause réelle et sérieuse" in texts[0][0]


def test_writers_follow_the_cores_and_the_pool(monkeypatch):
    from backend.retrieval import ingest

    monkeypatch.setattr(ingest.os, "cpu_count", lambda: 2)
    assert ingest._writer_count(None, 10) == 1
    monkeypatch.setattr(ingest.os, "cpu_count", lambda: 12)
    assert ingest._writer_count(None, 10) == 6
    assert ingest._writer_count(None, 3) == 2       # one connection left for the batch lookups
    assert ingest._writer_count(8, 10) == 8


def test_preparing_processes_take_only_the_cores_the_writers_leave(monkeypatch, tmp_path):
    from backend.retrieval import ingest

    big = tmp_path / "gros.jsonl"
    big.write_bytes(b" " * ingest.PARALLEL_MIN_BYTES)
    monkeypatch.setattr(ingest.os, "cpu_count", lambda: 2)
    assert ingest._preparers([big], None, writers=1) is None     # PostgreSQL's core, and this one
    monkeypatch.setattr(ingest.os, "cpu_count", lambda: 8)
    with ingest._preparers([big], None, writers=4) as preparers:
        assert preparers._max_workers == 3
    small = tmp_path / "petit.jsonl"
    small.write_bytes(b"{}")
    assert ingest._preparers([small], None, writers=4) is None


def test_a_large_load_from_the_command_line_prepares_in_other_processes(
        app, database_url, sample_records, tmp_path):
    """Over PARALLEL_MIN_BYTES, ``python -m backend ingest`` prepares in spawned processes
    where cores are left (each imports the package afresh; none on 2 cores): the command as
    an administrator runs it loads all."""
    import os
    import subprocess
    import sys

    from backend.retrieval.ingest import PARALLEL_MIN_BYTES
    from tests.deploy.conftest import app_environment

    path = tmp_path / "gros.jsonl"
    count = 0
    with path.open("w", encoding="utf-8") as out:
        while out.tell() <= PARALLEL_MIN_BYTES:
            record = sample_records[count % len(sample_records)]
            out.write(json.dumps({**record, "id": f"{record['id']}-{count}"}, ensure_ascii=False) + "\n")
            count += 1
    result = subprocess.run([sys.executable, "-m", "backend", "ingest", "--quiet", str(path)],
                            env=app_environment(database_url, PLUME_EMBED_IN_BACKGROUND="0"),
                            cwd=os.getcwd(), capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"{count} décision(s) ajoutée(s)" in result.stdout, result.stdout  # under a thousand
    assert _rows(database_url, "SELECT count(*) FROM decisions")[0][0] == count
