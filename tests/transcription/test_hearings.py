"""Hearings as background jobs through ``/api/v1/transcriptions``: real recordings (espeak-ng,
sox, PyAV), the fake speech-to-text host, a real PostgreSQL, in-process workers and real
``python -m backend worker`` processes (one killed in the middle of a 60-minute hearing)."""
from __future__ import annotations

import io
import signal
import subprocess
from datetime import timedelta

import pytest
from docx import Document

from backend import db
from backend.audit.records import close_interrupted
from backend.llm.tokens import estimate_tokens
from tests.jobs.processes import wait_until
from tests.transcription.conftest import hearing, transcode

API = "/api/v1/transcriptions"
MB = 1024 * 1024


def upload_whole(client, path, **form):
    with open(path, "rb") as data:
        return client.post(API, content_type="multipart/form-data",
                           data={"file": (data, path.name), **form})


def finished(client, job_id, timeout=60.0):
    return wait_until(lambda: (b := client.get(f"{API}/{job_id}").json)["state"]
                      in {"done", "failed", "cancelled"} and b, timeout=timeout)


def transcription_requests(fake_llm):
    return [r for r in fake_llm.requests if r.path == "/v1/audio/transcriptions"]


def steps(job_id):
    with db.connection() as conn:
        rows = conn.execute("SELECT key, state, attempts FROM job_steps WHERE job_id = %s",
                            (job_id,)).fetchall()
    return {key: (state, attempts) for key, state, attempts in rows}


def records(kind="transcribe"):
    with db.connection() as conn:
        return conn.execute(
            "SELECT outcome, error_code, model, completion_tokens FROM audit_interactions "
            "WHERE kind = %s ORDER BY seq", (kind,)).fetchall()


def records_of(job_id):
    """The job's interaction records, and whether one is still open (audit_open)."""
    with db.connection() as conn:
        rows = conn.execute("SELECT id::text, outcome, error_code, model, completion_tokens "
                            "FROM audit_interactions WHERE kind = 'transcribe' ORDER BY seq"
                            ).fetchall()
        still_open = conn.execute("SELECT count(*) FROM audit_open WHERE id = %s",
                                  (job_id,)).fetchone()[0]
    return rows, still_open


# A 60-minute hearing, uploaded in parts over a cut, its worker killed in the middle ----------

def test_a_sixty_minute_hearing_resumes_its_upload_and_its_worker_restart(
        hearing_app, fake_llm, spawn_worker, tmp_path):
    recording = hearing(tmp_path / "audience.ogg", 60)
    size = recording.stat().st_size
    client = hearing_app.test_client()
    opened = client.post(f"{API}/uploads", json={"filename": "audience.ogg", "size": size})
    assert opened.status_code == 201, opened.json
    job_id = opened.json["id"]
    assert opened.json["upload"] == {"received": 0, "size": size}

    data = recording.read_bytes()
    part = 1 * MB
    put = lambda offset, chunk: client.put(f"{API}/{job_id}/upload?offset={offset}", data=chunk,
                                           content_type="application/octet-stream")
    assert put(0, data[:part]).json["upload"]["received"] == part
    # The network cut: the pane resends from where it believes it was; the server says where.
    lost = put(3 * part, data[3 * part:4 * part])
    assert lost.status_code == 409 and lost.json["error"] == "envoi_decale"
    assert lost.json["size"] == part and "reprenez l'envoi" in lost.json["message"]
    early = client.post(f"{API}/{job_id}/start")
    assert early.status_code == 409 and early.json["error"] == "envoi_incomplet"
    assert client.get(f"{API}/{job_id}").json["upload"]["received"] == part
    offset = lost.json["size"]
    while offset < size:
        offset = put(offset, data[offset:offset + part]).json["upload"]["received"]
    assert client.post(f"{API}/{job_id}/start").status_code == 202

    fake_llm.transcription_delay = 1.0
    first = spawn_worker()
    # Two pieces done, others in flight: the worker dies at once.
    wait_until(lambda: sum(s == "done" for s, _ in steps(job_id).values() if s) >= 3, timeout=180)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    # The audit room's sweep of dead workers' records leaves the job's alone: it still lives.
    assert close_interrupted(hearing_app, grace=timedelta(0)) == 0
    assert records_of(job_id) == ([], 1)
    before = steps(job_id)
    done_before = {k for k, (state, _) in before.items() if state == "done" and k.startswith("piece:")}
    cut = {k for k, (state, _) in before.items() if state == "running"}
    assert done_before and len(cut) <= 2  # PLUME_HEARING_CONCURRENCY pieces at most
    assert client.get(f"{API}/{job_id}").json["state"] == "running"

    spawn_worker()  # another process, another data folder: it decodes the recording again
    body = finished(client, job_id, timeout=240)

    assert body["state"] == "done", body
    pieces = body["pieces"]
    assert 29 <= pieces <= 32  # 60 min in pieces of about 2 min, cut on silences
    assert 3590 < body["duration"] < 3610
    after = steps(job_id)
    # The pieces finished before the kill ran once; only those cut were sent again.
    assert all(after[k] == ("done", 1) for k in done_before)
    assert all(after[k] == ("done", 2) for k in cut)
    # (a piece cut before its request left the worker was not sent twice)
    assert pieces <= len(transcription_requests(fake_llm)) <= pieces + len(cut)
    starts = [s["start"] for s in body["segments"]]
    assert starts == sorted(starts) and starts[-1] > 3300  # global timestamps
    assert body["text"].startswith("Audience du 12 mars 2025")
    assert body["model"] == "fake-whisper" and body["language"] == "french"
    # Each piece was a WAV under the hosts' 25 MB.
    assert all(r.form["file"]["size"] < 25 * MB for r in transcription_requests(fake_llm))
    # Words with times, moved onto the hearing's timeline like their segments.
    last = body["segments"][-1]
    assert [w["word"] for w in last["words"]] == last["text"].split()
    assert all(last["start"] <= w["start"] <= w["end"] <= last["end"] + 1 for w in last["words"])
    assert all(r.form["timestamp_granularities[]"] == ["word", "segment"]
               for r in transcription_requests(fake_llm))
    # One record for the job, whatever its runs: its id is the job's, finished ok by the
    # second worker, one charged call per piece (those of the killed run too), none open.
    assert close_interrupted(hearing_app, grace=timedelta(0)) == 0
    rows, still_open = records_of(job_id)
    tokens = estimate_tokens(fake_llm.transcript)
    assert rows == [(job_id, "ok", None, "fake-whisper", tokens * pieces)] and still_open == 0
    assert body["interaction_id"] == job_id


