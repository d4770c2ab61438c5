"""Writes stock-photo.png: the picture behind a photo a driver sends without bytes
(`user_sends_photo`). A 160 x 120 grey-blue gradient, made here; Python's standard
library only. Run: python3 make_stock_photo.py"""

import os
import struct
import zlib

W, H = 160, 120


def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


rows = b"".join(
    b"\0" + b"".join(bytes((150 + x // 4, 170 + y // 4, 190)) for x in range(W)) for y in range(H)
)
png = (
    b"\x89PNG\r\n\x1a\n"
    + chunk(b"IHDR", struct.pack(">IIBBBBB", W, H, 8, 2, 0, 0, 0))
    + chunk(b"IDAT", zlib.compress(rows, 9))
    + chunk(b"IEND", b"")
)
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "stock-photo.png"), "wb") as f:
    f.write(png)
