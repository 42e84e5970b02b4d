-- Case law: decisions, their passages (full text + embedding), and the embedding model in use.

CREATE TABLE decisions (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source_id      text NOT NULL UNIQUE,          -- the source's identifier (Judilibre id, file)
    ecli           text,
    jurisdiction   text NOT NULL DEFAULT '',
    chamber        text,
    number         text,
    decision_date  date,
    solution       text,
    publication    text,
    summary        text,                          -- official sommaire, when published
    themes         text[] NOT NULL DEFAULT '{}',  -- titrage
    nac            text,
    source         text,
    license        text,
    -- Open data is public; a court's own decisions may be private to listed jurisdictions.
    visibility     text NOT NULL DEFAULT 'public' CHECK (visibility IN ('public', 'private')),
    private_to     text[] NOT NULL DEFAULT '{}',
    text           text NOT NULL,
    zones          jsonb NOT NULL DEFAULT '[]',   -- [{"zone", "start", "end"}] used for passages
    zoning         text NOT NULL DEFAULT 'derived' CHECK (zoning IN ('source', 'adjusted', 'derived')),
    passage_count  integer NOT NULL DEFAULT 0,
    content_hash   text NOT NULL,
    -- Folded copies the search filters compare against (« cour d'appel » finds « Cour d'appel de Nîmes »).
    jurisdiction_key text GENERATED ALWAYS AS (lower(plume_unaccent(jurisdiction))) STORED,
    chamber_key    text GENERATED ALWAYS AS (lower(plume_unaccent(coalesce(chamber, '')))) STORED,
    solution_key   text GENERATED ALWAYS AS (lower(plume_unaccent(coalesce(solution, '')))) STORED,
    ingested_at    timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    CHECK (visibility = 'public' OR cardinality(private_to) > 0)
);
CREATE INDEX decisions_jurisdiction_idx ON decisions (jurisdiction_key text_pattern_ops);
CREATE INDEX decisions_date_idx ON decisions (decision_date);
CREATE INDEX decisions_private_to_idx ON decisions USING gin (private_to) WHERE visibility = 'private';

CREATE TABLE passages (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    decision_id   bigint NOT NULL REFERENCES decisions (id) ON DELETE CASCADE,
    zone          text NOT NULL,
    ordinal       integer NOT NULL,
    start_offset  integer NOT NULL,   -- into decisions.text: text = substr(decision text, start+1, end-start)
    end_offset    integer NOT NULL,
    text          text NOT NULL,
    content_hash  text NOT NULL,      -- of the whitespace-normalised text: key of its embedding
    tsv           tsvector GENERATED ALWAYS AS (to_tsvector('french', plume_unaccent(text))) STORED,
    embedding     vector(384),        -- NULL until the background embedder fills it
    UNIQUE (decision_id, ordinal),
    CHECK (0 <= start_offset AND start_offset < end_offset)
);
CREATE INDEX passages_tsv_idx ON passages USING gin (tsv);
CREATE INDEX passages_embedding_idx ON passages USING hnsw (embedding vector_cosine_ops)
    WITH (m = 16, ef_construction = 64);
CREATE INDEX passages_pending_idx ON passages (id) WHERE embedding IS NULL;
CREATE INDEX passages_hash_idx ON passages (content_hash);

-- Which model produced passages.embedding. A different configured model clears the
-- vectors and the background embedder computes them again.
CREATE TABLE embedding_model (
    singleton   boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    model       text NOT NULL,
    dimension   integer NOT NULL,
    changed_at  timestamptz NOT NULL DEFAULT now()
);
