"""What the Cour de cassation's Judilibre API returns, read as it returns it.

Three shapes are recognised (documented by the API's OpenAPI description, judilibre-search
``src/swagger/*.swagger.js``, and its samples in ``../shared/judilibre/``):

- a decision (``GET /decision``): ``id``, ``jurisdiction``, ``chamber``, ``decision_date``,
  ``number`` / ``numbers``, ``ecli``, ``solution``, ``publication``, ``text``, ``zones``
  (``{"motivations": [{"start", "end"}, …], …}``, character offsets into ``text``),
  ``summary``, ``themes``, ``nac``, ``location``…;
- a batch of them (``GET /export``: ``results`` with ``batch``, ``total``, ``next_batch``;
  ``/search`` pages have the same ``results`` but abridged, without ``text``: refused with
  a French reason);
- the transaction history (``GET /transactionalhistory``: ``transactions`` of ``{"id",
  "action": "created" | "updated" | "deleted", "date"}``, by ascending date, with
  ``next_page``).

Decisions come either with codes (``resolve_references=false``: ``cc``, ``comm``, ``["b"]``,
``tj33063``, a commercial court's ``8501``) or with their French labels (``true``); both
give
the same Plume decision: codes are mapped to the labels the API resolves them to, labels
are kept. The jurisdiction is the most precise court known: « Cour d'appel de Chambéry »
rather than « Cour d'appel » when ``location`` names the seat.

A Judilibre decision becomes ``judilibre-<id>`` in Plume (the sample corpus's convention),
so a decision exported twice is updated, not doubled, and a deletion in the history finds
it. Assumption: the history is applied as a whole after the decisions loaded with it
(``python -m backend ingest export.json history.json``); a decision whose last action is
``deleted`` is removed with its passages and vectors; one created or updated again after
its deletion is kept (its new version comes through ``/export``).

``visa``, ``formation``, ``type``, ``files`` and ``rapprochements`` have no column in Plume
yet and are not kept.
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

from .records import DecisionRecord, RecordError, from_json

SOURCE_PREFIX = "judilibre-"
LICENSE = "Licence Ouverte / Etalab 2.0"
# Seats by code: the 36 cours d'appel of judilibre-search's src/taxons/ca/location.js; the
# tribunaux judiciaires (INSEE code of the seat) and commercial courts, which the API's own
# taxonomy leaves empty, from the community client pyJudilibre's enumerations (checked
# against the samples: tj33063 Bordeaux, 8501 La Roche-sur-Yon). An unknown code is kept.
LOCATIONS_FILE = Path(__file__).with_name("data") / "judilibre_locations.json"
# A .json file read in one piece (an /export batch of 1,000 long decisions is ~150 MB).
MAX_DOCUMENT_BYTES = 256 * 1024 * 1024

# The labels resolve_references=true gives (judilibre-search src/taxons, and the samples).
JURISDICTIONS = {"cc": "Cour de cassation", "ca": "Cour d'appel", "tj": "Tribunal judiciaire",
                 "tcom": "Tribunal de commerce", "cph": "Conseil de prud'hommes",
                 "tc": "Tribunal des conflits"}
CHAMBERS = {"pl": "Assemblée plénière", "mi": "Chambre mixte", "civ1": "Première chambre civile",
            "civ2": "Deuxième chambre civile", "civ3": "Troisième chambre civile",
            "comm": "Chambre commerciale financière et économique",
            "com": "Chambre commerciale financière et économique", "soc": "Chambre sociale",
            "cr": "Chambre criminelle", "crim": "Chambre criminelle", "creun": "Chambres réunies",
            "ordo": "Première présidence (Ordonnance)", "allciv": "Toutes les chambres civiles",
            "other": "Autre"}
SOLUTIONS = {"annulation": "Annulation", "avis": "Avis", "cassation": "Cassation",
             "cassation partielle": "Cassation partielle", "decheance": "Déchéance",
             "designation": "Désignation de juridiction", "irrecevabilite": "Irrecevabilité",
             "nonlieu": "Non-lieu à statuer", "qpc": "QPC renvoi", "qpcother": "QPC autres",
             "rabat": "Rabat", "reglement": "Règlement des juges", "rejet": "Rejet",
             "renvoi": "Renvoi", "autre": "Autre", "other": "Autre"}
PUBLICATIONS = {"b": "Publié au Bulletin", "r": "Publié au Rapport",
                "l": "Publié aux Lettres de chambre", "c": "Communiqué", "n": "Non publié"}


@lru_cache(maxsize=1)
def locations() -> dict[str, str]:
    """Seats by code: ``ca_chambery``, ``tj33063`` (INSEE code), a commercial court's ``8501``."""
    groups = json.loads(LOCATIONS_FILE.read_text(encoding="utf-8"))
    return {code: label for group in groups.values() for code, label in group.items()}


