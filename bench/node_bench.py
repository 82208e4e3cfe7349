"""Figures for the foundation issue: publish rate, verify rate, serve start-up time.

Each is printed next to this machine's bare Ed25519 rate measured in the same run, because the
machine is shared and noisy: ratios within one run compare, absolute numbers across runs do not.
"""

from __future__ import annotations

import asyncio
import http.client
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import msgspec

from citynode.config import NodeConfig, build_config
from citynode.node import Node, create_home
from protocol.did import key_resolver
from protocol.proofs import verify_record

STATUS = "https://w3id.org/citynode/status#"


def draft(i: int) -> dict[str, Any]:
    """A realistic ~2 KB practice draft (es + en text, themes, SDGs, keywords)."""
    words = [
        "conectividad",
        "parque",
        "biblioteca",
        "formación",
        "digital",
        "ciudadanía",
        "datos",
        "abiertos",
        "innovación",
        "movilidad",
        "seguridad",
        "participación",
        "barrio",
        "escuela",
    ]
    text_es = " ".join(words[(i + k) % len(words)] for k in range(60))
    text_en = " ".join(
        [
            "connectivity",
            "park",
            "library",
            "training",
            "digital",
            "citizens",
            "open",
            "data",
            "innovation",
            "mobility",
            "safety",
        ][(i + k) % 10]
        for k in range(60)
    )
    return {
        "type": ("Project", "Policy", "Programme")[i % 3],
        "id": f"records/bench-{i}",
        "title": {"es": f"Práctica número {i} de conectividad", "en": f"Connectivity practice {i}"},
        "summary": {"es": text_es, "en": text_en},
        "problem": {"es": text_es[:300], "en": text_en[:300]},
        "approach": {"es": text_es[:400], "en": text_en[:400]},
        "status": STATUS + ("ongoing", "completed", "planned")[i % 3],
        "themes": ["https://w3id.org/citynode/theme#connectivity"],
        "sdgs": ["http://metadata.un.org/sdg/9.c", "http://metadata.un.org/sdg/11.3"],
        "keywords": {"es": ["wifi", "parques"], "en": ["wifi", "parks"]},
        "startDate": "2020-01-15",
    }


def _config(home: Path, port: int) -> NodeConfig:
    return build_config(
        node={"base_url": f"http://127.0.0.1:{port}", "name": "Bench", "country": "CO"},
        server={"host": "127.0.0.1", "port": port},
        federation={"allow_private_peers": True},
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def publish_rate(
    home: Path, count: int, batch: int = 500, shacl: bool = False
) -> tuple[float, list[bytes], Node]:
    """Records/s through Publisher.publish (validate, sign, store, index) in batches."""
    port = free_port()
    await create_home(_config(home, port), home)
    node = await Node.open(home)
    drafts = [draft(i) for i in range(count)]
    started = time.perf_counter()
    for start in range(0, count, batch):
        await node.publisher.publish(drafts[start : start + batch], shacl=shacl)
    elapsed = time.perf_counter() - started
    async with node.db.reader.execute("SELECT body FROM records LIMIT 2000") as cursor:
        bodies = [bytes(row[0]) for row in await cursor.fetchall()]
    return count / elapsed, bodies, node


def verify_rate(bodies: list[bytes], node: Node, seconds: float = 1.5) -> float:
    """Records/s through the full verify path: decode JSON, canonicalize, check the proof."""
    keys = {f"{node.identity.did}#{k.fragment}": k for k in node.identity.keys}
    resolve = key_resolver(keys)
    done = 0
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        for body in bodies:
            verify_record(msgspec.json.decode(body), resolve, allow_http=True)
        done += len(bodies)
    return done / (time.perf_counter() - started)


def serve_startup(home: Path) -> float:
    """Seconds from starting `citynode serve` to its first answered request."""
    config = (home / "citynode.toml").read_text()
    port = int(next(line.split("=")[1] for line in config.splitlines() if line.startswith("port")))
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "citynode.cli", "serve", "--home", str(home)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while True:
            try:
                # The bench is an outside client of the node it started (loopback only).
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
                try:
                    connection.request("GET", "/records?limit=1")
                    if connection.getresponse().status == 200:
                        return time.perf_counter() - started
                finally:
                    connection.close()
            except OSError:
                if time.perf_counter() - started > 30:
                    raise
                time.sleep(0.01)
    finally:
        process.terminate()
        process.wait(timeout=10)


async def run(bare_verify: float, count: int = 10_000) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "node"
        rate, bodies, node = await publish_rate(home, count)
        try:
            verified = verify_rate(bodies, node)
        finally:
            await node.close()
        startup = serve_startup(home)
        # SHACL costs milliseconds a record (pyshacl): measured on a smaller batch.
        shacl_rate, _, shacl_node = await publish_rate(
            Path(tmp) / "shacl", min(count, 2_000), shacl=True
        )
        await shacl_node.close()
    return {
        "publish_per_s": rate,
        "publish_shacl_per_s": shacl_rate,
        "verify_per_s": verified,
        "verify_ratio": verified / bare_verify,
        "startup_s": startup,
        "records": count,
    }


def main(bare_verify: float) -> dict[str, float]:
    return asyncio.run(run(bare_verify))
