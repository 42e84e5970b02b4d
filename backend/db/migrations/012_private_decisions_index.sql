-- Search asks, before each query, whether any private decision is hidden from the user;
-- when none is (the usual case: open data, or a court's own decisions seen by its own
-- magistrates), the visibility join disappears from the query. This index makes that
-- question a look at the private decisions only.
CREATE INDEX decisions_private_idx ON decisions (id) WHERE visibility = 'private';
