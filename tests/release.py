"""A previous release of citynode, built from its git tag into a cached virtual environment, and
run as a real `citynode serve` process beside the nodes of the current code.

A release is named by its tag and pinned to its commit here (RELEASES): a clone made without
tags (CI's, a fork's) still has the commit in its history, and a tag that moved is caught.

The venv is built once per (release commit, its own requirements.lock) under `.cache/releases/`
in the repository (git-ignored), from the tag's own lock file, so the old node runs exactly the
dependencies it was released with; later runs reuse it, so the suite stays fast.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
import socket
import subprocess
import sys
import tarfile
import time
from dataclasses import dataclass
from pathlib import Path

import msgspec

REPO = Path(__file__).resolve().parents[1]
CACHE = REPO / ".cache" / "releases"

# Each published release and the commit it was cut from (the tag points at the same commit).
RELEASES = {"v0.1.0": "e9707d41b58b3aef1646812a20c022ffde391f93"}


def _git(*args: str) -> bytes:
    done = subprocess.run(["git", "-C", str(REPO), *args], capture_output=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(
            f"git {' '.join(args)} failed: {done.stderr.decode(errors='replace').strip()} "
            "(the mixed-version test needs the release's commit in this clone's history: a full "
            "clone, not a shallow one; git fetch --unshallow)"
        )
    return done.stdout


def release_venv(tag: str) -> Path:
    """The `citynode` executable of release `tag`, building its venv on first use."""
    commit = _release_commit(tag)
    lock = _git("show", f"{commit}:requirements.lock")
    key = hashlib.sha256(commit.encode() + lock).hexdigest()[:16]
    home = CACHE / f"{tag}-{key}"
    executable = home / "venv" / "bin" / "citynode"
    if (home / "ready").exists() and executable.exists():
        return executable
    # Built in place (a venv's scripts name their folder); `ready` is written last, so a build
    # cut short is started again from scratch.
    if home.exists():
        shutil.rmtree(home)
    source = home / "src"
    source.mkdir(parents=True)
    archive = home / "src.tar"
    archive.write_bytes(_git("archive", "--format=tar", commit))
    with tarfile.open(archive) as tar:
        tar.extractall(source, filter="data")
    _quiet([sys.executable, "-m", "venv", str(home / "venv")])
    pip = [str(home / "venv" / "bin" / "python"), "-m", "pip", "install", "--quiet"]
    _quiet([*pip, "-r", str(source / "requirements.lock")])
    _quiet([*pip, "--no-deps", str(source)])
    (home / "ready").write_text(commit + "\n")
    return executable


def _release_commit(tag: str) -> str:
    commit = RELEASES[tag]
    _git("cat-file", "-e", f"{commit}^{{commit}}")
    tagged = subprocess.run(
        ["git", "-C", str(REPO), "rev-list", "-n", "1", f"refs/tags/{tag}"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if tagged.returncode == 0 and tagged.stdout.strip() != commit:
        raise RuntimeError(f"tag {tag} points at {tagged.stdout.strip()}, not the release {commit}")
    return commit


def _quiet(command: list[str]) -> None:
    done = subprocess.run(command, capture_output=True, text=True, timeout=900, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stdout}{done.stderr}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class OldNode:
    """A node of a previous release, run as its own `citynode serve` process."""

    executable: Path
    home: Path
    url: str
    process: subprocess.Popen[bytes] | None = None

    async def call(self, *args: str) -> str:
        """`run` in a thread: the nodes of the current code live on this event loop, and the old
        node's commands talk to them."""
        return await asyncio.to_thread(self.run, *args)

    def run(self, *args: str) -> str:
        done = subprocess.run(
            [str(self.executable), *args, "--home", str(self.home)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            env={**os.environ, "PYTHONPATH": ""},
        )
        if done.returncode != 0:
            raise AssertionError(f"old citynode {' '.join(args)}: {done.stderr}{done.stdout}")
        return done.stdout

    def init(self, name: str, allow: list[str]) -> None:
        done = subprocess.run(
            [
                str(self.executable), "init", "--home", str(self.home), "--url", self.url,
                "--name", name, "--country", "CO", "--allow-private-peers",
            ],
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        if done.returncode != 0:
            raise AssertionError(f"old citynode init: {done.stderr}")
        config = self.home / "citynode.toml"
        text = config.read_text(encoding="utf-8")
        # Approve the new node's peer request without an operator, and keep the old node from
        # pulling on its own: the test says when each side syncs.
        text = text.replace("allow = []", f"allow = {msgspec.json.encode(allow).decode()}")
        text = text.replace("worker = true", "worker = false")
        config.write_text(text, encoding="utf-8")

    def serve(self) -> None:
        self.process = subprocess.Popen(
            [str(self.executable), "serve", "--home", str(self.home)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", int(self.url.rsplit(":", 1)[1])), 0.2):
                    return
            except OSError:
                if self.process.poll() is not None:
                    raise AssertionError(f"old serve exited: {self.process.stderr}") from None
                time.sleep(0.1)
        raise AssertionError("the old node did not start listening within 30 s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        if self.process is not None and self.process.stderr is not None:
            self.process.stderr.close()
