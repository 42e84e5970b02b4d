"""Hearings' retention: declared with the jobs room (PLUME_HEARING_RETENTION_HOURS), purged by
the job workers on their schedule, not by the requests; an upload never completed goes too,
its record closed « interrompu »."""
from __future__ import annotations

from pathlib import Path

from backend import db
from backend.audit.records import close_interrupted
from tests.jobs.processes import wait_until
from tests.transcription.conftest import hearing
from tests.transcription.test_hearings import (API, finished, records_of, transcription_requests,
                                               upload_whole)


def test_a_worker_purges_expired_transcriptions_on_its_own_schedule(
        hearing_app, make_app, fake_llm, spawn_worker, tmp_path):
    # Kept about 4 s, a worker purging every 0.6 s (set by the interval's former name, as a
    # deployment of the last version did). Word times off: only segments are asked.
    quick = make_app(LLM_BASE_URL=fake_llm.url, LLM_TRANSCRIPTION_MODEL="fake-whisper",
                     DATA_DIR=str(tmp_path / "q"), HEARING_RETENTION_HOURS=0.001)
    client = quick.test_client()
    job_id = upload_whole(client, hearing(tmp_path / "audience.wav", 0.3)).json["id"]
    worker = spawn_worker(PLUME_HEARING_RETENTION_HOURS="0.001", PLUME_HEARING_PURGE_MINUTES="0.01",
                          PLUME_HEARING_WORD_TIMES="0")
    body = finished(client, job_id)
    assert body["state"] == "done" and not any("words" in s for s in body["segments"])
    assert [r.form["timestamp_granularities[]"] for r in transcription_requests(fake_llm)] == [
        ["segment"]]
    client.put(f"{API}/{job_id}/speakers", json={"speaker_changes": [{"from": 0, "speaker": "Me X"}]})

    wait_until(lambda: client.get(f"{API}/{job_id}").status_code == 404, timeout=60)
    with db.connection() as conn:
        for table in ("job_blobs", "job_steps", "transcription_speakers"):
            assert conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 0, table
    assert worker.poll() is None  # the worker purged it, and goes on
    assert '"message": "expired jobs deleted", "kind": "transcription", "count": 1' \
        in Path(worker.log_path).read_text()


def test_a_submission_purges_nothing(hearing_app, make_app, fake_llm, start_worker, tmp_path):
    quick = make_app(LLM_BASE_URL=fake_llm.url, LLM_TRANSCRIPTION_MODEL="fake-whisper",
                     DATA_DIR=str(tmp_path / "q"), HEARING_RETENTION_HOURS=0.0001)
    client = quick.test_client()
    recording = hearing(tmp_path / "audience.wav", 0.2)
    old = upload_whole(client, recording).json["id"]
    start_worker(app=quick)
    assert finished(client, old)["state"] == "done"
    with db.connection() as conn:  # long past its retention
        conn.execute("UPDATE jobs SET finished_at = now() - interval '1 hour'")
    assert upload_whole(client, recording).status_code == 202
    assert client.get(f"{API}/{old}").json["state"] == "done"  # the workers' purge will take it


def test_an_upload_never_completed_is_purged_and_its_record_closed_interrupted(
        hearing_app, tmp_path):
    client = hearing_app.test_client()
    data = hearing(tmp_path / "audience.wav", 0.2).read_bytes()

    def open_upload() -> str:
        opened = client.post(f"{API}/uploads", json={"filename": "audience.wav", "size": len(data)})
        assert opened.status_code == 201, opened.json
        part = client.put(f"{API}/{opened.json['id']}/upload?offset=0", data=data[:4096],
                          content_type="application/octet-stream")
        assert part.status_code == 200, part.json
        return opened.json["id"]

    abandoned, uploading = open_upload(), open_upload()
    with db.connection() as conn:
        # Both opened 49 h ago; one got no part since, the other its last part just now.
        conn.execute("UPDATE audit_open SET started_at = now() - interval '49 hours'")
        conn.execute("UPDATE jobs SET created_at = now() - interval '49 hours'")
        conn.execute("UPDATE jobs SET updated_at = now() - interval '49 hours' WHERE id = %s",
                     (abandoned,))
    result = hearing_app.test_cli_runner().invoke(args=["jobs", "purge", "--kind", "transcription"])
    assert result.exit_code == 0, result.output
    assert "transcription : 1 supprimé(s), conservés 48 heures (PLUME_HEARING_RETENTION_HOURS)." \
        in result.output

    assert client.get(f"{API}/{abandoned}").status_code == 404
    resumed = client.put(f"{API}/{abandoned}/upload?offset=4096", data=data[4096:8192],
                         content_type="application/octet-stream")
    assert resumed.status_code == 404  # the pane resuming it hears it is gone
    rows, still_open = records_of(abandoned)
    assert [(r[0], r[1], r[2]) for r in rows] == [(abandoned, "error", "interrompu")]
    assert still_open == 0
    # The other goes on, its record open; the audit room's sweep closes nothing twice.
    assert client.get(f"{API}/{uploading}").json["upload"]["received"] == 4096
    assert records_of(uploading)[1] == 1
    assert close_interrupted(hearing_app) == 0
    assert len(records_of(abandoned)[0]) == 1
