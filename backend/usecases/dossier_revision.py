"""A dossier's synthesis written again — « Régénérer », or « Affiner » (« plus court », « plus
ferme », the user's words) — from the previous synthesis, without reading the files again.

Flow::

    POST /api/v1/dossiers/{id}/revisions ──revise()──▶ the dossier is the user's and done;
                                 metered admission (its own record, kind « dossier »);
                                 job « dossier-revision » submitted (id = the record's)
    worker ──run()──▶ write:<n>  the previous synthesis's items (faits, procédure,
                                 prétentions, points), with their references, in parts that
                                 fit the model's window: one model call per part, with the
                                 request; JSON read leniently, asked once more, else the part
                                 is kept as it was
                    ▶ checks     every reference checked again against the pages the dossier
                                 read (its stored reading steps: nothing is read again)
                    ▶ record     finished by the run that ends the job

The pièces, the court, the n° RG and the notices come from the previous synthesis; a
revision of a revision starts from that one (``base``). Revisions are deleted with their
dossier (:mod:`.dossier`), by the user or by its retention, and purged on that retention
counted from their own end when their dossier still stands.
"""
from __future__ import annotations

import json
import logging
import threading
from datetime import timedelta
from typing import Any

from flask import current_app

from .. import documents, jobs, llm
from ..auth import User, user_hash
from ..errors import AppError, NotFound, ValidationError
from ..llm.prompts import Fence, load
from ..llm.tokens import chars_for_tokens, estimate_messages
from . import dossier
from . import metered as metering
from .dossier_answers import as_list, dedupe, total_tokens
from .metered import metered

log = logging.getLogger(__name__)

KIND = dossier.REVISION_KIND
PROMPT = "dossier-revise"
WRITTEN = ("faits", "procedure", "pretentions", "points")
MAX_INSTRUCTION_CHARS = 300
REGENERATE = ("une nouvelle rédaction, aussi fidèle et complète que la précédente, "
              "formulée autrement")
WRITE_CONCURRENCY = 3


def _instruction(value: Any) -> str | None:
    """The user's request on one line (None: « Régénérer »)."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValidationError("instruction", "« instruction » est un texte (ou null pour "
                                             "régénérer).")
    text = " ".join("".join(c if c.isprintable() else " " for c in value).split())
    if len(text) > MAX_INSTRUCTION_CHARS:
        raise ValidationError("instruction", f"La demande d'affinage dépasse "
                                             f"{MAX_INSTRUCTION_CHARS} caractères.")
    return text or None


def _revision_job(owner: str, dossier_id: str, revision_id: str) -> jobs.Job:
    jobs.check_owner(revision_id, owner, kind=KIND)
    job = jobs.get(revision_id, owner)
    if job.params.get("dossier") != dossier_id:
        raise NotFound("Cette version ne fait pas partie de ce dossier.",
                       code="version_introuvable", detail="revision of another dossier")
    return job


def revise(user: User, dossier_id: str, body: Any) -> dict[str, Any]:
    """Start writing the dossier's synthesis again: 201's JSON (the revision, queued)."""
    if not isinstance(body, dict):
        raise ValidationError("body", "Le corps de la requête doit être un objet JSON.")
    instruction = _instruction(body.get("instruction"))
    base = body.get("base")
    owner = user_hash(user.id)
    job = dossier._job(user, dossier_id)
    if job.state != "done":
        raise AppError("La synthèse de ce dossier n'est pas encore prête : elle ne peut pas être "
                       "retravaillée.", status=409, code="synthese_non_prete",
                       detail=f"dossier state {job.state}")
    if base is not None:
        if not isinstance(base, str):
            raise ValidationError("base", "« base » est l'identifiant d'une version de la synthèse.")
        if _revision_job(owner, dossier_id, base).state != "done":
            raise AppError("Cette version de la synthèse n'est pas terminée.", status=409,
                           code="synthese_non_prete", detail="base revision not done")
    with metered(user, dossier.KIND, dossier.TASK) as call:
        record = call.hand_over()
        revision_id = jobs.submit(KIND, owner, {"dossier": dossier_id, "instruction": instruction,
                                                "base": base, "title": job.params.get("title"),
                                                "record": record}, job_id=call.id)
    log.info("dossier revision submitted", extra={"dossier_id": dossier_id,
                                                  "revision_id": revision_id,
                                                  "refined": instruction is not None})
    return revision_json(jobs.get(revision_id, owner))


def revision_json(job: jobs.Job) -> dict[str, Any]:
    """A revision as the API shows it: its state, and its synthesis once done."""
    result = job.result if isinstance(job.result, dict) else {}
    return {"id": job.id, "dossier_id": job.params.get("dossier"), "state": job.state,
            "instruction": job.params.get("instruction"), "base": job.params.get("base"),
            "created_at": job.created_at.isoformat(),
            "finished_at": job.finished_at.isoformat() if job.finished_at else None,
            "progress": {"done": job.progress_done, "total": job.progress_total,
                         "message": job.progress_message or "En file d'attente…"},
            "error": ({"error": job.error_code, "message": job.error_message}
                      if job.error_code else None),
            "synthesis": result.get("synthesis") if job.state == "done" else None}


def get(user: User, dossier_id: str, revision_id: str) -> dict[str, Any]:
    dossier._job(user, dossier_id)
    return revision_json(_revision_job(user_hash(user.id), dossier_id, revision_id))


def cancel(user: User, dossier_id: str, revision_id: str) -> dict[str, Any]:
    """Stop writing a version (« Arrêter »): the previous one stays; cancel wins as for a
    dossier (409 only in the instant the new version is being recorded)."""
    dossier._job(user, dossier_id)
    owner = user_hash(user.id)
    _revision_job(owner, dossier_id, revision_id)
    job = jobs.cancel(revision_id, owner)
    if job.state == "running" and not job.cancel_requested:
        raise AppError("Trop tard pour arrêter : la nouvelle version vient d'être écrite.",
                       status=409, code="annulation_impossible",
                       detail=f"revision {revision_id} is sealed")
    if job.state == "cancelled" and job.attempts == 0:  # no run will record it
        dossier._finish_record(job.params["record"], "stopped", None, measures={"runs": 0})
    return revision_json(job)


def synthesis_of(user: User, dossier_id: str, revision_id: str) -> dict[str, Any]:
    """A finished revision's synthesis (409 until then), e.g. for the .docx export."""
    answer = get(user, dossier_id, revision_id)
    if answer["state"] != "done":
        raise AppError("Cette version de la synthèse n'est pas encore prête.", status=409,
                       code="synthese_non_prete", detail=f"revision state {answer['state']}")
    return answer["synthesis"]


