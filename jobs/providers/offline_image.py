"""Pictures for the offline provider: a scene drawn from a hash of the prompt, no model weights.

The same prompt and seed always give byte-identical PNGs (tests and demos can rely on it), and
different prompts give visibly different palettes and compositions, so a newcomer running
``atelier dev`` sees that their words did something.
"""

from __future__ import annotations

import colorsys
import hashlib
import io
import math
import random
import textwrap

from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageFont

from jobs.media import DEFAULT_MAX_IMAGE_PIXELS, DecompressionBombError, open_image

__all__ = ["render_scene", "upscale_image", "vary_image"]

RGB = tuple[int, int, int]

#: Words that pull the palette towards a hue (0..1), so "red dragon" looks red.
_HUE_WORDS = {
    "red": 0.0,
    "fire": 0.03,
    "sunset": 0.06,
    "orange": 0.08,
    "autumn": 0.09,
    "gold": 0.12,
    "yellow": 0.15,
    "desert": 0.11,
    "green": 0.33,
    "forest": 0.3,
    "jungle": 0.32,
    "teal": 0.47,
    "ocean": 0.55,
    "sea": 0.55,
    "ice": 0.52,
    "blue": 0.62,
    "sky": 0.58,
    "night": 0.68,
    "space": 0.7,
    "purple": 0.78,
    "violet": 0.76,
    "pink": 0.9,
    "rose": 0.93,
    "magenta": 0.86,
}
_NIGHT_WORDS = {"night", "star", "stars", "space", "galaxy", "moon", "cosmic", "dark"}
_LAND_WORDS = {"mountain", "mountains", "landscape", "hill", "hills", "valley", "sunset", "desert"}


def _rng(*parts: bytes | str | int) -> random.Random:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part if isinstance(part, bytes) else str(part).encode())
        digest.update(b"\x00")
    return random.Random(digest.digest())


def _hls(h: float, lightness: float, saturation: float) -> RGB:
    r, g, b = colorsys.hls_to_rgb(h % 1.0, lightness, saturation)
    return round(r * 255), round(g * 255), round(b * 255)


def _palette(prompt: str, rng: random.Random) -> list[RGB]:
    words = prompt.lower().split()
    hues = [_HUE_WORDS[w.strip(".,!?")] for w in words if w.strip(".,!?") in _HUE_WORDS]
    base = hues[0] if hues else rng.random()
    scheme = rng.choice([(0.0, 0.08, -0.08, 0.5, 0.04), (0.0, 0.33, 0.66, 0.16, 0.5)])
    return [
        _hls(base + offset, 0.25 + 0.5 * rng.random(), 0.55 + 0.4 * rng.random())
        for offset in scheme
    ]


def _gradient(size: tuple[int, int], top: RGB, bottom: RGB) -> Image.Image:
    mask = Image.linear_gradient("L").resize(size, Image.Resampling.BILINEAR)
    return Image.composite(Image.new("RGB", size, bottom), Image.new("RGB", size, top), mask)


def _draw_stars(layer: ImageDraw.ImageDraw, size: tuple[int, int], rng: random.Random) -> None:
    width, height = size
    for _ in range(int(width * height / 2500) + 20):
        x, y = rng.uniform(0, width), rng.uniform(0, height * 0.8)
        r = rng.choice([0.6, 0.8, 1.0, 1.4, 2.2])
        alpha = rng.randint(120, 255)
        layer.ellipse((x - r, y - r, x + r, y + r), fill=(255, 255, 240, alpha))
    mx, my, mr = rng.uniform(0.15, 0.85) * width, rng.uniform(0.1, 0.35) * height, height * 0.08
    layer.ellipse((mx - mr, my - mr, mx + mr, my + mr), fill=(250, 245, 220, 235))


def _draw_shapes(
    layer: ImageDraw.ImageDraw, size: tuple[int, int], rng: random.Random, palette: list[RGB]
) -> None:
    width, height = size
    for _ in range(rng.randint(7, 16)):
        color = (*rng.choice(palette[2:]), rng.randint(90, 200))
        cx, cy = rng.uniform(0, width), rng.uniform(0, height)
        r = rng.uniform(0.04, 0.22) * min(width, height)
        shape = rng.choice(["circle", "rect", "triangle"])
        if shape == "circle":
            layer.ellipse((cx - r, cy - r, cx + r, cy + r), fill=color)
        elif shape == "rect":
            layer.rectangle((cx - r, cy - r * 0.6, cx + r, cy + r * 0.6), fill=color)
        else:
            turn = rng.uniform(0, math.tau)
            points = [
                (
                    cx + r * math.cos(turn + k * math.tau / 3),
                    cy + r * math.sin(turn + k * math.tau / 3),
                )
                for k in range(3)
            ]
            layer.polygon(points, fill=color)


def _draw_landscape(
    layer: ImageDraw.ImageDraw, size: tuple[int, int], rng: random.Random, palette: list[RGB]
) -> None:
    width, height = size
    sx, sy, sr = rng.uniform(0.2, 0.8) * width, rng.uniform(0.2, 0.45) * height, height * 0.11
    layer.ellipse((sx - sr, sy - sr, sx + sr, sy + sr), fill=(*palette[3], 230))
    for depth in range(3):
        base_y = height * (0.55 + 0.13 * depth)
        points = [(0.0, float(height))]
        x = 0.0
        while x <= width:
            points.append((x, base_y - rng.uniform(0.02, 0.2) * height))
            x += rng.uniform(0.08, 0.2) * width
        points += [(float(width), base_y), (float(width), float(height))]
        shade = tuple(max(0, c - 40 * depth) for c in palette[2 + depth % 3])
        layer.polygon(points, fill=(*shade, 255))


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=size)
    except (OSError, ValueError, TypeError):  # Pillow built without FreeType
        return ImageFont.load_default()


