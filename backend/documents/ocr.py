"""Scanned PDF pages read back by Tesseract (French data), one page per pipeline.

Each page is rendered by poppler's ``pdftoppm`` (greyscale PGM on a pipe) straight into
``tesseract … tsv`` (``OMP_THREAD_LIMIT=1``: one core per page; pages, not threads, are
what runs in parallel). The PDF is handed to ``pdftoppm`` as a memory file (``memfd``), so
no page image and no copy of the user's file is ever written to disk, and the image never
passes through Python. Tesseract's TSV gives each word with its confidence; the page's
confidence is the mean over its words (0 when nothing was recognised).

Runs inside a sandbox child (:mod:`.sandbox`): the programs inherit its memory limit, get
their own CPU limit, and are killed with it (``PR_SET_PDEATHSIG``) if it dies.
"""
from __future__ import annotations

import ctypes
import logging
import math
import os
import resource
import shutil
import signal
import subprocess
from dataclasses import dataclass
from typing import Callable

from .errors import DocumentError

log = logging.getLogger(__name__)

# Rendering resolution. Measured on generated A4 pages (see docs and bench/ocr.py): 200 dpi
# reads 11-pt text as well as 300 dpi for about half the CPU.
DPI = 200
# A page is never rendered to more pixels than this, whatever its declared size (a poster
# page at 200 dpi would be gigabytes).
MAX_PIXELS = 40_000_000
LANGUAGE = "fra"
# Automatic page segmentation without orientation detection (the default, and the fastest
# that handles columns and headers).
PAGE_SEGMENTATION = "3"
# A page read this badly, though words were found, is read again with orientation detection
# (a page scanned sideways or upside down reads at about 40, then at over 90); the better
# reading is kept. Costs a second pass on bad pages only.
RETRY_BELOW_CONFIDENCE = 60.0
RETRY_MIN_WORDS = 10
ORIENTED_SEGMENTATION = "1"
# CPU seconds of one program for one page.
PAGE_CPU_SECONDS = 60
# How often a wait for Tesseract checks whether the reader is still wanted.
POLL_SECONDS = 0.2

UNAVAILABLE_MESSAGE = ("La reconnaissance de caractères (Tesseract, français) n'est pas "
                       "disponible sur ce serveur : les pages numérisées ne peuvent pas "
                       "être lues.")
PR_SET_PDEATHSIG = 1
# Loaded here, not between fork and exec where only async-signal-safe work belongs.
_LIBC = ctypes.CDLL(None)


def unavailable(detail: str) -> DocumentError:
    return DocumentError(UNAVAILABLE_MESSAGE, status=503, code="ocr_indisponible", detail=detail)


def check_programs() -> None:
    """Refuse (503) when pdftoppm or tesseract is missing."""
    for program in ("pdftoppm", "tesseract"):
        if shutil.which(program) is None:
            raise unavailable(f"{program} not found on PATH")


def _limits() -> None:
    """In the program's process, before exec: its own CPU limit, and death with its parent."""
    resource.setrlimit(resource.RLIMIT_CPU, (PAGE_CPU_SECONDS, PAGE_CPU_SECONDS + 1))
    try:
        _LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except AttributeError:  # not Linux: the sandbox child's alarm still bounds the page
        pass


def page_dpi(width_points: float, height_points: float, dpi: int = DPI) -> int:
    """The resolution for a page of that size, lowered so that it stays under MAX_PIXELS."""
    area = max(1.0, abs(width_points) / 72) * max(1.0, abs(height_points) / 72)
    return max(30, min(dpi, int(math.sqrt(MAX_PIXELS / area))))


class Abandoned(Exception):
    """The reader of these pages went away: stop recognising them."""


@dataclass
class Recognised:
    text: str
    confidence: float
    words: int


