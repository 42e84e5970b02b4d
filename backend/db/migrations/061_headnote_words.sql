-- A decision's headnote — its titrage (the keyword chain of the Cour de cassation's
-- thesaurus) and its sommaire — is searched as a field of its own: a query that names the
-- subject a headnote names finds that decision even when its reasons use other words
-- (retrieval/search.py, the « headnote » leg). Analysed like the passages (migration 060).
--
-- array_to_string() is only STABLE because some element types print differently with the
-- settings; text[] does not, so the wrapper may say IMMUTABLE, as a generated column needs.
CREATE FUNCTION plume_headnote(themes text[], summary text) RETURNS tsvector
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN to_tsvector('plume_french'::regconfig,
                       coalesce(array_to_string(themes, ' – '), '') || E'\n' || coalesce(summary, ''));

ALTER TABLE decisions
    ADD COLUMN headnote_tsv tsvector GENERATED ALWAYS AS (plume_headnote(themes, summary)) STORED;
CREATE INDEX decisions_headnote_idx ON decisions USING gin (headnote_tsv);
