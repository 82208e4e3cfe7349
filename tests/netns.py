"""Hosts in network namespaces for fault tests: real nodes behind real nginx, on a private LAN.

`Lan` makes a switch namespace holding a bridge and one namespace per host, each joined to the
bridge by a veth pair, with an address from 192.0.2.0/24 (TEST-NET-1, RFC 5737) that exists
only inside those namespaces. Every name carries a random suffix (other engineers run tests at
the same time) and `close` removes everything: processes first (SIGKILL), then the namespaces,
which takes their veths with them. A partition is a host's switch port set down; healing sets
it up again.

`City` is one such host running what a city's server runs: `citynode serve` on the host's
loopback and the shipped `deploy/nginx/citynode.conf` terminating TLS on its LAN address with a
certificate from the test's CA. Node processes trust that CA through `SSL_CERT_FILE`, so
federation between cities is https end to end, as on the internet (did:web means https).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from tests.tls import LocalCA

ROOT = Path(__file__).resolve().parents[1]
NGINX_CONF = ROOT / "deploy" / "nginx" / "citynode.conf"
NODE_PORT = 8700


def ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=30)


def netns_available() -> str | None:
    """Why namespaces cannot be made here, or None when they can."""
    probe = f"cnprobe{secrets.token_hex(3)}"
    try:
        ip("netns", "add", probe)
    except (OSError, subprocess.CalledProcessError) as exc:
        return f"cannot create network namespaces: {exc}"
    ip("netns", "del", probe)
    return None


class Host:
    def __init__(self, lan: Lan, index: int) -> None:
        self.lan = lan
        self.index = index
        self.ns = f"cn{lan.suffix}h{index}"
        self.address = f"192.0.2.{10 + index}"
        self.inside = f"v{lan.suffix}i{index}"  # the host's end
        self.port = f"v{lan.suffix}p{index}"  # the switch's end
        self.processes: list[asyncio.subprocess.Process] = []

    def create(self) -> None:
        ip("netns", "add", self.ns)
        ip(
            "link", "add", "name", self.inside, "netns", self.ns, "type", "veth",
            "peer", "name", self.port, "netns", self.lan.switch,
        )  # fmt: skip
        ip("-n", self.lan.switch, "link", "set", self.port, "master", "br0", "up")
        ip("-n", self.ns, "addr", "add", f"{self.address}/24", "dev", self.inside)
        ip("-n", self.ns, "link", "set", self.inside, "up")
        ip("-n", self.ns, "link", "set", "lo", "up")

    def cut(self) -> None:
        ip("-n", self.lan.switch, "link", "set", self.port, "down")

    def heal(self) -> None:
        ip("-n", self.lan.switch, "link", "set", self.port, "up")

    async def spawn(
        self, *command: str, env: dict[str, str] | None = None, log: Path | None = None
    ) -> asyncio.subprocess.Process:
        out = log.open("ab") if log else subprocess.DEVNULL
        try:
            process = await asyncio.create_subprocess_exec(
                "ip", "netns", "exec", self.ns, *command,
                cwd=ROOT, env={**os.environ, **(env or {})},
                stdout=out, stderr=out, start_new_session=True,
            )  # fmt: skip
        finally:
            if log:
                out.close()  # type: ignore[union-attr]
        self.processes.append(process)
        return process

    async def run(
        self, *command: str, env: dict[str, str] | None = None, within: float = 120
    ) -> subprocess.CompletedProcess[str]:
        process = await asyncio.create_subprocess_exec(
            "ip", "netns", "exec", self.ns, *command,
            cwd=ROOT, env={**os.environ, **(env or {})},
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )  # fmt: skip
        try:
            out, err = await asyncio.wait_for(process.communicate(), within)
        except TimeoutError:
            process.kill()
            await process.wait()
            raise
        return subprocess.CompletedProcess(
            command, process.returncode or 0, out.decode(), err.decode()
        )

    async def agent(self, *args: str, env: dict[str, str] | None = None) -> Any:
        done = await self.run(sys.executable, "-m", "tests.netns_agent", *args, env=env)
        if done.returncode != 0:
            raise AssertionError(f"agent {args} in {self.ns} failed:\n{done.stderr}")
        return json.loads(done.stdout)

    async def kill_all(self) -> None:
        for process in self.processes:
            if process.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                await process.wait()
        self.processes.clear()


class Lan:
    def __init__(self, count: int) -> None:
        self.suffix = secrets.token_hex(3)
        self.switch = f"cn{self.suffix}sw"
        self.hosts = [Host(self, i + 1) for i in range(count)]
        self._made: list[str] = []

    def create(self) -> None:
        ip("netns", "add", self.switch)
        self._made.append(self.switch)
        ip("-n", self.switch, "link", "add", "br0", "type", "bridge")
        ip("-n", self.switch, "link", "set", "br0", "up")
        for host in self.hosts:
            self._made.append(host.ns)
            host.create()

    async def close(self) -> None:
        for host in self.hosts:
            await host.kill_all()
        for name in reversed(self._made):
            with contextlib.suppress(subprocess.CalledProcessError):
                ip("netns", "del", name)
        self._made.clear()


#: Settings of every node in the fault tests (CITYNODE_* overrides): quick polls and retries,
#: so a healed partition is noticed within a second or two.
FAST_ENV = {
    "CITYNODE_FEDERATION_SYNC_INTERVAL_SECONDS": "0.5",
    "CITYNODE_FEDERATION_RETRY_CAP_SECONDS": "1",
    "CITYNODE_FEDERATION_REQUEST_TIMEOUT_SECONDS": "5",
    "CITYNODE_SERVER_TRUSTED_PROXIES": "127.0.0.1,::1",
    "CITYNODE_OPS_LOG_FORMAT": "json",
}


class City:
    """One host of the LAN running nginx (TLS) in front of `citynode serve`."""

    def __init__(self, host: Host, name: str, folder: Path, ca: LocalCA) -> None:
        self.host = host
        self.name = name
        self.folder = folder
        self.ca = ca
        self.home = folder / "home"
        self.url = f"https://{host.address}"
        self.env = {**FAST_ENV, "SSL_CERT_FILE": str(ca.bundle)}
        self.node: asyncio.subprocess.Process | None = None
        self.log = folder / "node.log"

    @property
    def did(self) -> str:
        return f"did:web:{self.host.address}"

    def init(self, peers: list[str]) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                sys.executable, "-m", "citynode.cli", "init", "--home", str(self.home),
                "--url", self.url, "--name", self.name, "--country", "CO",
                "--host", "127.0.0.1", "--port", str(NODE_PORT), "--allow-private-peers",
            ],
            cwd=ROOT, check=True, capture_output=True, timeout=120,
        )  # fmt: skip
        self.env["CITYNODE_FEDERATION_ALLOW"] = ",".join(peers)

    def nginx_config(self, upstream_port: int = NODE_PORT) -> Path:
        """The shipped configuration, with this host's name, certificate and paths."""
        # The LAN address, and loopback for the host's own monitoring (/metrics).
        cert, key = self.ca.issue(self.name.lower(), self.host.address, "127.0.0.1")
        site = NGINX_CONF.read_text(encoding="utf-8")
        for old, new in (
            ("medellin.example", self.host.address),
            ("/etc/ssl/citynode/fullchain.pem", str(cert)),
            ("/etc/ssl/citynode/privkey.pem", str(key)),
            (f"127.0.0.1:{NODE_PORT};", f"127.0.0.1:{upstream_port};"),
        ):
            assert old in site, old
            site = site.replace(old, new)
        nginx = self.folder / "nginx"
        nginx.mkdir(exist_ok=True)
        (nginx / "citynode.conf").write_text(site, encoding="utf-8")
        main = nginx / "nginx.conf"
        main.write_text(
            f"""daemon off;
user root;
worker_processes 1;
pid {nginx}/nginx.pid;
error_log {nginx}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log {nginx}/access.log;
    client_body_temp_path {nginx}/body;
    proxy_temp_path {nginx}/proxy;
    fastcgi_temp_path {nginx}/fastcgi;
    uwsgi_temp_path {nginx}/uwsgi;
    scgi_temp_path {nginx}/scgi;
    include {nginx}/citynode.conf;
}}
""",
            encoding="utf-8",
        )
        return main

    async def start(self, upstream_port: int = NODE_PORT) -> None:
        main = self.nginx_config(upstream_port)
        await self.host.spawn(
            "nginx", "-c", str(main), "-p", str(main.parent), "-e", str(main.parent / "error.log"),
            log=self.folder / "nginx.out",
        )  # fmt: skip
        await self.start_node()

    async def start_node(self) -> None:
        self.node = await self.host.spawn(
            sys.executable, "-m", "citynode.cli", "serve", "--home", str(self.home),
            env=self.env, log=self.log,
        )  # fmt: skip

    def kill_node(self) -> None:
        if self.node is not None and self.node.returncode is None:
            os.killpg(self.node.pid, signal.SIGKILL)

    async def wait_ready(self, within: float = 60.0) -> None:
        deadline = time.monotonic() + within
        last: Any = None
        while time.monotonic() < deadline:
            try:
                last = await self.host.agent("get", f"{self.url}/readyz", env=self.env)
                if last["status"] == 200:
                    return
            except AssertionError as exc:
                last = str(exc)
            await asyncio.sleep(0.3)
        raise AssertionError(f"{self.name} not ready: {last}\n{self.tail()}")

    def tail(self, lines: int = 30) -> str:
        text = self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def held(self) -> dict[str, int]:
        """id -> current version of every record the node's database holds (read-only)."""
        conn = sqlite3.connect(f"file:{self.home / 'citynode.db'}?mode=ro", uri=True, timeout=10)
        try:
            return dict(conn.execute("SELECT id, version FROM current").fetchall())
        finally:
            conn.close()

    def duplicates(self) -> int:
        conn = sqlite3.connect(f"file:{self.home / 'citynode.db'}?mode=ro", uri=True, timeout=10)
        try:
            (rows,) = conn.execute("SELECT COUNT(*) FROM records").fetchone()
            (distinct,) = conn.execute(
                "SELECT COUNT(*) FROM (SELECT DISTINCT id, version FROM records)"
            ).fetchone()
        finally:
            conn.close()
        return int(rows) - int(distinct)

    def log_errors(self) -> list[str]:
        """ERROR lines of the node's JSON log."""
        found = []
        for line in self.log.read_text(encoding="utf-8", errors="replace").splitlines():
            with contextlib.suppress(ValueError):
                entry = json.loads(line)
                if entry.get("level") in ("error", "critical"):
                    found.append(line)
        return found