# --- recognising the shapes -----------------------------------------------------------

def is_decision(obj: Any) -> bool:
    """A decision as Judilibre returns it (Plume's own format has ``date``, not these)."""
    return isinstance(obj, dict) and any(name in obj for name in ("decision_date", "displayText",
                                                                  "numbers"))


def is_history(obj: Any) -> bool:
    return isinstance(obj, dict) and isinstance(obj.get("transactions"), list)


def is_judilibre(obj: Any) -> bool:
    """Whether a JSON document (a file, or a line) is one of Judilibre's shapes."""
    if isinstance(obj, list):
        return any(is_decision(item) for item in obj)
    return is_decision(obj) or is_history(obj) or (isinstance(obj, dict) and "results" in obj)


# --- decisions --------------------------------------------------------------------------

def _text(value: Any) -> str | None:
    if value is None:
        return None
    value = " ".join(str(value).split())
    return value or None


def _label(value: Any, table: dict[str, str]) -> str | None:
    """The French label of a code; a label (or an unknown code) as it is."""
    value = _text(value)
    if value is None:
        return None
    return table.get(value.lower(), value)


def _jurisdiction(raw: dict[str, Any]) -> str:
    """The most precise court: the seat's name when ``jurisdiction`` only gives its kind."""
    code = _text(raw.get("jurisdiction")) or ""
    label = JURISDICTIONS.get(code.lower()) or locations().get(code.lower()) or code
    location = _text(raw.get("location"))
    if location and label in JURISDICTIONS.values():
        seat = locations().get(location.lower(), location)
        # Commercial courts of some seats became « Tribunal des activités économiques » in
        # 2025. (The API's own samples pair a tribunal with a cour d'appel's seat: ignored.)
        if seat.startswith(label) or (label == JURISDICTIONS["tcom"]
                                      and seat.startswith("Tribunal des activités économiques")):
            return seat
    return label


def _publication(value: Any) -> str | None:
    items = value if isinstance(value, list) else [value]
    labels = [_label(item, PUBLICATIONS) for item in items]
    return ", ".join(label for label in labels if label) or None


def _number(raw: dict[str, Any]) -> str | None:
    """``number``, and the other pourvois a decision joins (``numbers``), in that order."""
    numbers = raw.get("numbers") if isinstance(raw.get("numbers"), list) else []
    found: list[str] = []
    for value in [raw.get("number"), *numbers]:
        value = _text(value)
        if value and value not in found:
            found.append(value)
    return ", ".join(found) or None


def _zones(value: Any) -> Any:
    """Judilibre's zones without the empty ones (the offsets are checked when preparing)."""
    if not isinstance(value, dict):
        return value or None  # malformed: check_zones reports it and derives the zones
    kept = {name: spans for name, spans in value.items() if spans}
    return kept or None


def decision_record(raw: Any, origin: str) -> DecisionRecord:
    """One Judilibre decision as a Plume decision record; RecordError (French) if unusable."""
    if not isinstance(raw, dict):
        raise RecordError("décision Judilibre : ce n'est pas un objet JSON")
    source_id = raw.get("id")
    if not isinstance(source_id, str) or not source_id.strip():
        raise RecordError("décision Judilibre sans identifiant « id »")
    text = raw.get("text")
    if not isinstance(text, str) or not text.strip():
        raise RecordError("décision Judilibre sans texte intégral (« text ») : un résultat de "
                          "/search ou un export abrégé ne suffit pas, demandez /decision ou "
                          "/export sans « abridged »")
    themes = raw.get("themes")
    themes = [t for t in (_text(t) for t in themes) if t] if isinstance(themes, list) else []
    source = _text(raw.get("source"))
    metadata = {
        "ecli": _text(raw.get("ecli")),
        "jurisdiction": _jurisdiction(raw),
        "chamber": _label(raw.get("chamber"), CHAMBERS),
        "number": _number(raw),
        "date": _text(raw.get("decision_date")),
        "solution": _label(raw.get("solution"), SOLUTIONS),
        "publication": _publication(raw.get("publication")),
        "summary": _text(raw.get("summary")),
        "themes": themes,
        "nac": _text(raw.get("nac")),
        "source": f"Judilibre ({source})" if source else "Judilibre",
        "license": LICENSE,
    }
    metadata = {name: value for name, value in metadata.items() if value not in (None, "", [])}
    return DecisionRecord(source_id=SOURCE_PREFIX + source_id.strip(), text=text,
                          metadata=metadata, zones=_zones(raw.get("zones")), origin=origin)


