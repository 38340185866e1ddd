"""Visual regression: a page's screenshot against its baseline in tests/browser/baselines/.

A layout break fails the suite; small rendering noise (anti-aliasing) does not: at most
`tolerance` of the pixels may differ. On a failure the new screenshot and a diff image are written
to the test's tmp dir. Baselines are written (new or updated) only with CODE4_UPDATE_BASELINES=1:
look at them before committing.
"""

from __future__ import annotations

import io
import os
import warnings
from pathlib import Path

from PIL import Image, ImageChops
from playwright.async_api import Locator, Page

BASELINES = Path(__file__).parent / "baselines"


async def matches_baseline(target: Page | Locator, name: str, tmp_path: Path, *, tolerance: float = 0.01) -> None:
    """Screenshot `target` (animations off) and compare it with baselines/<name>.png."""
    shot = await target.screenshot(animations="disabled")
    baseline = BASELINES / f"{name}.png"
    if os.environ.get("CODE4_UPDATE_BASELINES") == "1":
        BASELINES.mkdir(exist_ok=True)
        baseline.write_bytes(shot)
        warnings.warn(f"baseline {baseline} written: look at it before committing", stacklevel=2)
        return
    if not baseline.exists():
        raise AssertionError(f"no baseline {baseline}: run with CODE4_UPDATE_BASELINES=1 to write it")
    new = Image.open(io.BytesIO(shot)).convert("RGB")
    old = Image.open(baseline).convert("RGB")
    if new.size != old.size:
        (tmp_path / f"{name}.png").write_bytes(shot)
        raise AssertionError(f"{name}: size {new.size} differs from the baseline's {old.size}; "
                             f"new screenshot in {tmp_path}")
    diff = ImageChops.difference(new, old)
    differing = sum(1 for pixel in diff.convert("L").point(lambda v: 255 if v > 16 else 0).getdata() if pixel)
    share = differing / (new.width * new.height)
    if share > tolerance:
        (tmp_path / f"{name}.png").write_bytes(shot)
        diff.save(tmp_path / f"{name}-diff.png")
        raise AssertionError(f"{name}: {share:.2%} of the pixels differ from the baseline (at most {tolerance:.0%}); "
                             f"new screenshot and diff in {tmp_path}")
