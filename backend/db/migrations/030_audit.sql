-- AI Act record-keeping (Art. 12): one row per AI interaction, later events, one hash chain.
--
-- Interactions and events share one chain: `seq` is the position in the chain (contiguous,
-- assigned under the lock of `audit_chain_head`), `prev_hash` the hash of the record at
-- `seq - 1`, `hash` the SHA-256 of this record's canonical JSON (see backend/audit/chain.py).
-- No prompt, document or answer text lives here; see `audit_content` for the opt-in.

CREATE TABLE audit_interactions (
    seq             bigint PRIMARY KEY,
    id              uuid NOT NULL UNIQUE,
    recorded_at     timestamptz NOT NULL,
    started_at      timestamptz NOT NULL,
    user_hash       text NOT NULL,
    roles           text[] NOT NULL DEFAULT '{}',
    jurisdictions   text[] NOT NULL DEFAULT '{}',
    kind            text NOT NULL,
    task            text NOT NULL,
    model           text,
    host            text,
    prompt_version  text,
    source_ids      text[] NOT NULL DEFAULT '{}',
    prompt_tokens   integer,
    completion_tokens integer,
    ttft_ms         double precision,
    duration_ms     double precision NOT NULL,
    outcome         text NOT NULL CHECK (outcome IN ('ok', 'error', 'stopped')),
    error_code      text,
    prev_hash       text NOT NULL,
    hash            text NOT NULL
);
CREATE INDEX audit_interactions_recorded_at ON audit_interactions (recorded_at);
CREATE INDEX audit_interactions_started_at ON audit_interactions (started_at);

-- No foreign key to audit_interactions on purpose: pruning removes a prefix of the chain,
-- and an event recorded after its interaction must survive it unchanged (its hash covers it).
CREATE TABLE audit_events (
    seq             bigint PRIMARY KEY,
    id              uuid NOT NULL UNIQUE,
    interaction_id  uuid NOT NULL,
    recorded_at     timestamptz NOT NULL,
    user_hash       text NOT NULL,
    kind            text NOT NULL CHECK (kind IN ('inserted', 'edited', 'discarded', 'feedback')),
    useful          boolean,
    comment         text,
    prev_hash       text NOT NULL,
    hash            text NOT NULL
);
CREATE INDEX audit_events_interaction ON audit_events (interaction_id);
CREATE INDEX audit_events_recorded_at ON audit_events (recorded_at);

-- The tail of the chain, one row. Writers lock it (SELECT ... FOR UPDATE) in the same
-- transaction as their insert, which serialises appends across threads, workers and hosts,
-- and lets `audit verify` notice records deleted from the end.
CREATE TABLE audit_chain_head (
    singleton       boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    seq             bigint NOT NULL,
    hash            text NOT NULL
);

-- Where the retained chain starts once `audit prune` has removed a prefix: the seq and hash
-- of the last pruned record, so the first kept record still links to something known.
CREATE TABLE audit_chain_anchor (
    singleton       boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    seq             bigint NOT NULL,
    hash            text NOT NULL,
    pruned_at       timestamptz NOT NULL,
    pruned_records  bigint NOT NULL
);

-- Opt-in content log (PLUME_AUDIT_CONTENT_LOGGING), kept apart with its own retention.
CREATE TABLE audit_content (
    id              bigserial PRIMARY KEY,
    interaction_id  uuid NOT NULL,
    recorded_at     timestamptz NOT NULL DEFAULT now(),
    part            text NOT NULL,
    content         text NOT NULL
);
CREATE INDEX audit_content_recorded_at ON audit_content (recorded_at);
CREATE INDEX audit_content_interaction ON audit_content (interaction_id);

-- Prometheus counters and histogram buckets, bumped in the same transaction as each record:
-- shared by every worker and instance, monotonic (pruning does not touch them).
CREATE TABLE audit_metrics (
    name            text NOT NULL,
    labels          text NOT NULL,
    value           double precision NOT NULL,
    PRIMARY KEY (name, labels)
);
