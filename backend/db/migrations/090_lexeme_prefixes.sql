-- A keyword list's words are also looked for in the other forms the corpus holds of them
-- (retrieval.search.inflections): the lexemes that begin with a query's lexeme. Whatever the
-- database's collation, `text_pattern_ops` lets that prefix lookup use an index rather than
-- read every lexeme counted.
CREATE INDEX lexeme_counts_prefix_idx ON lexeme_counts (lexeme text_pattern_ops);