# Formats, errors ------------------------------------------------------------------------------

@pytest.mark.parametrize("name, codec", [("audience.mp4", "aac"), ("audience.webm", "libopus"),
                                         ("audience.mp3", "libmp3lame"), ("audience.flac", None),
                                         ("audience.wav", None)])
def test_courtroom_formats_go_through(hearing_app, fake_llm, start_worker, tmp_path, name, codec):
    source = hearing(tmp_path / ("base.wav" if codec else name), 0.5)
    path = transcode(source, tmp_path / name, codec) if codec else source
    client = hearing_app.test_client()
    response = upload_whole(client, path)
    assert response.status_code == 202, response.json
    start_worker()
    body = finished(client, response.json["id"])
    assert body["state"] == "done", body
    seconds = float(subprocess.run(["soxi", "-D", str(source)], capture_output=True, text=True,
                                   check=True).stdout)
    assert abs(body["duration"] - seconds) < 0.2 and body["pieces"] == 1


@pytest.mark.parametrize("content, status, code, words", [
    (b"", 400, "requete_invalide", "vide"),
    (b"Ceci est un texte, pas un enregistrement.", 415, "format_non_pris_en_charge", "pris en charge"),
])
def test_empty_or_unsupported_files_are_refused_at_once(hearing_app, content, status, code, words):
    client = hearing_app.test_client()
    response = client.post(API, content_type="multipart/form-data",
                           data={"file": (io.BytesIO(content), "audience.wav")})
    assert response.status_code == status and response.json["error"] == code
    assert words in response.json["message"]
    with db.connection() as conn:
        assert conn.execute("SELECT count(*) FROM jobs").fetchone()[0] == 0


