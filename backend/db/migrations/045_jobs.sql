-- Background jobs (backend/jobs/): long work (a dossier, a hearing) as rows any worker may pick.
--
-- A job is picked with SELECT … FOR UPDATE SKIP LOCKED and held by a lease: `lease_until` is
-- pushed forward by its worker's heartbeat; a job still `running` after its lease has expired
-- belongs to a dead worker and is picked again. `lease_token` changes at each pick, and every
-- write a worker makes for a job names it, so a worker that lost its lease (paused, cut off)
-- can no longer write anything for that job.
-- `params` holds small JSON only (ids, options, names of stored blobs), never document text.

CREATE TABLE jobs (
    id               uuid PRIMARY KEY,
    owner            text NOT NULL,             -- the user's pseudonymous hash
    kind             text NOT NULL,
    state            text NOT NULL DEFAULT 'queued'
                     CHECK (state IN ('queued', 'running', 'done', 'failed', 'cancelled')),
    params           jsonb NOT NULL DEFAULT '{}',
    result           jsonb,
    error_code       text,
    error_message    text,                      -- French, for the user
    progress_done    bigint NOT NULL DEFAULT 0,
    progress_total   bigint,
    progress_message text,
    attempts         integer NOT NULL DEFAULT 0,
    max_attempts     integer NOT NULL CHECK (max_attempts >= 1),
    cancel_requested boolean NOT NULL DEFAULT false,
    worker           text,
    lease_token      uuid,
    lease_until      timestamptz,
    run_after        timestamptz NOT NULL DEFAULT now(),
    version          bigint NOT NULL DEFAULT 1, -- bumped by every change a reader may wait for
    created_at       timestamptz NOT NULL DEFAULT now(),
    started_at       timestamptz,
    updated_at       timestamptz NOT NULL DEFAULT now(),
    finished_at      timestamptz
);
-- What pickers scan: queued jobs in order, running jobs by lease.
CREATE INDEX jobs_queued ON jobs (run_after, created_at) WHERE state = 'queued';
CREATE INDEX jobs_leases ON jobs (lease_until) WHERE state = 'running';
-- Pickers count each owner's running jobs: one user's twenty dossiers do not hold up the others.
CREATE INDEX jobs_running_owner ON jobs (owner) WHERE state = 'running';
CREATE INDEX jobs_owner ON jobs (owner, created_at DESC);
CREATE INDEX jobs_finished ON jobs (finished_at) WHERE finished_at IS NOT NULL;

-- One row per step a handler ran: the result of a finished step is what a restart reuses.
CREATE TABLE job_steps (
    job_id      uuid NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    key         text NOT NULL,
    state       text NOT NULL CHECK (state IN ('running', 'done', 'failed')),
    result      jsonb,
    attempts    integer NOT NULL DEFAULT 1,
    error_code  text,
    started_at  timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    PRIMARY KEY (job_id, key)
);

-- Input files of a job (a dossier's files, a hearing's audio), stored in chunks of bytea:
-- written and read a chunk at a time (a 500 MB recording never sits whole in memory),
-- appendable part by part (resumable uploads), deleted with their job by the cascade.
CREATE TABLE job_blobs (
    job_id       uuid NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    name         text NOT NULL,
    content_type text,
    size         bigint NOT NULL DEFAULT 0,
    sha256       text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (job_id, name)
);

CREATE TABLE job_blob_chunks (
    job_id uuid NOT NULL,
    name   text NOT NULL,
    seq    integer NOT NULL,
    data   bytea NOT NULL,
    PRIMARY KEY (job_id, name, seq),
    FOREIGN KEY (job_id, name) REFERENCES job_blobs (job_id, name) ON DELETE CASCADE
);
-- Audio, PDF and .docx are already compressed: store chunks out of line without trying again.
ALTER TABLE job_blob_chunks ALTER COLUMN data SET STORAGE EXTERNAL;
