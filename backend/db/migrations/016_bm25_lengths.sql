-- BM25 ranks a passage by how often it holds each word of the query (read from passages.tsv),
-- how rare the word is (lexeme_counts) and how long the passage is against the average. The
-- length is stored with each passage (the words the analyser kept: stop words are not
-- counted), and the lengths' sum beside the counts, so both come from the same count.
ALTER TABLE passages ADD COLUMN terms integer;
UPDATE passages SET terms = (SELECT coalesce(sum(cardinality(positions)), 0) FROM unnest(tsv));
ALTER TABLE passages ALTER COLUMN terms SET NOT NULL;

ALTER TABLE lexeme_counts_total ADD COLUMN terms bigint NOT NULL DEFAULT 0;
UPDATE lexeme_counts_total SET terms = (SELECT coalesce(sum(terms), 0) FROM passages);
