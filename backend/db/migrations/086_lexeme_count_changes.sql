-- The passages holding each lexeme are brought up to date rather than recounted: a refresh
-- adds the lexemes of the passages stored since the last one (ids above `last_passage`)
-- and takes away those of the counted passages deleted since (a replaced or withdrawn
-- decision records them here before it goes); retrieval.ingest.refresh_lexeme_counts.
-- A recount read every passage ever stored, so a small load into a large corpus paid for
-- the whole corpus.
CREATE TABLE lexeme_count_changes (
    lexeme   text NOT NULL,
    passages integer NOT NULL
);
ALTER TABLE lexeme_counts_total ADD COLUMN last_passage bigint NOT NULL DEFAULT 0;

-- Counted once more here, so the refreshes start from counts that hold every passage.
DELETE FROM lexeme_counts;
INSERT INTO lexeme_counts (lexeme, passages) SELECT word, ndoc FROM ts_stat('SELECT tsv FROM passages');
DELETE FROM lexeme_counts_total;
INSERT INTO lexeme_counts_total (passages, terms, decisions, last_passage)
SELECT count(*), coalesce(sum(terms), 0), (SELECT count(*) FROM decisions), coalesce(max(id), 0)
FROM passages;
