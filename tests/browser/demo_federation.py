"""The three-city demo as a real process on loopback, for the browser tests and screenshots.

`make demo` itself (`python -m citynode.demo`) on a random free port offset, in a temporary
folder: what a person opens is what the tests open. Stopped (its process group) at the end.
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from citynode.demo import DEFAULT_CITIES, sample_city
from tests.drafts import full_practice

START_SECONDS = 120
#: A practice of Medellín with every field of vocabulary 1.1 (tests/drafts.py), adapted from a
#: Lisboa sample and part of a Medellín programme: the page type that shows each field. Added
#: by the tests only (the demo's samples say only what their sources say).
FULL_PRACTICE = "alfabetizacion-bibliotecas"


class Demo:
    def __init__(self, process: subprocess.Popen[bytes], offset: int, output: Path) -> None:
        self.process = process
        self.offset = offset
        self.output = output
        self.token = ""

    def url(self, city: str = "medellin") -> str:
        return f"http://127.0.0.1:{sample_city(city).port + self.offset}"

    def did(self, city: str) -> str:
        return f"did:web:127.0.0.1%3A{sample_city(city).port + self.offset}"

    def publish(self, records: list[dict[str, Any]], city: str = "medellin") -> list[str]:
        """Publish drafts through the API (loopback); their ids."""
        request = urllib.request.Request(
            f"{self.url(city)}/api/records",
            data=json.dumps(records).encode(),
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=60) as response:  # loopback only
            body = json.load(response)
        return [r["id"] for r in body["records"]]

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(5)


def _free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _offset() -> int:
    ports = [sample_city(c).port for c in DEFAULT_CITIES]
    for _ in range(50):
        offset = random.randrange(10_000, 40_000)
        if all(_free(p + offset) for p in ports):
            return offset
    raise RuntimeError("no free ports for the demo")


def start_demo(data: Path) -> Demo:
    offset = _offset()
    output = data / "demo-output.txt"
    with output.open("wb") as sink:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "citynode.demo",
                "--data",
                str(data / "cities"),
                "--port-offset",
                str(offset),
            ],
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    demo = Demo(process, offset, output)
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        text = output.read_text(encoding="utf-8", errors="replace")
        found = re.search(r"editor token: (\S+)", text)
        if found:
            demo.token = found.group(1)
            demo.publish([_full_practice(demo)])
            return demo
        if process.poll() is not None:
            raise RuntimeError(f"the demo stopped:\n{text}")
        time.sleep(0.2)
    demo.stop()
    raise RuntimeError(f"the demo did not start in {START_SECONDS} s:\n{output.read_text()}")


def _full_practice(demo: Demo) -> dict[str, Any]:
    draft = full_practice(
        FULL_PRACTICE,
        adapted_from=f"{demo.url('lisboa')}/records/wifi-espacos-publicos",
        partOf=[f"{demo.url()}/records/eva-escuela-virtual"],
        approach={"fr": "Des ateliers dans chaque bibliothèque de quartier."},
    )
    return draft
