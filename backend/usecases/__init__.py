"""The use cases: what each task asks and in which order (floor 3 of the house).

Each module is one use case over the rooms below it (the ``llm`` gateway, ``retrieval``,
``documents``, ``audit``, ``auth``), and each goes through :mod:`.metered`, the one place
that authorises, admits (quota), records and charges a call:

- :mod:`.assist`: the assistance tasks streamed to the panes (summaries, rewriting,
  drafts grounded in case law, mail summary with its fields, replies, attachments),
  with :mod:`.tasks` (what each accepts), :mod:`.mapreduce` (long documents) and
  :mod:`.mail_fields` (the structured fields of a mail, checked against it);
- :mod:`.orientation`: which service of the court should handle a mail
  (settings in :mod:`.mail_settings`);
- :mod:`.transcription`: dictation;
- :mod:`.search`: precedent search.

Views in ``backend/api/`` call these functions and shape the HTTP answer; nothing here
imports ``api``.
"""