def test_corrupt_silent_and_too_long_recordings_fail_with_a_french_message(
        hearing_app, make_app, fake_llm, start_worker, tmp_path):
    client = hearing_app.test_client()
    good = hearing(tmp_path / "audience.ogg", 0.5).read_bytes()
    corrupt = good[:200] + bytes(range(256)) * 400
    silent = tmp_path / "silence.wav"
    subprocess.run(["sox", "-n", "-r", "16000", "-c", "1", str(silent), "trim", "0", "20"], check=True)
    ids = {
        "corrupt": client.post(API, content_type="multipart/form-data", data={
            "file": (io.BytesIO(corrupt), "audience.ogg")}).json["id"],
        "silent": upload_whole(client, silent).json["id"],
    }
    short_app = make_app(LLM_BASE_URL=fake_llm.url, LLM_TRANSCRIPTION_MODEL="fake-whisper",
                         DATA_DIR=str(tmp_path / "d2"), HEARING_MAX_MINUTES=1,
                         JOB_POLL_SECONDS=0.2)
    long_file = hearing(tmp_path / "long.wav", 1.5)
    ids["long"] = upload_whole(short_app.test_client(), long_file).json["id"]
    start_worker()
    start_worker(app=short_app)
    expected = {"corrupt": ("audio_illisible", "illisible ou endommagé"),
                "silent": ("audio_silencieux", "que du silence"),
                "long": ("audio_trop_long", "durée maximale acceptée (1 min)")}
    for what, job_id in ids.items():
        body = finished(client, job_id)
        assert body["state"] == "failed", (what, body)
        assert body["error"]["error"] == expected[what][0]
        assert expected[what][1] in body["error"]["message"], body["error"]
    assert transcription_requests(fake_llm) == []  # nothing reached the host
    assert sorted(r[1] for r in records()) == ["audio_illisible", "audio_silencieux",
                                                "audio_trop_long"]


def test_a_recording_over_the_size_limit_is_refused_before_it_is_stored(make_app, fake_llm, tmp_path):
    app = make_app(HEARING_MAX_BYTES=200_000)
    client = app.test_client()
    big = hearing(tmp_path / "audience.wav", 0.2)
    assert big.stat().st_size > 200_000
    response = upload_whole(client, big)
    assert response.status_code == 413 and response.json["error"] == "trop_volumineux"
    opened = client.post(f"{API}/uploads", json={"filename": "a.wav", "size": 300_000})
    assert opened.status_code == 413 and "Mo" in opened.json["message"]
    with app.app_context(), db.connection() as conn:
        assert conn.execute("SELECT count(*) FROM jobs").fetchone()[0] == 0


# Cancel, exports, delete, other users (retention: test_retention.py) -------------------------------------------

def test_cancel_stops_after_the_piece_in_flight(hearing_app, make_app, fake_llm, start_worker, tmp_path):
    app = make_app(LLM_BASE_URL=fake_llm.url, LLM_TRANSCRIPTION_MODEL="fake-whisper",
                   DATA_DIR=str(tmp_path / "d"), HEARING_PIECE_SECONDS=20, HEARING_CONCURRENCY=1,
                   JOB_POLL_SECONDS=0.2)
    client = app.test_client()
    fake_llm.transcription_delay = 0.5
    job_id = upload_whole(client, hearing(tmp_path / "audience.flac", 3)).json["id"]
    start_worker(app=app)
    wait_until(lambda: client.get(f"{API}/{job_id}").json["progress"]["done_seconds"] > 0)
    assert client.post(f"{API}/{job_id}/cancel").status_code == 200
    body = finished(client, job_id)
    assert body["state"] == "cancelled"
    assert len(transcription_requests(fake_llm)) < 9  # 3 min in pieces of 20 s
    with app.app_context():
        assert [r[0] for r in records()] == ["stopped"]
    assert client.get(f"{API}/{job_id}/export.txt").status_code == 409
    named = client.put(f"{API}/{job_id}/speakers", json={"speaker_changes": []})
    assert named.status_code == 409 and "pas terminée" in named.json["message"]


def test_a_cancel_during_the_last_piece_wins_job_and_record(hearing_app, make_app, fake_llm,
                                                            start_worker, tmp_path):
    # One piece: the cancel arrives while its only host call is in flight, after the last
    # check between steps, so only the seal before recording the success can see it.
    app = make_app(LLM_BASE_URL=fake_llm.url, LLM_TRANSCRIPTION_MODEL="fake-whisper",
                   DATA_DIR=str(tmp_path / "d"), JOB_POLL_SECONDS=0.2)
    client = app.test_client()
    fake_llm.transcription_delay = 2.0
    job_id = upload_whole(client, hearing(tmp_path / "audience.wav", 0.5)).json["id"]
    start_worker(app=app)
    wait_until(lambda: len(transcription_requests(fake_llm)) == 1)
    assert client.post(f"{API}/{job_id}/cancel").status_code == 200
    assert finished(client, job_id)["state"] == "cancelled"
    with app.app_context():
        assert [r[0] for r in records()] == ["stopped"]
        assert records_of(job_id)[1] == 0