def to_records(obj: Any, origin: str = "",
               skipped: list[tuple[str, str]] | None = None) -> list[DecisionRecord]:
    """Plume decision records from a JSON document: a Judilibre decision, an ``/export``
    batch, a list of decisions (Judilibre's or Plume's own format).

    With ``skipped``, a bad decision of a batch is added there as ``(where, reason)`` and
    the others are returned; without it, the first one raises RecordError. A document
    that is none of these raises RecordError (French).
    """
    if is_history(obj):
        raise RecordError("historique des transactions Judilibre : passez-le seul, dans un "
                          "fichier .json, à la commande ingest")
    if isinstance(obj, dict) and "results" in obj:
        items = obj["results"]
        if not isinstance(items, list):
            raise RecordError("lot Judilibre mal formé : « results » n'est pas une liste")
        where = f"{origin} (lot {obj['batch']})" if isinstance(obj.get("batch"), int) else origin
    elif isinstance(obj, list):
        items, where = obj, origin
    else:
        return [decision_record(obj, origin) if is_decision(obj) else from_json(obj, origin)]
    records: list[DecisionRecord] = []
    for n, item in enumerate(items, start=1):
        item_origin = f"{where} décision {n}"
        try:
            records.append(decision_record(item, item_origin) if is_decision(item)
                           else from_json(item, item_origin))
        except RecordError as exc:
            if skipped is None:
                raise RecordError(f"{item_origin} : {exc}") from None
            skipped.append((item_origin, str(exc)))
    return records


# --- files --------------------------------------------------------------------------------

def whole_document(path: Path) -> Any | None:
    """The JSON document a ``.json`` file holds, or None when it holds JSON lines.

    What the API returns is one document, often on one line (curl) or indented (a browser's
    « save as »). RecordError (French, with the line and column) when it is neither a
    document nor lines.
    """
    if path.suffix.lower() != ".json" or path.stat().st_size > MAX_DOCUMENT_BYTES:
        return None
    raw = path.read_bytes()
    try:
        return json.loads(raw)
    except UnicodeDecodeError as exc:
        raise RecordError(f"fichier JSON illisible : encodage non UTF-8 ({exc.reason})") from None
    except json.JSONDecodeError as exc:
        if exc.msg == "Extra data":
            return None  # one document per line
        first = raw.split(b"\n", 1)[0]
        try:
            json.loads(first)
            return None  # lines, one of which is broken: the line reader reports it
        except (json.JSONDecodeError, UnicodeDecodeError):
            pass
        raise RecordError(f"JSON invalide ({exc.msg}, ligne {exc.lineno}, colonne {exc.colno}) : "
                          "rien n'a été chargé de ce fichier") from None


def deleted_ids(history: dict[str, Any]) -> tuple[list[str], int]:
    """The Plume ids of the decisions whose last action in ``history`` is ``deleted``, and
    how many were created or updated (they come through ``/export``). RecordError (French)
    when a transaction is malformed: nothing is deleted then."""
    last: dict[str, tuple[str, str, int]] = {}
    for n, transaction in enumerate(history["transactions"], start=1):
        if not isinstance(transaction, dict):
            raise RecordError(f"transaction {n} : ce n'est pas un objet JSON")
        source_id, action = transaction.get("id"), transaction.get("action")
        if not isinstance(source_id, str) or not source_id.strip():
            raise RecordError(f"transaction {n} sans identifiant « id »")
        if action not in ("created", "updated", "deleted"):
            raise RecordError(f"transaction {n} : action « {action} » inconnue "
                              "(attendu : created, updated ou deleted)")
        date = str(transaction.get("date") or "")
        previous = last.get(source_id.strip())
        # By date, then in the order given (the API sorts by date; equal dates keep order).
        if previous is None or (date, n) >= (previous[1], previous[2]):
            last[source_id.strip()] = (action, date, n)
    deleted = [SOURCE_PREFIX + i for i, (action, _, _) in last.items() if action == "deleted"]
    return deleted, sum(1 for action, _, _ in last.values() if action != "deleted")


def split_histories(paths: Iterable[str]) -> tuple[list[tuple[str, dict]], list[str]]:
    """The transaction histories among ``paths`` (``.json`` files), and the other paths."""
    histories: list[tuple[str, dict]] = []
    others: list[str] = []
    for path in paths:
        document = None
        candidate = Path(path)
        if candidate.suffix.lower() == ".json" and candidate.is_file():
            try:
                document = whole_document(candidate)
            except (RecordError, OSError):
                document = None  # the ingestion reports it
        if is_history(document):
            histories.append((path, document))
        else:
            others.append(path)
    return histories, others
