"""The field app's icons, drawn at start-up (no binary in the repo): a red tile with a
white 3×3 grid, the 网格 of the name."""

from __future__ import annotations

import io
from functools import lru_cache


@lru_cache(maxsize=4)
def draw_icon(size: int) -> bytes:
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (size, size), "#b3261e")
    draw = ImageDraw.Draw(img)
    pad, width = size // 5, max(2, size // 40)
    for i in range(4):
        at = pad + i * (size - 2 * pad) // 3
        draw.line([(pad, at), (size - pad, at)], fill="white", width=width)
        draw.line([(at, pad), (at, size - pad)], fill="white", width=width)
    out = io.BytesIO()
    img.save(out, format="PNG")
    return out.getvalue()
