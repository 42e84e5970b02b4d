"""What reading a dossier's pages costs: CPU seconds per text page and per scanned page.

    .venv/bin/python bench/ocr.py [SCANS] [TEXT_PAGES]

Builds dense French pages (about 50 lines of 11-pt text, as conclusions are), a text PDF of
TEXT_PAGES pages (default 60) and scanned PDFs of SCANS pages (default 6: the text pages
rendered to 200-dpi greyscale images, as a scanner makes them), then prints

- CPU seconds per page of ``inspect`` (counting pages and scans), of a text page and of a
  scanned page, the latter at several rendering resolutions with the words read back
  correctly and Tesseract's mean confidence; measured in this process and its programs
  (``getrusage`` of self and children), so the figures do not depend on the machine's load;
- the wall time of one file's scans with ``workers=1`` and ``workers=2`` through the
  sandbox, in the same run (a ratio: the machine is shared);
- the peak memory of one page's programs (pdftoppm, tesseract), and this process's growth
  over the pages (it should not grow with them);
- the wall time of ``inspect`` for an upload of 60 files (PDF, Word, mail), as the dossier's
  upload request runs it, and the CPU a file read in ranges of 20 pages costs over one read;
- the projection for the issue's dossier (500 text pages, 100 scans) on 2 cores.
"""
from __future__ import annotations

import random
import re
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from backend import documents  # noqa: E402
from backend.documents import pages  # noqa: E402
from backend.documents.budget import Budget  # noqa: E402
from backend.documents.ocr import DPI as OCR_DPI  # noqa: E402
from tests.documents.samples import docx_bytes, pdf_bytes, scanned_pdf_bytes  # noqa: E402

WORDS = ("le tribunal judiciaire statue publiquement contradictoirement en premier ressort "
         "condamne la société Alpha à payer à monsieur Durand la somme de euros au titre du "
         "préjudice moral outre les dépens déboute les parties du surplus de leurs demandes "
         "ordonne l'exécution provisoire vu l'article du code civil attendu que le contrat "
         "conclu le janvier prévoyait une clause résolutoire dont la mise en œuvre suppose "
         "une mise en demeure préalable restée sans effet pendant un mois").split()


def page_lines(seed: int, lines: int = 50) -> list[str]:
    rng = random.Random(seed)
    out = []
    for _ in range(lines):
        line = []
        while sum(len(w) + 1 for w in line) < 80:
            word = rng.choice(WORDS)
            line.append(str(rng.randint(2, 28)) if word in {"de", "le"} and rng.random() < .1
                        else word)
        out.append(" ".join(line))
    return out


def cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def recall(source: list[str], text: str) -> float:
    """Share of the source's words of 4 letters or more that were read back."""
    expected = [w for line in source for w in line.split() if len(w) >= 4]
    found = set(re.findall(r"[\w'’-]+", text))
    return sum(w in found for w in expected) / max(1, len(expected))


def read_here(data: bytes, dpi: int = 200, workers: int = 1) -> tuple[float, list]:
    """The pages read in this process (the sandbox child's own code), and their CPU seconds."""
    before = cpu()
    found = list(pages.read("pdf", data, "bench.pdf", max_pages=10_000, start=1, end=None,
                            use_ocr=True, workers=workers, dpi=dpi, work=Budget("bench.pdf")))
    return cpu() - before, found


