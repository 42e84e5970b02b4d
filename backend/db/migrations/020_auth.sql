-- Identity and access: the admin-managed user → jurisdictions mapping, and the quota
-- counters every worker and instance share (updated with atomic upserts).

-- Which jurisdictions' private decisions a user may search, when the identity provider
-- does not say it in a token claim. `user_key` is the Entra object id or the sign-in name
-- (UPN), lower-cased.
CREATE TABLE IF NOT EXISTS user_jurisdictions (
    user_key      text PRIMARY KEY CHECK (user_key = lower(user_key) AND user_key <> ''),
    jurisdictions text[] NOT NULL,
    updated_at    timestamptz NOT NULL DEFAULT now(),
    updated_by    text
);

-- Requests in the current one-minute window, per pseudonymous user.
CREATE TABLE IF NOT EXISTS quota_rate (
    user_hash    text PRIMARY KEY,
    window_start timestamptz NOT NULL,
    requests     integer NOT NULL
);

-- Model tokens spent per pseudonymous user, task family and day (Paris time).
CREATE TABLE IF NOT EXISTS quota_tokens (
    user_hash text NOT NULL,
    family    text NOT NULL,
    day       date NOT NULL,
    tokens    bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (user_hash, family, day)
);
