"""The committed icons are the ones `manifest/make_icons.py` draws (no stale or hand-edited PNG)."""
from __future__ import annotations

import importlib.util
import struct
from pathlib import Path

from backend import manifests

SCRIPT = Path(manifests.MANIFEST_DIR) / "make_icons.py"


def load_script():
    spec = importlib.util.spec_from_file_location("make_icons", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_icons_are_reproduced_by_the_script():
    make_icons = load_script()
    assert set(make_icons.SIZES) >= set(manifests.ICON_SIZES)
    for size in make_icons.SIZES:
        committed = (make_icons.ICON_DIR / make_icons.icon_name(size)).read_bytes()
        assert committed == make_icons.png(size), f"run python {SCRIPT} to refresh icon-{size}.png"
        assert committed[:8] == b"\x89PNG\r\n\x1a\n"
        assert struct.unpack(">II", committed[16:24]) == (size, size)


def test_icons_have_transparent_corners_and_an_opaque_middle():
    """Office draws icons on light and dark ribbons: the tile is rounded, not a square block."""
    make_icons = load_script()
    size = 32
    pixels = make_icons.draw(size)
    stride = size * 4 + 1

    def alpha(x: int, y: int) -> int:
        return pixels[y * stride + 1 + x * 4 + 3]

    assert alpha(0, 0) == 0 and alpha(size - 1, size - 1) == 0
    assert alpha(size // 2, size // 2) == 255
