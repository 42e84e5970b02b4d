-- Keep each passage's vector inside its row (STORAGE MAIN) instead of out-of-line in TOAST
-- (pgvector's default, EXTERNAL). An exact vector search through a selective filter reads
-- thousands of vectors: out of line, each costs an extra index lookup and page read. The
-- text and the full-text vector (STORAGE EXTENDED) leave the row first when it is too wide.
-- Rows written before this migration keep their layout until their vector is written again
-- (a changed decision re-ingested, or a model change that recomputes the vectors).
ALTER TABLE passages ALTER COLUMN embedding SET STORAGE MAIN;