def _caption(image: Image.Image, prompt: str) -> None:
    width, height = image.size
    font_size = max(10, min(width, height) // 22)
    chars = max(12, int(width / (font_size * 0.55)))
    lines = textwrap.wrap(prompt.strip(), chars)[:3] or ["(empty prompt)"]
    band_height = int(font_size * 1.35 * len(lines) + font_size)
    band = Image.new("RGBA", (width, band_height), (0, 0, 0, 130))
    image.paste(band, (0, height - band_height), band)
    draw = ImageDraw.Draw(image)
    font = _font(font_size)
    y = height - band_height + font_size // 2
    for line in lines:
        draw.text((font_size // 2, y), line, font=font, fill=(255, 255, 255))
        y += int(font_size * 1.35)


def render_scene(prompt: str, *, seed: int, width: int, height: int) -> bytes:
    """Draw a PNG for ``prompt``: gradient sky, then stars, shapes or hills, then the caption."""
    rng = _rng("scene", seed, prompt)
    palette = _palette(prompt, rng)
    words = {w.strip(".,!?") for w in prompt.lower().split()}
    if words & _NIGHT_WORDS:
        composition = "stars"
    elif words & _LAND_WORDS:
        composition = "landscape"
    else:
        composition = rng.choice(["stars", "shapes", "landscape", "shapes"])
    size = (width, height)
    if composition == "stars":
        top = tuple(c // 5 for c in palette[0])
        image = _gradient(size, (top[0], top[1], top[2]), palette[1])
    else:
        image = _gradient(size, palette[0], palette[1])
    layer = Image.new("RGBA", size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    if composition == "stars":
        _draw_stars(draw, size, rng)
        _draw_landscape_horizon(draw, size, rng, palette)
    elif composition == "landscape":
        _draw_landscape(draw, size, rng, palette)
    else:
        _draw_shapes(draw, size, rng, palette)
    image = Image.alpha_composite(image.convert("RGBA"), layer).convert("RGB")
    _caption(image, prompt)
    out = io.BytesIO()
    image.save(out, "PNG", compress_level=6)
    return out.getvalue()


def _draw_landscape_horizon(
    layer: ImageDraw.ImageDraw, size: tuple[int, int], rng: random.Random, palette: list[RGB]
) -> None:
    width, height = size
    top = height * rng.uniform(0.78, 0.88)
    points = [(0.0, float(height)), (0.0, top)]
    steps = 12
    for step in range(1, steps + 1):
        points.append((width * step / steps, top + rng.uniform(-0.04, 0.04) * height))
    points.append((float(width), float(height)))
    dark = tuple(c // 4 for c in palette[2])
    layer.polygon(points, fill=(dark[0], dark[1], dark[2], 255))


def _open_checked(data: bytes, max_pixels: int) -> Image.Image:
    image = open_image(data, max_pixels)
    image.load()
    return image


def upscale_image(data: bytes, *, factor: int, max_output_pixels: int = 64_000_000) -> bytes:
    """Enlarge with LANCZOS; refuses results above ``max_output_pixels``."""
    image = _open_checked(data, DEFAULT_MAX_IMAGE_PIXELS)
    width, height = image.width * factor, image.height * factor
    if width * height > max_output_pixels:
        raise DecompressionBombError(width * height, max_output_pixels, width=width, height=height)
    if image.mode not in {"RGB", "RGBA"}:
        image = image.convert("RGBA" if "A" in image.getbands() else "RGB")
    out = io.BytesIO()
    image.resize((width, height), Image.Resampling.LANCZOS).save(out, "PNG", compress_level=6)
    return out.getvalue()


def vary_image(data: bytes, *, seed: int, strength: float = 0.5) -> bytes:
    """A deterministic sibling of the input: hue turn, colour/contrast jitter, slight tilt."""
    rng = _rng("variation", seed, hashlib.sha256(data).digest())
    image = _open_checked(data, DEFAULT_MAX_IMAGE_PIXELS).convert("RGB")
    hue_shift = int(rng.uniform(-60, 60) * strength) % 256
    h, s, v = image.convert("HSV").split()
    h = h.point(lambda value: (value + hue_shift) % 256)
    image = Image.merge("HSV", (h, s, v)).convert("RGB")
    image = ImageEnhance.Color(image).enhance(1 + rng.uniform(-0.4, 0.4) * strength)
    image = ImageEnhance.Contrast(image).enhance(1 + rng.uniform(-0.25, 0.25) * strength)
    angle = rng.uniform(-4, 4) * strength
    zoom = 1 + abs(angle) / 40 + 0.02
    width, height = image.size
    image = image.rotate(angle, resample=Image.Resampling.BICUBIC)
    crop_w, crop_h = width / zoom, height / zoom
    left, top = (width - crop_w) / 2, (height - crop_h) / 2
    image = image.crop((round(left), round(top), round(left + crop_w), round(top + crop_h)))
    image = image.resize((width, height), Image.Resampling.LANCZOS)
    if rng.random() < 0.5:
        image = image.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    if strength > 0.6:
        image = image.filter(ImageFilter.SMOOTH)
    out = io.BytesIO()
    image.save(out, "PNG", compress_level=6)
    return out.getvalue()
