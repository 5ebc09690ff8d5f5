#!/usr/bin/env python3
"""Signs in to a running Comptoir in headless Chromium and saves a page as PNG, through
ChromeDriver's W3C WebDriver protocol (no client library needed).

    screenshot.py BASE EMAIL PASSWORD PATH OUT.png [--width W] [--height H]
"""
import argparse
import base64
import json
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request


def call(base, method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.load(r)["value"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    p = argparse.ArgumentParser(description=__doc__)
    for a in ["base", "email", "password", "path", "out"]:
        p.add_argument(a)
    p.add_argument("--width", type=int, default=1280)
    p.add_argument("--height", type=int, default=1800)
    args = p.parse_args()
    port = free_port()
    driver = subprocess.Popen([shutil.which("chromedriver"), f"--port={port}"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wd = f"http://127.0.0.1:{port}"
    profile = tempfile.mkdtemp()
    try:
        for _ in range(50):
            try:
                call(wd, "GET", "/status")
                break
            except OSError:
                time.sleep(0.1)
        caps = {"capabilities": {"alwaysMatch": {"browserName": "chrome", "goog:chromeOptions": {
            "binary": shutil.which("chromium"),
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                     "--no-first-run", "--disable-background-networking",
                     "--disable-component-update", "--disable-sync",
                     f"--user-data-dir={profile}", f"--window-size={args.width},{args.height}"]}}}}
        session = call(wd, "POST", "/session", caps)["sessionId"]
        s = f"/session/{session}"

        def find(css):
            el = call(wd, "POST", f"{s}/element", {"using": "css selector", "value": css})
            return next(iter(el.values()))

        call(wd, "POST", f"{s}/url", {"url": args.base + "/login"})
        call(wd, "POST", f"{s}/element/{find('input[name=email]')}/value", {"text": args.email})
        call(wd, "POST", f"{s}/element/{find('input[name=password]')}/value", {"text": args.password})
        call(wd, "POST", f"{s}/element/{find('[data-testid=login-submit]')}/click", {})
        time.sleep(0.5)
        call(wd, "POST", f"{s}/url", {"url": args.base + args.path})
        png = call(wd, "GET", f"{s}/screenshot")
        with open(args.out, "wb") as f:
            f.write(base64.b64decode(png))
        call(wd, "DELETE", s)
    finally:
        driver.terminate()
        shutil.rmtree(profile, ignore_errors=True)


if __name__ == "__main__":
    main()
