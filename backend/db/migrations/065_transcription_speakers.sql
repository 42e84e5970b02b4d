-- The speakers a person names in the Word pane (« changer d'intervenant »), beside the
-- hearing's job: [{"from": seconds, "speaker": "Me Durand"}], each naming the speaker from
-- that time of the recording on. Applied to the transcript the API and the exports give;
-- deleted with the job (retention, DELETE).
CREATE TABLE transcription_speakers (
    job_id     uuid PRIMARY KEY REFERENCES jobs (id) ON DELETE CASCADE,
    changes    jsonb NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
