-- What one dossier took, beside its interaction record (audit_interactions holds the tokens,
-- outcome and duration; a dossier's id is its record's id): files, pages, pages recognised by
-- OCR, pages badly recognised, parts, model calls, malformed answers and runs of the job.
-- Counts only, never a name or a text; kept after the dossier itself is deleted, deleted after
-- PLUME_AUDIT_RETENTION_DAYS like the records (`python -m backend dossiers purge`, workers hourly).
CREATE TABLE dossier_measures (
    interaction_id       uuid PRIMARY KEY,
    recorded_at          timestamptz NOT NULL DEFAULT now(),
    outcome              text NOT NULL,
    files                integer NOT NULL,
    files_read           integer NOT NULL,
    pages                integer NOT NULL,
    ocr_pages            integer NOT NULL,
    low_confidence_pages integer NOT NULL,
    parts                integer NOT NULL,
    model_calls          integer NOT NULL,
    malformed_parts      integer NOT NULL,
    runs                 integer NOT NULL
);
CREATE INDEX dossier_measures_recorded_at ON dossier_measures (recorded_at);
