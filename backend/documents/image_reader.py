"""Images in a dossier (.jpg, .png, .tiff with its pages): photographed or scanned pages,
read by Tesseract like a scanned PDF page, one page per image frame.

Pillow reads the header first: each frame's declared size is checked against
:data:`.ocr.MAX_PIXELS` before any pixel is decoded (an « image bomb » declares a huge
size in a few bytes), and the page count against the file's limit. A frame is then decoded,
made greyscale and handed to Tesseract through a memory file, never written to disk. Runs in
a sandbox child like every reader.
"""
from __future__ import annotations

import io
import os
import struct
from typing import Any, Callable, Iterator

from PIL import Image, ImageOps, UnidentifiedImageError

from . import ocr
from .errors import DocumentError, too_large, unreadable

# Pillow's own bomb guard stays on, at our limit (it raises past twice this).
Image.MAX_IMAGE_PIXELS = ocr.MAX_PIXELS
DAMAGED_MESSAGE = "Cette image est endommagée ou illisible."
BOMB_MESSAGE = ("Cette image est trop grande pour être lue ({size}) : enregistrez-la à une "
                "résolution plus basse (300 dpi suffisent).")
# Pillow raises these on a broken header or frame.
BROKEN = (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError, struct.error,
          IndexError, KeyError, TypeError, ZeroDivisionError)


def _bomb(detail: str, size: str | None = None) -> DocumentError:
    return too_large(detail, BOMB_MESSAGE.format(
        size=size or f"plus de {ocr.MAX_PIXELS // 1_000_000} millions de pixels"))


def open_image(data: bytes, filename: str, *, max_pages: int) -> tuple[Image.Image, int]:
    """The image and its page (frame) count, refused before decoding when a frame declares
    too many pixels or the file too many pages."""
    try:
        image = Image.open(io.BytesIO(data))
        count = getattr(image, "n_frames", 1)
    except Image.DecompressionBombError as exc:
        raise _bomb(f"{filename}: {exc}") from exc
    except BROKEN as exc:
        raise unreadable(f"{filename}: {type(exc).__name__}: {exc}", DAMAGED_MESSAGE) from exc
    if count > max_pages:
        raise too_large(f"{filename}: {count} frames > {max_pages}",
                        f"Cette image compte {count} pages ; la limite est de {max_pages}.")
    return image, count


def _frame(image: Image.Image, number: int, filename: str) -> Image.Image:
    """Frame ``number`` (from 1), its size checked, then decoded and made greyscale."""
    try:
        image.seek(number - 1)
        width, height = image.size
        if width * height > ocr.MAX_PIXELS:
            raise _bomb(f"{filename}: frame {number} declares {width}x{height}",
                        f"{width} × {height} pixels")
        frame = ImageOps.exif_transpose(image) if number == 1 else image
        return frame.convert("L")
    except DocumentError:
        raise
    except Image.DecompressionBombError as exc:
        raise _bomb(f"{filename}: {exc}") from exc
    except BROKEN as exc:
        raise unreadable(f"{filename}: frame {number}: {type(exc).__name__}: {exc}",
                         DAMAGED_MESSAGE) from exc


def inspect(data: bytes, filename: str, *, max_pages: int,
            check: Callable[[], None]) -> dict[str, Any]:
    """Pages of an image file (all to recognise), every frame decoded once so a damaged
    image is refused in the inventory rather than during the job."""
    image, count = open_image(data, filename, max_pages=max_pages)
    for number in range(1, count + 1):
        check()
        _frame(image, number, filename)
    return {"pages": count, "ocr_pages": count, "chars": [None] * count}


def _dpi(image: Image.Image) -> int:
    """The resolution the image says it has (scanners write it), else the OCR default."""
    found = image.info.get("dpi") or ()
    try:
        value = int(round(float(found[0])))
    except (IndexError, TypeError, ValueError):
        return ocr.DPI
    return value if 70 <= value <= 1200 else ocr.DPI


def recognise_frames(data: bytes, filename: str, *, max_pages: int, numbers: range,
                     use_ocr: bool, abandoned: Callable[[], bool]
                     ) -> Iterator[tuple[int, ocr.Recognised | None]]:
    """``(page, what Tesseract read)`` for each frame in ``numbers``, one at a time (None
    when ``use_ocr`` is False: an image has no text without it)."""
    image, _ = open_image(data, filename, max_pages=max_pages)
    if use_ocr:
        ocr.check_programs()
    for number in numbers:
        frame = _frame(image, number, filename)
        if not use_ocr:
            yield number, None
            continue
        buffer = io.BytesIO()
        frame.save(buffer, format="PPM")  # greyscale: a PGM, which Tesseract reads as is
        fd = ocr.memory_file(buffer.getvalue())
        del buffer, frame
        try:
            job = ocr.ImageJob(fd, number, _dpi(image))
            try:
                yield number, job.result(abandoned)
            finally:
                job.kill()
        finally:
            os.close(fd)
