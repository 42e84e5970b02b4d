-- The passages holding each lexeme are kept up to date by changes rather than recounted:
-- each stored batch adds its passages' lexemes here (and a replaced or withdrawn decision
-- takes its own away) in its own transaction, and the next refresh folds these rows into
-- lexeme_counts (retrieval.ingest.refresh_lexeme_counts). A recount read every passage
-- ever stored, so a small load into a large corpus paid for the whole corpus.
-- Append-only, no key: batches stored at once never wait on each other's rows.
CREATE TABLE lexeme_count_changes (
    lexeme   text NOT NULL,
    passages integer NOT NULL
);

-- Counted once more here, so the changes start from counts that hold every passage.
DELETE FROM lexeme_counts;
INSERT INTO lexeme_counts (lexeme, passages) SELECT word, ndoc FROM ts_stat('SELECT tsv FROM passages');
DELETE FROM lexeme_counts_total;
INSERT INTO lexeme_counts_total (passages, terms, decisions)
SELECT count(*), coalesce(sum(terms), 0), (SELECT count(*) FROM decisions) FROM passages;
