"""Running the `citynode` command as a user would: real processes, real files, a real server."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def citynode(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "citynode.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    if check and done.returncode != 0:
        raise AssertionError(f"citynode {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def make_home(tmp_path: Path) -> Path:
    """A new node (Medellín, loopback URL, private peers allowed) made with `citynode init`."""
    home = tmp_path / "medellin"
    port = free_port()
    citynode(
        "init",
        "--home",
        str(home),
        "--url",
        f"http://127.0.0.1:{port}",
        "--name",
        "Medellín",
        "--country",
        "CO",
        "--allow-private-peers",
    )
    return home


@contextmanager
def served(home: Path) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """`citynode serve` in its own process; stopped (and its pipes closed) at the end."""
    config = (home / "citynode.toml").read_text()
    url = next(line.split('"')[1] for line in config.splitlines() if line.startswith("base_url"))
    process = subprocess.Popen(
        [sys.executable, "-m", "citynode.cli", "serve", "--home", str(home)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert "serving" in line, line
        yield process, url
    finally:
        if process.poll() is None:
            process.terminate()
        process.communicate(timeout=10)
