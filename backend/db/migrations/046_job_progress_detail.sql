-- A job's progress in the pane's own terms (a dossier: files read, pages recognised, parts
-- summarised, time left), besides the generic done/total/message. Small JSON, written with
-- the progress (at most twice a second), never document text.
ALTER TABLE jobs ADD COLUMN progress_detail jsonb;
