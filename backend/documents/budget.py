"""How much work one file may cost: inflated bytes, paragraphs, pages and seconds.

A small upload can still ask for a great deal of work (a Word file whose 60 KB unpack to
20 MB of paragraphs, a zip whose entries lie about their size). Each reader carries one
:class:`Budget` and checks it as it goes, so a file is refused as soon as it overdraws,
with a French message, instead of after the work is done.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

from .errors import too_large

# A Word file's XML unpacks to several times its size (about 5 to 15 for real documents,
# more for plain text). Beyond this ratio the file is not a document but a lever.
MAX_EXPANSION = 40
# Every file may unpack to this much whatever its size (a small letter with its styles).
MIN_INFLATED_BYTES = 4 * 1024 * 1024
# And none to more than this, however large (a 10 MB upload of text would be 400 MB).
MAX_INFLATED_BYTES = 96 * 1024 * 1024
# Paragraphs and table rows of one file: a 1,000-page judgment holds about 20,000.
MAX_PARAGRAPHS = 30_000
# Seconds of reading for one file (a 300-page PDF reads in a few).
MAX_SECONDS = 20.0

TOO_LONG_MESSAGE = ("Ce document demande trop de travail pour être lu ({what}). "
                    "Envoyez un extrait ou une version plus courte.")


def inflation_limit(file_bytes: int) -> int:
    """The unpacked size allowed to a file of ``file_bytes``: relative to the file itself."""
    return max(MIN_INFLATED_BYTES, min(MAX_INFLATED_BYTES, file_bytes * MAX_EXPANSION))


@dataclass
class Budget:
    """The work left for one file; readers call :meth:`paragraph` and :meth:`check`."""

    filename: str
    max_seconds: float = MAX_SECONDS
    max_paragraphs: int = MAX_PARAGRAPHS
    started: float = field(default_factory=time.monotonic)
    paragraphs: int = 0

    def check(self) -> None:
        """Refuse the file (413) once its seconds are spent."""
        elapsed = time.monotonic() - self.started
        if elapsed > self.max_seconds:
            raise too_large(f"{self.filename}: reading took over {self.max_seconds:g} s",
                            TOO_LONG_MESSAGE.format(
                                what=f"plus de {self.max_seconds:g} secondes de lecture"))

    def paragraph(self) -> None:
        """Count one block; refuse the file past the paragraph limit or its time."""
        self.paragraphs += 1
        if self.paragraphs > self.max_paragraphs:
            raise too_large(f"{self.filename}: more than {self.max_paragraphs} paragraphs",
                            TOO_LONG_MESSAGE.format(
                                what=f"plus de {self.max_paragraphs} paragraphes"))
        if self.paragraphs % 64 == 0:
            self.check()
