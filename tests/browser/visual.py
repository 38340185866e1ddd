"""Visual regression: a page's screenshot against its baseline in tests/browser/baselines/.

A baseline is made only on purpose: run with CODE4_UPDATE_BASELINES=1 (and look at it before
committing). A screenshot that differs in more than `tolerance` of its pixels fails the test,
leaving the new screenshot and a diff image beside it in the test's tmp dir.
"""

from __future__ import annotations

import os
from pathlib import Path

from PIL import Image, ImageChops

BASELINES = Path(__file__).parent / "baselines"


def matches_baseline(png: bytes, name: str, tmp_path: Path, *, tolerance: float = 0.01) -> None:
    baseline = BASELINES / f"{name}.png"
    actual = tmp_path / f"{name}.png"
    actual.write_bytes(png)
    if not baseline.exists():
        if os.environ.get("CODE4_UPDATE_BASELINES") == "1":
            BASELINES.mkdir(exist_ok=True)
            baseline.write_bytes(png)
            return
        raise AssertionError(f"no baseline {baseline}: run with CODE4_UPDATE_BASELINES=1 to make it from {actual}")
    with Image.open(baseline) as old, Image.open(actual) as new:
        if old.size != new.size:
            raise AssertionError(f"{name}: size {new.size}, baseline {old.size}; new screenshot: {actual}")
        diff = ImageChops.difference(old.convert("RGB"), new.convert("RGB"))
        changed = sum(1 for pixel in diff.getdata() if pixel != (0, 0, 0))
        share = changed / (old.size[0] * old.size[1])
        if share > tolerance:
            diff_path = tmp_path / f"{name}-diff.png"
            diff.point(lambda v: 255 if v else 0).save(diff_path)
            raise AssertionError(f"{name}: {share:.1%} of the pixels differ from the baseline (at most "
                                 f"{tolerance:.0%}); new: {actual}, diff: {diff_path}")
