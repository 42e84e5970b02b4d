"""Settings of the documents room."""
from __future__ import annotations

from ..settings import Setting

# Mean word confidence (0-100, Tesseract's) below which a recognised page is flagged as
# badly read. Clean 200-dpi scans of typed text read at 85-96; noise and handwriting below 50.
LOW_CONFIDENCE = 60.0

SETTINGS: list[Setting] = [
    Setting("PLUME_OCR_MIN_CONFIDENCE", "float", LOW_CONFIDENCE,
            "Mean word confidence (0–100, from Tesseract) below which a scanned page is flagged "
            "« page mal reconnue » in a dossier's synthesis (the page is still used).",
            at_least=0, at_most=100),
]

