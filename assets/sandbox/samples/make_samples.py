"""Draws the sandbox's sample photos (small JPEGs the page can attach with one click).

Run once with Pillow installed: python3 make_samples.py  (writes the .jpg files here).
The pictures are simple drawings, made here, so they carry no one's rights.
"""

import math
import os
import random

from PIL import Image, ImageDraw, ImageFilter

W, H = 640, 480
HERE = os.path.dirname(os.path.abspath(__file__))


def tiles(d, colour, line, size=64):
    d.rectangle([0, 0, W, H], fill=colour)
    for x in range(0, W, size):
        d.line([x, 0, x, H], fill=line, width=2)
    for y in range(0, H, size):
        d.line([0, y, W, y], fill=line, width=2)


def tap(d, wet):
    # Wall plate, spout, handle.
    d.rounded_rectangle([270, 90, 370, 150], radius=14, fill="#b8c1c9", outline="#7d8893", width=3)
    d.rounded_rectangle([300, 60, 340, 100], radius=8, fill="#9aa5af", outline="#6b7680", width=3)
    d.rounded_rectangle([250, 40, 390, 66], radius=12, fill="#cfd6dc", outline="#7d8893", width=3)
    d.rounded_rectangle([305, 130, 335, 250], radius=10, fill="#c3cbd2", outline="#7d8893", width=3)
    d.rounded_rectangle([296, 236, 344, 262], radius=8, fill="#aeb7bf", outline="#6b7680", width=3)
    # Basin.
    d.pieslice([150, 250, 490, 470], 0, 180, fill="#f4f6f7", outline="#9aa5af", width=4)
    d.rectangle([150, 352, 490, 362], fill="#e4e9ec")
    if wet:
        random.seed(4)
        for i in range(6):
            y = 280 + i * 22
            r = 7 + (i % 2)
            d.ellipse([320 - r, y - r * 1.4, 320 + r, y + r], fill="#5aa9e6", outline="#2f7fbf")
        for _ in range(14):
            x = random.randint(200, 440)
            y = random.randint(372, 420)
            d.ellipse([x - 12, y - 4, x + 12, y + 4], fill="#8cc6f0")
        # A streak running down the wall.
        d.line([352, 150, 356, 236], fill="#7fb7de", width=5)
    else:
        # A green tick: fixed.
        d.ellipse([470, 40, 590, 160], fill="#3aa55d")
        d.line([500, 100, 525, 128, 565, 72], fill="white", width=14, joint="curve")


def tap_leak():
    img = Image.new("RGB", (W, H))
    d = ImageDraw.Draw(img)
    tiles(d, "#e8eef2", "#c9d3da")
    tap(d, wet=True)
    return img


def tap_fixed():
    img = Image.new("RGB", (W, H))
    d = ImageDraw.Draw(img)
    tiles(d, "#eef3f6", "#cfd8de")
    tap(d, wet=False)
    return img


def ceiling_stain():
    img = Image.new("RGB", (W, H), "#f1efe9")
    d = ImageDraw.Draw(img)
    # Ceiling panels seen from below.
    for x in range(0, W, 160):
        d.line([x, 0, x, H], fill="#d9d5cb", width=3)
    for y in range(0, H, 160):
        d.line([0, y, W, y], fill="#d9d5cb", width=3)
    # The stain: rings of brown, blurred.
    stain = Image.new("L", (W, H), 0)
    s = ImageDraw.Draw(stain)
    random.seed(7)
    for ring in range(5):
        r = 150 - ring * 26
        points = []
        for k in range(36):
            a = k / 36 * 2 * math.pi
            rr = r * (0.8 + random.random() * 0.35)
            points.append((330 + rr * math.cos(a), 250 + rr * 0.75 * math.sin(a)))
        s.polygon(points, fill=60 + ring * 35)
    stain = stain.filter(ImageFilter.GaussianBlur(9))
    brown = Image.new("RGB", (W, H), "#9c7a4b")
    img = Image.composite(brown, img, stain)
    d = ImageDraw.Draw(img)
    # A ceiling lamp for scale.
    d.ellipse([60, 40, 170, 110], fill="#fffbe8", outline="#c9c2ad", width=4)
    return img


def corridor_light():
    img = Image.new("RGB", (W, H), "#3b4250")
    d = ImageDraw.Draw(img)
    # Corridor in perspective: floor, walls, ceiling.
    d.polygon([(0, H), (W, H), (400, 300), (240, 300)], fill="#6d6a66")
    d.polygon([(0, 0), (240, 170), (240, 300), (0, H)], fill="#59606d")
    d.polygon([(W, 0), (400, 170), (400, 300), (W, H)], fill="#545b68")
    d.polygon([(0, 0), (W, 0), (400, 170), (240, 170)], fill="#464d5a")
    d.rectangle([240, 170, 400, 300], fill="#2c313b")
    # Lights along the ceiling: the near one is dark.
    for (x0, y0, x1, y1, on) in [(250, 20, 390, 50, False), (275, 95, 365, 115, True), (295, 140, 345, 152, True)]:
        d.rounded_rectangle([x0, y0, x1, y1], radius=6, fill="#fff6cf" if on else "#23272f", outline="#8d8f93", width=3)
    # Doors.
    d.polygon([(60, 170), (150, 215), (150, 395), (60, 430)], fill="#8a6f52")
    d.polygon([(580, 170), (490, 215), (490, 395), (580, 430)], fill="#8a6f52")
    return img


def main():
    for name, draw in [
        ("tap-leak.jpg", tap_leak),
        ("tap-fixed.jpg", tap_fixed),
        ("ceiling-stain.jpg", ceiling_stain),
        ("corridor-light.jpg", corridor_light),
    ]:
        draw().save(os.path.join(HERE, name), "JPEG", quality=80, optimize=True)


if __name__ == "__main__":
    main()
