"""Reading input images as 8-bit RGB, by one documented rule.

Rule (also in the README):

* 8-bit RGB is used as stored.
* Grayscale (``L``, ``1``) and palette (``P``) images are converted to RGB: gray values are
  replicated into three channels, palette entries are looked up. Nothing is lost.
* Images with an alpha channel (``RGBA``, ``LA``, ``PA``, or a palette with transparency)
  are converted when every pixel is fully opaque (the alpha carries no information) and
  rejected otherwise: codecs are compared on RGB, and flattening onto a background is a
  choice the user should make.
* 16-bit, 32-bit integer and float images, and CMYK / YCbCr-as-stored / LAB images, are
  rejected: reducing bit depth or converting colour spaces changes the reference, so the
  user should do it deliberately.
* EXIF orientation is **not** applied: the pixels are compressed and measured as stored,
  the way every codec sees them. A rotated display does not change any metric.
* Animated images (APNG, animated WebP and GIF) are rejected: which frame to compare would
  be a guess.

Warnings the image library gives while reading (a corrupt EXIF block, say) do not reach the
terminal: :func:`read_image_with_notes` returns them as one-line notes, which the runner puts in
each row of that image (``input_note``), or in the error of a rejected one.
"""
from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

CONVERTIBLE_MODES = {"L", "1", "P"}
ALPHA_MODES = {"RGBA", "LA", "PA", "RGBa", "La"}


class ImageReadError(ValueError):
    """An input image that cannot be used, with a one-line reason and a fix."""


def _bit_depth_reason(image: Image.Image) -> str | None:
    if image.mode.startswith("I") or image.mode == "F":
        return f"{image.mode} is a {('float' if image.mode == 'F' else '16/32-bit integer')} image"
    # Pillow reads some 16-bit-per-channel files (RGB PNG, RGB TIFF) as 8-bit RGB, dropping the
    # low byte; the raw mode of the file's data ("RGB;16B", "RGB;16L") still tells.
    raw_modes = [str(getattr(getattr(image, "png", None), "im_rawmode", ""))]
    raw_modes += [str(tile.args) for tile in getattr(image, "tile", [])]
    if any(";16" in raw_mode for raw_mode in raw_modes):
        return f"16-bit-per-channel {image.format}"
    return None


def read_image(path: str | Path) -> np.ndarray:
    """Read an image file as an H x W x 3 ``uint8`` RGB array, by the module's rule.

    Raises :class:`ImageReadError` with a one-line reason for anything the rule rejects,
    for unreadable, truncated and empty files.
    """
    path = Path(path)
    if not path.is_file():
        raise ImageReadError(f"{path.name}: no such file ({path.resolve()}); check the path and the working folder")
    if path.stat().st_size == 0:
        raise ImageReadError(f"{path.name}: empty file (0 bytes)")
    try:
        with Image.open(path) as image:
            frames = getattr(image, "n_frames", 1)
            if frames > 1:
                raise ImageReadError(f"{path.name}: animated image ({frames} frames); give a still image (one frame)")
            reason = _bit_depth_reason(image)
            if reason:
                raise ImageReadError(f"{path.name}: {reason}; convert it to 8-bit RGB first (codecs here are 8-bit)")
            image.load()
            mode = image.mode
            if mode == "P" and "transparency" in image.info:
                image = image.convert("RGBA")
                mode = "RGBA"
            if mode in ALPHA_MODES:
                alpha = np.asarray(image.getchannel("A"))
                if alpha.min() < 255:
                    raise ImageReadError(
                        f"{path.name}: has transparency ({mode}); flatten it onto a background first"
                    )
                return np.ascontiguousarray(np.asarray(image.convert("RGB")))
            if mode in CONVERTIBLE_MODES:
                return np.ascontiguousarray(np.asarray(image.convert("RGB")))
            if mode != "RGB":
                raise ImageReadError(f"{path.name}: unsupported colour mode {mode}; convert it to 8-bit RGB first")
            return np.ascontiguousarray(np.asarray(image))
    except ImageReadError:
        raise
    except UnidentifiedImageError:
        raise ImageReadError(f"{path.name}: not an image file Pillow can read") from None
    except Image.DecompressionBombError as exc:  # not an OSError: named here so that the row names the file
        raise ImageReadError(f"{path.name}: {exc}") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageReadError(f"{path.name}: unreadable image ({str(exc).splitlines()[0]})") from None


def warning_notes(caught: list[warnings.WarningMessage]) -> tuple[str, ...]:
    """Caught warnings as distinct one-line notes, ``Category: message``, in order."""
    notes = (f"{entry.category.__name__}: {' '.join(str(entry.message).split())}" for entry in caught)
    return tuple(dict.fromkeys(notes))


def read_image_with_notes(path: str | Path) -> tuple[np.ndarray, tuple[str, ...]]:
    """:func:`read_image`, and the warnings the image library gave while reading, as notes.

    A rejected image's :class:`ImageReadError` carries the notes in its message.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            image = read_image(path)
        except ImageReadError as exc:
            notes = warning_notes(caught)
            if notes:
                raise ImageReadError(f"{exc} (while reading: {'; '.join(notes)})") from None
            raise
    return image, warning_notes(caught)
