"""The screenshot of the rater's page in docs/study.png, taken by headless Chromium.

A one-image study (a 320 x 320 crop of Kodak's kodim23, JPEG quality 10 against WebP quality 5)
is served by ``bench study serve``; Chromium opens a rater link, zooms in once and saves the page.

    PYTHONPATH=. python benchmarks/study_screenshot.py [--out docs/study.png]
"""
from __future__ import annotations

import argparse
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

from study_common import served


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/study.png"))
    args = parser.parse_args()

    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.support.ui import WebDriverWait

    from bench.codecs.jpeg import JPEG
    from bench.codecs.webp import WebP
    from bench.core.benchmark import run_benchmark
    from bench.core.plan import ImageSource, RunPlan
    from bench.metrics.registry import select_metrics
    from bench.study.design import create_study
    from bench.study.store import AnswerStore

    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        kodak = Path(os.environ.get("BENCH_DATA_DIR", "../shared/datasets")) / "kodak" / "kodim23.png"
        pixels = np.asarray(Image.open(kodak).convert("RGB"))[40:360, 200:520]
        Image.fromarray(pixels).save(root / "kodim23.png")
        plan = RunPlan(images=[ImageSource("kodak", "kodim23.png", root / "kodim23.png")], codecs={"jpeg": JPEG(), "webp": WebP()},
                       metrics=list(select_metrics("psnr").chosen.values()), settings={"jpeg": [10], "webp": [5]},
                       save_reconstructions=True)
        run_benchmark(plan, root / "run", jobs=1, metadata={"command_line": "benchmarks/study_screenshot.py"})
        study = create_study(root / "run", root / "study", pairs=[("jpeg/10", "webp/5")], matched=[], golds=1, repeats=0,
                             originals={"kodim23.png": root / "kodim23.png"})
        with AnswerStore(study.path) as store:
            [(index, token)] = store.add_raters(1)
        with served(study.path) as url:
            options = webdriver.ChromeOptions()
            options.binary_location = shutil.which("chromium")
            for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--window-size=1100,640",
                         f"--user-data-dir={root / 'profile'}"):
                options.add_argument(flag)
            browser = webdriver.Chrome(options=options, service=Service(shutil.which("chromedriver")))
            try:
                browser.get(f"{url}/r/{token}")
                ready = "return document.body.dataset.state === 'ready' && document.body.dataset.slot"
                if WebDriverWait(browser, 15).until(lambda b: b.execute_script(ready)).startswith("g"):
                    browser.find_element("id", "choose-left").click()  # the gold trial came first: answer it
                    WebDriverWait(browser, 15).until(lambda b: (b.execute_script(ready) or "g").startswith("t"))
                browser.save_screenshot(str(root / "page.png"))
            finally:
                browser.quit()
        picture = Image.open(root / "page.png").convert("RGB")
        picture.quantize(colors=128, method=Image.Quantize.MEDIANCUT).save(args.out, optimize=True)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1024:.0f} KiB)")


if __name__ == "__main__":
    main()