# --- the job ------------------------------------------------------------------------------------

def _close_orphans(purged: list[jobs.Abandoned]) -> None:
    """A version still running when the purge deleted its dossier went with it: its record
    ends as a deleted dossier's running versions' do."""
    for job in purged:
        if job.params.get("record"):
            dossier._finish_record(job.params["record"], "stopped", None)


@jobs.handler(KIND, retention=jobs.Retention("DOSSIER_RETENTION_DAYS", timedelta(days=1),
                                             follows="dossier", abandoned=_close_orphans))
def run(ctx: jobs.JobContext) -> dict[str, Any]:
    """Write again, check, record (see the module docstring)."""
    state = ctx.params["record"]
    call = metering.resume(state)
    work = RevisionRun(ctx, call)

    def finish(outcome: str, code: str | None, _result: Any) -> None:
        work.charge()
        dossier._finish_record(state, outcome, code, call, work.measures())

    result = metering.job_verdict(ctx, call, work.execute, finish)
    log.info("dossier revision finished", extra={"revision_id": ctx.id, **work.measures()})
    return result


class RevisionRun:
    """One run of a revision job (a resumed run gets its finished parts back)."""

    def __init__(self, ctx: jobs.JobContext, call: metering.Call):
        self.ctx, self.call = ctx, call
        self.instruction: str | None = ctx.params.get("instruction")
        self.fence = Fence()
        self.parts_total = 0
        self.parts_done = 0
        self.lock = threading.Lock()
        self.cancel_flag = dossier._CancelFlag(ctx)

    def execute(self) -> dict[str, Any]:
        owner, params = self.ctx.owner, self.ctx.params
        try:
            source = jobs.get(params["dossier"], owner)
            base = jobs.get(params["base"], owner) if params.get("base") else source
        except NotFound:
            raise jobs.Failure("Le dossier a été supprimé : sa synthèse ne peut plus être "
                               "retravaillée.", code="dossier_introuvable") from None
        previous = base.result["synthesis"]
        references = self._references(source)
        gw = llm.gateway()
        model = gw.model_for(dossier.MODEL_TASK)
        self.output = min(dossier.MAP_OUTPUT_TOKENS, gw.max_output_tokens(model))
        parts = self._parts(previous, gw.context_tokens(model))
        self.parts_total = len(parts)
        self.ctx.progress(0, len(parts), "Nouvelle rédaction de la synthèse…")
        answers = self.ctx.map_steps(
            [(f"write:{i}", lambda i=i, p=part: self._write(gw, i, len(parts), p))
             for i, part in enumerate(parts)], concurrency=WRITE_CONCURRENCY)
        if self.ctx.cancelled:
            raise jobs.Cancelled()
        synthesis = self._synthesis(previous, parts, answers, references, model)
        self.call.update(model=model, prompt_version=load(PROMPT).id)
        self.ctx.seal()  # cancel wins until here
        return {"synthesis": synthesis}

    def _references(self, source: jobs.Job) -> dossier.References:
        """The pages the dossier read (its stored reading steps), for the checks."""
        inventory = (source.result or {}).get("inventory") or source.params.get("inventory") or []
        readable = {f["name"] for f in inventory if not f.get("error")}
        pages: dict[tuple[str, int], dict[str, Any]] = {}
        for key, chunk in jobs.step_results(source.id, self.ctx.owner, "read:").items():
            name = key[len("read:"):].rsplit(":", 1)[0]
            if name in readable and isinstance(chunk, dict) and not chunk.get("error"):
                for page in chunk.get("pages") or []:
                    pages[(name, page["n"])] = page
        names = {f["name"] for f in inventory}
        return dossier.References(pages, names, documents.low_confidence(current_app.config))

    def _parts(self, previous: dict[str, Any], context: int) -> list[list[dict[str, Any]]]:
        """The items to write again, in order, in parts that fit the model's window."""
        overhead = estimate_messages(load(PROMPT).messages(
            fence=self.fence.name, part="100", parts="100", title="x" * 60,
            instruction="x" * MAX_INSTRUCTION_CHARS, document=""))
        limit = chars_for_tokens(max(dossier.MIN_PART_TOKENS,
                                     context - self.output - overhead - dossier.SAFETY_TOKENS))
        parts, current, size = [], [], 0
        for section in previous.get("sections") or []:
            if section.get("id") not in WRITTEN:
                continue
            for item in section.get("items") or []:
                line = _as_line(section["id"], item)
                if current and size + len(line) > limit:
                    parts.append(current)
                    current, size = [], 0
                current.append({"section": section["id"], "item": item, "line": line})
                size += len(line) + 1
        if current:
            parts.append(current)
        return parts

    def _write(self, gw: llm.Gateway, index: int, total: int,
               part: list[dict[str, Any]]) -> dict[str, Any]:
        """One model call over one part; JSON read leniently, asked once more if malformed."""
        document = self.fence.wrap("synthese", "\n".join(p["line"] for p in part))
        messages = load(PROMPT).messages(
            fence=self.fence.name, part=str(index + 1), parts=str(total),
            title=self.ctx.params.get("title") or "", document=document,
            instruction=f"« {self.instruction} »" if self.instruction else REGENERATE)
        parsed, _, _ = dossier.ask_json(self.ctx, gw, f"write:{index}", messages, self.output,
                                        self.cancel_flag, {"revision_id": self.ctx.id, "part": index})
        with self.lock:
            self.parts_done += 1
            done = self.parts_done
        self.ctx.progress(done, total, f"Nouvelle rédaction : partie {done} sur {total}")
        return {"ok": parsed is not None, "data": parsed}

    def _synthesis(self, previous: dict[str, Any], parts: list[list[dict[str, Any]]],
                   answers: list[dict[str, Any]], references: dossier.References,
                   model: str) -> dict[str, Any]:
        written: dict[str, list[dict[str, Any]]] = {key: [] for key in WRITTEN}
        kept_as_was = 0
        for part, answer in zip(parts, answers):
            if not answer.get("ok"):
                kept_as_was += 1
                for entry in part:
                    written[entry["section"]].append(entry["item"])
                continue
            for key in WRITTEN:
                for raw in as_list(answer["data"].get(key)):
                    item = references.item(raw)
                    if item is not None:
                        written[key].append(item)
        written = {key: dedupe(items) for key, items in written.items()}
        for key in ("faits", "procedure"):
            written[key].sort(key=lambda i: (i["date"] is None, i["date"] or ""))
        written["pretentions"].sort(key=lambda i: (i["party"] or "").lower())
        sections = [{**s, "items": written[s["id"]]} if s.get("id") in WRITTEN else s
                    for s in previous.get("sections") or []]
        said = f"« {self.instruction} »" if self.instruction else "nouvelle rédaction"
        notices = [n for n in previous.get("notices") or [] if not n.startswith("Version retravaillée")]
        notices.insert(0, f"Version retravaillée ({said}) à partir de la synthèse précédente, "
                          "sans relire les pièces : chaque référence a été vérifiée de nouveau.")
        if kept_as_was:
            notices.append(f"{kept_as_was} partie{'s' if kept_as_was > 1 else ''} de la synthèse "
                           "n'a pas pu être retravaillée par le modèle : reprise telle quelle.")
        return {**previous, "sections": sections, "notices": notices,
                "model": {**(previous.get("model") or {}), "name": model},
                "revision": {"id": self.ctx.id, "instruction": self.instruction,
                             "base": self.ctx.params.get("base")}}

    # -- bookkeeping -------------------------------------------------------------------------
    def charge(self) -> None:
        for usage in self.ctx.spent():
            self.call.charge(usage)

    def measures(self) -> dict[str, int]:
        spent = self.ctx.spent()
        answers = [r for r in self.ctx.results("write:").values() if isinstance(r, dict)]
        return {"parts": self.parts_total, "model_calls": len(spent),
                "malformed_parts": sum(1 for r in answers if not r.get("ok")),
                "runs": self.ctx.attempt, "tokens": sum(total_tokens(u) for u in spent)}


def _as_line(section: str, item: dict[str, Any]) -> str:
    """One item of the previous synthesis as the model reads it: JSON on one line, with its
    references as « fichier, p. N »."""
    refs = [f"{r['file']}, p. {r['page']}" for r in item.get("references") or []
            if r.get("file") and r.get("page")]
    quote = next((r.get("quote") for r in item.get("references") or [] if r.get("quote")), None)
    return json.dumps({"rubrique": section, "date": item.get("date"), "partie": item.get("party"),
                       "texte": item.get("text"), "ref": refs, "citation": quote},
                      ensure_ascii=False)

