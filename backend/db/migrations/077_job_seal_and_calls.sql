-- Cancel wins (backend/jobs/): a run about to record its success first seals its job; a
-- sealed job no longer accepts a cancel, and a job whose cancel was accepted cannot be sealed.
-- Both are one conditional UPDATE of the row, so exactly one of them wins.
ALTER TABLE jobs ADD COLUMN sealed boolean NOT NULL DEFAULT false;

-- Host calls of a job, written before each call is sent and again when its answer is in:
-- a call left « sent » by a run whose worker died was spent at the host though its step never
-- finished; the one record of the job counts it (with the usage estimated before sending).
-- Counts only, never text; deleted with the job.
CREATE TABLE job_calls (
    job_id     uuid NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    id         bigint GENERATED ALWAYS AS IDENTITY,
    step       text NOT NULL,
    attempt    integer NOT NULL,
    state      text NOT NULL CHECK (state IN ('sent', 'answered', 'failed')),
    usage      jsonb NOT NULL DEFAULT '{}',
    sent_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (job_id, id)
);
