-- How many passages hold each lexeme. A long query (a pasted selection) searches the
-- words few passages hold, and never a word that no passage holds (a name from the
-- user's draft, a typo), which would only crowd out the telling ones. Recomputed from
-- the passages by each large ingestion (retrieval.ingest.refresh_lexeme_counts).
CREATE TABLE lexeme_counts (
    lexeme text PRIMARY KEY,
    passages integer NOT NULL
);

INSERT INTO lexeme_counts (lexeme, passages)
SELECT word, ndoc FROM ts_stat('SELECT tsv FROM passages');
