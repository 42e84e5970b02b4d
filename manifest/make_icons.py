"""Draw Plume's add-in icons (a white quill on a Marianne-blue tile) as PNG files.

Office asks for 16, 32 and 80 px ribbon icons and 32/64/128 px catalogue icons; they
are committed in ``addin/assets/icons/`` and served by Plume at
``/addin/assets/icons/icon-<size>.png``. Drawn with plain ``zlib`` (no imaging
library) and supersampled, so the output is byte-for-byte reproducible: a test
re-draws them and compares. Run ``python manifest/make_icons.py`` after changing it.
"""
from __future__ import annotations

import math
import struct
import sys
import zlib
from pathlib import Path

SIZES = (16, 32, 64, 80, 128)
ICON_DIR = Path(__file__).resolve().parents[1] / "addin" / "assets" / "icons"

TILE = (0, 0, 145)  # bleu France (#000091)
INK = (255, 255, 255)
SUPERSAMPLE = 4
CORNER = 0.18  # tile corner radius, as a fraction of the side

# The quill, in unit coordinates along its axis: from the nib (bottom left) to the tip.
NIB = (0.20, 0.82)
TIP = (0.82, 0.18)
VANE_START, VANE_END = 0.30, 1.0  # where the feather's vane runs along the axis
VANE_WIDTH = 0.15
SHAFT_WIDTH = 0.022
NOTCH_AT, NOTCH_WIDTH = 0.62, 0.025  # the split in the barbs that makes it read as a feather


def _inside_tile(x: float, y: float) -> bool:
    """Rounded square covering the whole icon."""
    dx = max(CORNER - x, 0.0, x - (1 - CORNER))
    dy = max(CORNER - y, 0.0, y - (1 - CORNER))
    return dx * dx + dy * dy <= CORNER * CORNER


def _inside_quill(x: float, y: float) -> bool:
    ax, ay = TIP[0] - NIB[0], TIP[1] - NIB[1]
    length = math.hypot(ax, ay)
    ux, uy = ax / length, ay / length
    px, py = x - NIB[0], y - NIB[1]
    u = (px * ux + py * uy) / length  # 0 at the nib, 1 at the tip
    v = (px * -uy + py * ux)  # signed distance from the axis
    if not 0.0 <= u <= 1.0:
        return False
    if abs(v) <= SHAFT_WIDTH * (1.0 - 0.6 * u) and u <= 0.85:
        return True
    if VANE_START <= u <= VANE_END:
        t = (u - VANE_START) / (VANE_END - VANE_START)
        # Fuller on the outer side, pointed at both ends, like a real feather.
        half = VANE_WIDTH * math.sin(math.pi * t) ** 0.7 * (1.15 if v < 0 else 0.75)
        if abs(v) <= half:
            notch = abs(u - NOTCH_AT - 0.35 * v) < NOTCH_WIDTH and v < -SHAFT_WIDTH
            return not notch
    return False


def draw(size: int) -> bytes:
    """RGBA pixels of the icon at ``size`` px, row after row."""
    rows = bytearray()
    n = SUPERSAMPLE
    for py in range(size):
        rows.append(0)  # PNG filter type 0 (none) for this row
        for px in range(size):
            tile = ink = 0
            for sy in range(n):
                for sx in range(n):
                    x = (px + (sx + 0.5) / n) / size
                    y = (py + (sy + 0.5) / n) / size
                    if _inside_tile(x, y):
                        tile += 1
                        if _inside_quill(x, y):
                            ink += 1
            alpha = tile / (n * n)
            mix = ink / tile if tile else 0.0
            rgb = [round(c0 + (c1 - c0) * mix) for c0, c1 in zip(TILE, INK)]
            rows.extend((*rgb, round(255 * alpha)))
    return bytes(rows)


def png(size: int) -> bytes:
    """A complete PNG file (8-bit RGBA, no metadata, so it is reproducible)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(draw(size), 9)) + chunk(b"IEND", b""))


def icon_name(size: int) -> str:
    return f"icon-{size}.png"


def main(out_dir: Path = ICON_DIR) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    for size in SIZES:
        (out_dir / icon_name(size)).write_bytes(png(size))
        print(f"{out_dir / icon_name(size)}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ICON_DIR)
