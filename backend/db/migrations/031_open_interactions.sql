-- Records opened at the start of a call (AI Act Art. 12: every use is recorded, even one cut
-- by a worker that died). The metered call writes a row here in the statement that admits it
-- (quota and record in one round trip); the audit writer deletes it in the transaction that
-- appends the finished record to the hash chain. A row that stays is a call whose worker
-- died: it is closed as « interrompu » by the next worker of the same instance (its pid is
-- gone) or, past a grace period, by any worker and by the nightly `audit prune`.
-- Not part of the chain: an open row is a promise of a record, the record is the chain's.

CREATE TABLE audit_open (
    id              uuid PRIMARY KEY,
    started_at      timestamptz NOT NULL,
    user_hash       text NOT NULL,
    roles           text[] NOT NULL DEFAULT '{}',
    jurisdictions   text[] NOT NULL DEFAULT '{}',
    kind            text NOT NULL,
    task            text NOT NULL,
    instance        text NOT NULL,
    pid             integer NOT NULL
);
CREATE INDEX audit_open_started_at ON audit_open (started_at);

-- How long an interrupted call lasted is not known: its record says so rather than invent it.
ALTER TABLE audit_interactions ALTER COLUMN duration_ms DROP NOT NULL;