def main() -> None:
    scans = int(sys.argv[1]) if len(sys.argv) > 1 else 6
    text_pages = int(sys.argv[2]) if len(sys.argv) > 2 else 60
    sources = [page_lines(seed) for seed in range(max(scans, text_pages))]
    text_pdf = pdf_bytes(sources[:text_pages])
    scanned = scanned_pdf_bytes(sources[:scans])
    print(f"pages: {text_pages} text ({len(text_pdf) // 1024} KB), {scans} scanned at 200 dpi "
          f"({len(scanned) // 1024} KB); {sum(len(' '.join(s)) for s in sources[:1])} "
          "characters a page")

    limits = {"max_bytes": 10**9, "max_pages": 10_000}
    documents.inspect(pdf_bytes([["x"]]), "warm.pdf", **limits)  # the reader server starts
    started = time.perf_counter()
    info = documents.inspect(text_pdf, "text.pdf", **limits)
    inspect_wall = time.perf_counter() - started
    before = cpu()
    pages.inspect("pdf", text_pdf, "text.pdf", 10_000, Budget("text.pdf"))
    inspect_cpu = cpu() - before
    print(f"inspect: {inspect_cpu / text_pages * 1000:.2f} ms CPU a page "
          f"({inspect_wall:.2f} s wall through the sandbox for {info.pages} pages, "
          f"{info.ocr_pages} scans)")

    rss_before = rss_mb()
    text_cpu, found = read_here(text_pdf)
    assert len(found) == text_pages and not any(p.ocr for p in found)
    per_text = text_cpu / text_pages
    print(f"text page: {per_text * 1000:.1f} ms CPU (pypdf), read back "
          f"{recall(sources[0], found[0].text):.1%} of the words")

    results = {}
    for dpi in (150, 200, 300):
        spent, found = read_here(scanned, dpi=dpi)
        per_scan = spent / scans
        words = sum(recall(s, p.text) for s, p in zip(sources, found)) / scans
        confidence = sum(p.confidence for p in found) / scans
        results[dpi] = per_scan
        print(f"scanned page at {dpi} dpi: {per_scan:.2f} s CPU (render + Tesseract), "
              f"words read back {words:.1%}, mean confidence {confidence:.1f}")
    children_peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"memory: largest program {children_peak:.0f} MB; this process grew "
          f"{rss_mb() - rss_before:+.0f} MB over {text_pages + 3 * scans} pages")

    upload = []
    for number in range(20):
        upload.append((f"piece-{number}.pdf", pdf_bytes(sources[:15])))
        upload.append((f"note-{number}.docx", docx_bytes([("heading", "Motifs")] + [
            ("paragraph", " ".join(lines)) for lines in sources[:3]])))
        upload.append((f"courriel-{number}.eml", (
            "From: greffe@justice.fr\nTo: avocat@barreau.fr\nSubject: Renvoi\n"
            "Content-Type: text/plain; charset=utf-8\n\n" + "\n".join(sources[0])).encode()))
    started = time.perf_counter()
    infos = [documents.inspect(data, name, **limits) for name, data in upload]
    assert not any(info.error for info in infos)
    print(f"upload of {len(upload)} files ({sum(len(d) for _, d in upload) // 1024} KB, "
          f"{sum(i.pages for i in infos)} pages): inspect {time.perf_counter() - started:.1f} s "
          "wall in all")

    long_pdf = pdf_bytes([sources[n % len(sources)] for n in range(600)])
    whole, _ = read_here(long_pdf)
    before = cpu()
    for first in range(1, 601, 20):
        list(pages.read("pdf", long_pdf, "long.pdf", max_pages=10_000, start=first,
                        end=first + 19, use_ocr=True, workers=1, dpi=200,
                        work=Budget("long.pdf")))
    ranged = cpu() - before
    print(f"600-page text PDF: {whole:.1f} s CPU in one read, {ranged:.1f} s in 30 ranges of 20 "
          "(each range opens the file again)")

    walls = {}
    for workers in (1, 2):
        started = time.perf_counter()
        count = sum(1 for _ in documents.read_pages(scanned, "scan.pdf", **limits,
                                                    workers=workers))
        walls[workers] = time.perf_counter() - started
        assert count == scans
    print(f"sandbox, {scans} scans: workers=1 {walls[1]:.1f} s wall, workers=2 {walls[2]:.1f} s "
          f"wall (x{walls[1] / walls[2]:.2f}; the machine is shared, so a ratio only)")

    per_scan = results[OCR_DPI]
    total = 500 * per_text + 100 * per_scan + 600 * inspect_cpu / text_pages
    print(f"dossier of 500 text pages + 100 scans: {total:.0f} s CPU, about {total / 2:.0f} s "
          "on 2 cores (target: 300 s of Plume's own time)")


if __name__ == "__main__":
    main()
