-- A passage's full-text vector (its lexemes and their positions) does not compress: every
-- stored row paid for a failed compression attempt before the vector went out of line
-- anyway. EXTERNAL moves it out of line without trying. Rows already stored keep their
-- layout; searches read both the same way.
ALTER TABLE passages ALTER COLUMN tsv SET STORAGE EXTERNAL;