def test_exports_read_back_then_delete(hearing_app, make_app, start_worker, tmp_path):
    client = hearing_app.test_client()
    job_id = upload_whole(client, hearing(tmp_path / "audience.wav", 0.5)).json["id"]
    assert client.get(f"{API}/{job_id}/export.srt").status_code == 409
    start_worker()
    body = finished(client, job_id)
    lines = [s["text"] for s in body["segments"]]

    txt = client.get(f"{API}/{job_id}/export.txt")
    assert txt.headers["Content-Disposition"] == 'attachment; filename="audience.txt"'
    assert txt.text.splitlines()[0] == f"[00:00:00] {lines[0]}"
    srt = client.get(f"{API}/{job_id}/export.srt").text
    blocks = [b.splitlines() for b in srt.strip().split("\n\n")]
    assert [b[0] for b in blocks] == [str(i) for i in range(1, len(lines) + 1)]
    assert blocks[1][1] == "00:00:02,500 --> 00:00:04,900" and blocks[1][2] == lines[1]
    vtt = client.get(f"{API}/{job_id}/export.vtt").text
    assert vtt.startswith("WEBVTT\n\n00:00:00.000 --> 00:00:02.400\n")
    docx = client.get(f"{API}/{job_id}/export.docx")
    assert docx.mimetype.endswith("wordprocessingml.document")
    paragraphs = [p.text for p in Document(io.BytesIO(docx.data)).paragraphs]
    assert "audience.wav" in paragraphs[0] and "à relire" in paragraphs[1]
    assert paragraphs[2] == f"[00:00:00] {lines[0]}"
    assert client.get(f"{API}/{job_id}/export.pdf").status_code == 400

    # « changer d'intervenant » in the pane, carried to the server: from a time on.
    relabel = lambda changes: client.put(f"{API}/{job_id}/speakers", json={"speaker_changes": changes})
    changed = relabel([{"from": body["segments"][1]["start"], "speaker": "Me  Durand"},
                       {"from": 0, "speaker": "Le président"}])
    assert changed.status_code == 200, changed.json
    assert [s.get("speaker") for s in changed.json["segments"]] == ["Le président", "Me Durand",
                                                                     "Me Durand"]
    assert changed.json["speaker_changes"] == [{"from": 0, "speaker": "Le président"},
                                               {"from": 2.5, "speaker": "Me Durand"}]
    assert [s["text"] for s in changed.json["segments"]] == lines  # nothing else moves
    assert client.get(f"{API}/{job_id}").json["segments"] == changed.json["segments"]
    txt = client.get(f"{API}/{job_id}/export.txt").text.splitlines()
    assert txt[:2] == [f"[00:00:00] Le président : {lines[0]}", f"[00:00:02] Me Durand : {lines[1]}"]
    assert f"Me Durand : {lines[2]}" in client.get(f"{API}/{job_id}/export.srt").text
    assert f"Me Durand : {lines[1]}" in client.get(f"{API}/{job_id}/export.vtt").text
    document = Document(io.BytesIO(client.get(f"{API}/{job_id}/export.docx").data))
    runs = document.paragraphs[3].runs
    assert [(r.text, bool(r.bold)) for r in runs][:2] == [("[00:00:02] ", False),
                                                          ("Me Durand : ", True)]
    for bad, words in [([{"from": -1, "speaker": "X"}], "moment"),
                       ([{"from": 1, "speaker": " "}], "nomme"),
                       ([{"from": 1, "speaker": "X" * 81}], "80 caractères"),
                       ([{"from": 99999, "speaker": "X"}], "moment"),
                       ([{"from": 1, "speaker": "X", "color": "red"}], "objet"),
                       ({"from": 1}, "liste")]:
        refused = relabel(bad)
        assert refused.status_code == 400 and refused.json["error"] == "requete_invalide", bad
        assert words in refused.json["message"], refused.json
    assert client.put(f"{API}/{job_id}/speakers", json={}).status_code == 400
    assert relabel([]).json["segments"] == body["segments"]  # back to the host's speakers

    listed = client.get(API).json["transcriptions"]
    assert [t["id"] for t in listed] == [job_id] and "text" not in listed[0]

    # Someone else sees nothing of it.
    other = make_app(DEV_USER={"id": "autre", "name": "Autre", "roles": ["Plume.Greffier"],
                               "jurisdictions": []}).test_client()
    for method, path in [("get", f"{API}/{job_id}"), ("get", f"{API}/{job_id}/export.txt"),
                         ("post", f"{API}/{job_id}/cancel"), ("delete", f"{API}/{job_id}"),
                         ("put", f"{API}/{job_id}/speakers")]:
        assert getattr(other, method)(path).status_code == 404
    assert other.get(API).json["transcriptions"] == []

    assert client.delete(f"{API}/{job_id}").status_code == 204
    assert client.get(f"{API}/{job_id}").status_code == 404
    with db.connection() as conn:
        assert conn.execute("SELECT count(*) FROM job_blobs").fetchone()[0] == 0
