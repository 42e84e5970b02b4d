-- A decision's text and its passages' texts are stored without compression: compressing
-- them was a large share of the server's CPU per passage stored (a decision's text, then
-- its passages' texts again) and every read paid to decompress them; the space saved is
-- the cheaper resource (docs/scaling.md). Rows already stored keep their layout; both
-- read the same way.
ALTER TABLE decisions ALTER COLUMN text SET STORAGE EXTERNAL;
ALTER TABLE passages ALTER COLUMN text SET STORAGE EXTERNAL;
