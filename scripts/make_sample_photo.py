#!/usr/bin/env python3
"""Writes src/http/assets/sample-photo.png, the demo's sample defect photo (a
grey panel with a crack), with the standard library only: a 240x180 RGB PNG.

    python3 scripts/make_sample_photo.py
"""
import struct
import zlib

W, H = 240, 180


def pixel(x, y):
    # A brushed-metal panel ...
    shade = 150 + (x * 7 + y * 3) % 40
    r = g = b = shade
    # ... with a dark crack running across it.
    crack_y = int(60 + 0.25 * x + 12 * ((x // 17) % 3))
    if abs(y - crack_y) <= (2 if x % 23 else 3):
        r, g, b = 40, 38, 36
    # A red marker circle around the damage.
    d2 = (x - 150) ** 2 + (y - 100) ** 2
    if 1500 <= d2 <= 1800:
        r, g, b = 200, 30, 30
    return bytes((r, g, b))


def chunk(kind, data):
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)


rows = b"".join(b"\x00" + b"".join(pixel(x, y) for x in range(W)) for y in range(H))
png = (
    b"\x89PNG\r\n\x1a\n"
    + chunk(b"IHDR", struct.pack(">IIBBBBB", W, H, 8, 2, 0, 0, 0))
    + chunk(b"IDAT", zlib.compress(rows, 9))
    + chunk(b"IEND", b"")
)
with open("src/http/assets/sample-photo.png", "wb") as f:
    f.write(png)
print(f"wrote src/http/assets/sample-photo.png ({len(png)} bytes)")