def write_drafts(path: Path, drafts: list[dict[str, Any]]) -> Path:
    path.write_text(json.dumps(drafts), encoding="utf-8")
    return path


async def publish(city: City, path: Path) -> list[str]:
    """`citynode publish` beside the running node (in the host's namespace); the ids stored."""
    done = await city.host.run(
        sys.executable, "-m", "citynode.cli", "publish", "--home", str(city.home), str(path),
        "--quiet", "--skip-shapes", env=city.env, within=300,
    )  # fmt: skip
    if done.returncode != 0:
        raise AssertionError(f"publish at {city.name} failed:\n{done.stderr}")
    return [line.split("\t")[0] for line in done.stdout.splitlines() if "\t" in line]


async def peer_all(cities: list[City]) -> None:
    """Each city adds every other one (their allow lists approve at once)."""
    results = await asyncio.gather(
        *(
            city.host.agent(
                "peer-add",
                "--home",
                str(city.home),
                *(other.url for other in cities if other is not city),
                env=city.env,
            )
            for city in cities
        )
    )
    for city, answers in zip(cities, results, strict=True):
        assert all(answer == "accepted" for answer in answers.values()), (city.name, answers)


async def converged(cities: list[City], within: float) -> float:
    """Seconds until every city holds the same records at the same versions."""
    started = time.monotonic()
    while True:
        views = [await asyncio.to_thread(city.held) for city in cities]
        if all(view == views[0] for view in views):
            return time.monotonic() - started
        if time.monotonic() - started > within:
            sizes = {city.name: len(view) for city, view in zip(cities, views, strict=True)}
            raise AssertionError(f"no convergence within {within} s: {sizes}")
        await asyncio.sleep(0.1)


@pytest.fixture
async def cities(tmp_path: Path) -> AsyncIterator[Callable[[list[str]], Awaitable[list[City]]]]:
    """A factory: `await cities(["Medellín", "Lisboa"])` gives those cities, each on its own
    host of one LAN, initialised and peered-ready (not started); everything is removed after."""
    reason = netns_available()
    if reason:
        pytest.fail(f"the fault tests need network namespaces (run as root): {reason}")
    lans: list[Lan] = []

    async def make(names: list[str]) -> list[City]:
        lan = Lan(len(names))
        lans.append(lan)
        lan.create()
        ca = LocalCA(tmp_path / f"ca-{lan.suffix}")
        made = [
            City(host, name, tmp_path / f"{name.lower()}-{lan.suffix}", ca)
            for host, name in zip(lan.hosts, names, strict=True)
        ]
        for city in made:
            city.init([other.url for other in made if other is not city])
        return made

    try:
        yield make
    finally:
        for lan in lans:
            await lan.close()
