-- A keyword list (a titrage chain) also ranks decisions as whole documents by BM25
-- (retrieval/search.py, the « whole » leg), whose length normalisation needs the average
-- decision's length: the decisions counted beside the passages and their lengths.
ALTER TABLE lexeme_counts_total ADD COLUMN decisions bigint NOT NULL DEFAULT 0;
UPDATE lexeme_counts_total SET decisions = (SELECT count(*) FROM decisions);
