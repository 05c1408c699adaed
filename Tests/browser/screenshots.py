#!/usr/bin/env python3
"""Takes the README screenshots: docs/screenshot-phone.png (390x844) and
docs/screenshot-desktop.png (1280x800), each with one finished and one running job.

Run by `Tests/browser/run.sh --screenshots` (it needs the servers and the environment that
run.sh sets up: SPOOL_URL, MEDIA_URL, MEDIA_DIR).
"""

import argparse
import os
import shutil
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402

from conftest import SpoolPage  # noqa: E402

# Friendlier names than the test files: the title of a direct link is its file name.
FINISHED = "Morning-Birdsong.mp4"
RUNNING = "Harbour-Timelapse.mp4"


def take(out_dir, name, width, height, mobile, scheme):
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for argument in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars", "--lang=en-US", "--force-color-profile=srgb"]:
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(executable_path="/usr/bin/chromedriver"), options=options)
    try:
        driver.set_window_size(width, height + 140)
        driver.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride", {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile}
        )
        driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": [{"name": "prefers-color-scheme", "value": scheme}]})
        page = SpoolPage(driver).open()
        page.wait_connection("live")
        media = os.environ["MEDIA_URL"]
        finished = page.submit(f"{media}/media/{FINISHED}", "mp3", "192")
        page.wait_card(finished, lambda c: c["status"] == "completed", message="the finished job")
        running = page.submit(f"{media}/slow/{RUNNING}", "mp4", "720")
        page.wait_card(running, lambda c: c["step"] == "download" and c["progress"] >= 25, message="the running job")
        driver.execute_script("document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0)")
        time.sleep(0.8)  # let the bar's CSS transition settle for the picture
        path = os.path.join(out_dir, name)
        driver.save_screenshot(path)
        # Leave nothing running behind.
        page.click(running, ".job-cancel")
        page.wait_card(running, lambda c: c["status"] == "cancelled", message="the cancel")
        print(f"screenshots.py: wrote {path} ({os.path.getsize(path) // 1024} KB)")
    finally:
        driver.quit()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    parser.add_argument("--scheme", choices=["light", "dark"], default="light", help="prefers-color-scheme to emulate")
    args = parser.parse_args()
    media_dir = os.environ["MEDIA_DIR"]
    shutil.copyfile(os.path.join(media_dir, "clip.mp4"), os.path.join(media_dir, FINISHED))
    shutil.copyfile(os.path.join(media_dir, "long.mp4"), os.path.join(media_dir, RUNNING))
    os.makedirs(args.out, exist_ok=True)
    suffix = "" if args.scheme == "light" else f"-{args.scheme}"
    take(args.out, f"screenshot-phone{suffix}.png", 390, 844, True, args.scheme)
    take(args.out, f"screenshot-desktop{suffix}.png", 1280, 800, False, args.scheme)


if __name__ == "__main__":
    main()
