-- Finding a decision by its number however it is typed (« 23-11537 », « 23 11.537 »,
-- « pourvoi n°23-11.537 », « 21/01234 »): numbers are compared on a folded key, their
-- letters and digits only, and looked up through a trigram index that serves the exact
-- match (a regular expression on the key) as well as near misses (similarity).
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- One key per number the decision carries (a judgment joining several pourvois stores them
-- as « 17-18.194, 16-21.165 »), space-separated: « 1718194 1621165 ». NULL without a number.
-- backend/retrieval/numbers.py folds a query the same way (number_key()).
CREATE OR REPLACE FUNCTION plume_number_key(number text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT AS $$
  SELECT nullif(array_to_string(ARRAY(
           SELECT key FROM (
             SELECT lower(regexp_replace(part, '[^[:alnum:]]+', '', 'g')) AS key, n
             FROM regexp_split_to_table(number, '\s*(?:[,;]|\s(?:et|and)\s)\s*')
                  WITH ORDINALITY AS parts (part, n)) keys
           WHERE key <> '' ORDER BY n), ' '), '')
$$;

ALTER TABLE decisions ADD COLUMN number_key text GENERATED ALWAYS AS (plume_number_key(number)) STORED;
CREATE INDEX decisions_number_key_idx ON decisions USING gin (number_key gin_trgm_ops);