class Job:
    """One page on its way through pdftoppm | tesseract."""

    def __init__(self, pdf_fd: int, number: int, dpi: int,
                 segmentation: str = PAGE_SEGMENTATION) -> None:
        self.number, self.pdf_fd, self.dpi, self.segmentation = number, pdf_fd, dpi, segmentation
        env = _environment()
        self.render = subprocess.Popen(
            ["pdftoppm", "-r", str(dpi), "-gray", "-f", str(number), "-l", str(number),
             f"/proc/self/fd/{pdf_fd}"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
            pass_fds=(pdf_fd,), env=env, preexec_fn=_limits)
        self.recognise = subprocess.Popen(
            ["tesseract", "stdin", "stdout", "-l", LANGUAGE, "--psm", segmentation,
             "--dpi", str(dpi), "tsv"],
            stdin=self.render.stdout, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
            preexec_fn=_limits)
        self.render.stdout.close()  # tesseract holds the pipe now

    def result(self, abandoned: Callable[[], bool] = lambda: False) -> Recognised:
        """Wait for the page; a page that cannot be rendered comes back empty with
        confidence 0 (flagged, never dropped); a Tesseract that fails is a 503. A page read
        badly is read again with orientation detection, and the better reading kept.

        Raises :class:`Abandoned` (the programs killed) as soon as ``abandoned()`` says
        nobody waits for the page any more."""
        first = self._wait(abandoned)
        if (self.segmentation != PAGE_SEGMENTATION or first.confidence >= RETRY_BELOW_CONFIDENCE
                or first.words < RETRY_MIN_WORDS):
            return first
        retry = type(self)(self.pdf_fd, self.number, self.dpi, ORIENTED_SEGMENTATION)
        try:
            second = retry._wait(abandoned)
        except DocumentError as error:  # no orientation data: the first reading stands
            log.warning("page %d: orientation retry failed: %s", self.number, error.detail)
            return first
        finally:
            retry.kill()
        return second if second.confidence > first.confidence else first

    def _wait(self, abandoned: Callable[[], bool]) -> Recognised:
        while True:
            try:
                # communicate() keeps what it read when it times out: nothing is lost.
                out, err = self.recognise.communicate(timeout=POLL_SECONDS)
                break
            except subprocess.TimeoutExpired:
                if abandoned():
                    self.kill()
                    raise Abandoned(f"page {self.number}") from None
        rendered = self.render.wait() if self.render is not None else 0
        # Tesseract first: when it fails at start, pdftoppm dies of the broken pipe.
        if self.recognise.returncode != 0:
            detail = err.decode("utf-8", "replace").strip()[-300:]
            if "language" in detail.lower() or "tessdata" in detail.lower():
                raise unavailable(f"tesseract: {detail}")
            log.warning("page %d: tesseract exit %d: %s", self.number,
                        self.recognise.returncode, detail)
            return Recognised("", 0.0, 0)
        if rendered != 0:
            log.warning("page %d could not be rendered (pdftoppm exit %d)", self.number, rendered)
            return Recognised("", 0.0, 0)
        return parse_tsv(out.decode("utf-8", "replace"))

    def kill(self) -> None:
        for process in (self.render, self.recognise):
            if process is None:
                continue
            if process.poll() is None:
                process.kill()
            process.wait()


class ImageJob(Job):
    """One image (a photographed page, a frame of a TIFF) through tesseract alone: the image
    is already drawn, greyscale, in the memory file ``image_fd``."""

    def __init__(self, image_fd: int, number: int, dpi: int,
                 segmentation: str = PAGE_SEGMENTATION) -> None:
        self.number, self.pdf_fd, self.dpi, self.segmentation = number, image_fd, dpi, segmentation
        self.render = None
        self.recognise = subprocess.Popen(
            ["tesseract", f"/proc/self/fd/{image_fd}", "stdout", "-l", LANGUAGE, "--psm",
             segmentation, "--dpi", str(dpi), "tsv"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
            pass_fds=(image_fd,), env=_environment(), preexec_fn=_limits)


def _environment() -> dict[str, str]:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "OMP_THREAD_LIMIT": "1",
           "LANG": "C.UTF-8"}
    if "TESSDATA_PREFIX" in os.environ:  # a deployment's own language data
        env["TESSDATA_PREFIX"] = os.environ["TESSDATA_PREFIX"]
    return env


def parse_tsv(tsv: str) -> Recognised:
    """Text (one line per recognised line, a blank line between paragraphs) and mean word
    confidence from Tesseract's TSV output."""
    paragraphs: list[list[list[str]]] = []
    last_paragraph = last_line = None
    confidences: list[float] = []
    for row in tsv.splitlines()[1:]:
        cells = row.split("\t")
        if len(cells) < 12 or cells[0] != "5":
            continue
        word = cells[11].strip()
        if not word:
            continue
        try:
            confidence = float(cells[10])
        except ValueError:
            continue
        if confidence >= 0:
            confidences.append(confidence)
        paragraph, line = (cells[2], cells[3]), (cells[2], cells[3], cells[4])
        if paragraph != last_paragraph:
            paragraphs.append([])
            last_paragraph = paragraph
            last_line = None
        if line != last_line:
            paragraphs[-1].append([])
            last_line = line
        paragraphs[-1][-1].append(word)
    text = "\n\n".join("\n".join(" ".join(words) for words in lines) for lines in paragraphs)
    mean = sum(confidences) / len(confidences) if confidences else 0.0
    return Recognised(text, round(mean, 1), len(confidences))


def memory_file(data: bytes) -> int:
    """A file descriptor holding ``data`` in memory (no path on disk)."""
    fd = os.memfd_create("plume-document", 0)
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]
    return fd
