"""Headless Chromium helpers for rendering checks (Debian's chromium package)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars", "--mute-audio", "--disable-extensions"]


def chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def _run(args: list[str], timeout: int = 90) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run([chromium(), *FLAGS, f"--user-data-dir={profile}", *args],
                              capture_output=True, text=True, timeout=timeout)


def screenshot(page: Path, out: Path, *, width: int = 1200, height: int = 1400) -> Path:
    """Render ``page`` (a local file) to a PNG with no network."""
    proc = _run([f"--screenshot={out}", f"--window-size={width},{height}", page.resolve().as_uri()])
    if not out.is_file():
        raise RuntimeError(f"chromium made no screenshot: {proc.stderr[-2000:]}")
    return out


def dump_dom(page: Path) -> str:
    """The DOM after rendering (scripts run, fonts laid out)."""
    return _run(["--dump-dom", page.resolve().as_uri()]).stdout


def pixel_stats(png: Path) -> dict[str, float]:
    """Share of non-white pixels and the number of distinct grey levels: a blank page has ~0."""
    import numpy as np
    from PIL import Image

    img = np.asarray(Image.open(png).convert("L"), dtype=float)
    return {"ink": float((img < 200).mean()), "levels": float(len(np.unique(img.astype(int))))}
