-- Foundation: extensions and the accent-folding function used by French full-text search.
CREATE EXTENSION IF NOT EXISTS vector;

-- `unaccent` is a contrib extension that managed and embedded PostgreSQL servers do not
-- all ship (pgserver does not). Folding the accents of French text with translate() is
-- IMMUTABLE, so it can be used in generated columns and indexes everywhere.
CREATE OR REPLACE FUNCTION plume_unaccent(input text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT AS $$
  SELECT replace(replace(replace(replace(translate(
    input,
    'ÀÁÂÃÄÅàáâãäåÇçÈÉÊËèéêëÌÍÎÏìíîïÑñÒÓÔÕÖòóôõöÙÚÛÜùúûüÝýÿŸ',
    'AAAAAAaaaaaaCcEEEEeeeeIIIIiiiiNnOOOOOoooooUUUUuuuuYyyY'
  ), 'œ', 'oe'), 'Œ', 'OE'), 'æ', 'ae'), 'Æ', 'AE')
$$;
