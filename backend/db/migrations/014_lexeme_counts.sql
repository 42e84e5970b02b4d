-- How many passages hold each lexeme. A long query (a pasted selection) searches the
-- words few passages hold, and never a word that no passage holds (a name from the
-- user's draft, a typo), which would only crowd out the telling ones. Recomputed from
-- the passages by each large ingestion (retrieval.ingest.refresh_lexeme_counts).
CREATE TABLE lexeme_counts (
    lexeme text PRIMARY KEY,
    passages integer NOT NULL
);

-- The passages there were at that count (one row): a word's share is its count over this
-- total, both from the same count.
CREATE TABLE lexeme_counts_total (
    passages bigint NOT NULL,
    counted_at timestamptz NOT NULL DEFAULT now()
);

INSERT INTO lexeme_counts (lexeme, passages)
SELECT word, ndoc FROM ts_stat('SELECT tsv FROM passages');
INSERT INTO lexeme_counts_total (passages) SELECT count(*) FROM passages;
