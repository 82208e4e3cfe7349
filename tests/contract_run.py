"""Schemathesis against a real node, run by tests/test_contract.py inside a network namespace.

`unshare --net` gives this process a network of its own with only loopback: whatever URL or
DID the generated requests name (`POST /api/peers {"url": "http://203.0.113.9"}`, a signature
naming `did:web:example.org`), the node's outbound requests cannot leave the machine, and the
node and schemathesis still talk over 127.0.0.1.

Usage: python -m tests.contract_run WORKDIR PART   (PART one of PARTS; exit status 0: no failure)

The run is cut into parts, each with a node of its own, so the suite's workers share them out.
"""

from __future__ import annotations

import asyncio
import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from citynode.config import build_config
from citynode.demo import SAMPLES
from citynode.imports.files import read_drafts
from citynode.node import Node, create_home
from citynode.storage.records import now_utc
from citynode.storage.tokens import add_token, new_token
from citynode.workers import PR_SET_PDEATHSIG

#: Checks over every answer: no 5xx, the documented status codes, media types and schemas,
#: auth that is really required. Not `positive_data_acceptance`: a body can fit the schema and
#: still be refused for what it means (a peer URL that does not answer is a 422).
CHECKS = (
    "not_a_server_error,status_code_conformance,content_type_conformance,"
    "response_schema_conformance,negative_data_rejection,ignored_auth"
)
#: /api/search takes free text in every facet, and schemathesis writes a generated JSON null as
#: the text "null" in a query string (its hooks do not filter every phase): the node rightly
#: reads that as a facet value, which `negative_data_rejection` counts as accepting invalid
#: data. Every other check still runs on /api/search; its number parameters are refused out of
#: range (tests/test_error_shape.py, tests/test_search.py). `/search.atom` takes the same
#: parameters (a search as a feed). The pages for people read whatever a person types or a form
#: sends as text, never refusing it by type (web/render.py `add_page`), so the same holds for them.
FREE_TEXT = (
    r"^/api/search$|^/search\.atom$"
    r"|^(/\{lang\})?/(search|practice|city|compare|editor(/.*)?|operator(/.*)?|vocab/ontology)?$"
    r"|^/\{lang\}/records/\{slug\}$"
)
TYPED = (("--exclude-path-regex", FREE_TEXT), CHECKS)
TEXT = (("--include-path-regex", FREE_TEXT), CHECKS.replace("negative_data_rejection,", ""))
#: Each part: the operations it selects, the checks, and whether it sends the editor token.
#: "fed-signed" runs the /fed/ routes once more, each request signed by a peer
#: (tests/contract_signer.py), so the generated messages reach the decoders behind the
#: signature check.
PARTS = {
    "typed": (TYPED, False),
    "free-text": (TEXT, False),
    "typed-token": (TYPED, True),
    "free-text-token": (TEXT, True),
    "fed-signed": ((("--include-path-regex", "^/fed/"), CHECKS), False),
}
#: Generated examples per operation in the fuzzing phase (the examples and coverage phases
#: come on top: every documented example, each parameter's boundaries and wrong types).
#: `make soak` runs 100; 10 keeps `make test` within its time (25 cost ~50 % more CPU).
MAX_EXAMPLES = os.environ.get("CITYNODE_CONTRACT_EXAMPLES", "10")
REPO = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _prepare(home: Path, port: int) -> str:
    config = build_config(
        node={"base_url": f"http://127.0.0.1:{port}", "name": "Medellín", "country": "CO"},
        server={"host": "127.0.0.1", "port": port},
        federation={
            "allow_private_peers": True,
            "request_timeout_seconds": 0.5,
            # The signed run sends hundreds of requests from one signer within seconds.
            "inbound_rate_per_second": 100_000.0,
            "inbound_burst": 100_000,
            "live_search": True,
        },
    )
    await create_home(config, home)
    token_id, token = new_token()
    async with Node.opened(home) as node:
        async with node.db.transaction() as conn:
            await add_token(conn, token_id, token, "contract", now_utc())
        drafts = read_drafts(SAMPLES / "medellin" / "records.jsonld", node.config.base_url)
        await node.publisher.publish(drafts)
    return token


def _wait_for(port: int, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"citynode serve exited with {server.returncode}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise SystemExit("citynode serve did not start within 60 s")


def _schemathesis(port: int, work: Path, options: list[str], headers: list[str]) -> int:
    command = [
        str(Path(sys.executable).parent / "schemathesis"),
        "run",
        f"http://127.0.0.1:{port}/openapi.json",
        *options,
        "--phases",
        "examples,coverage,fuzzing",
        "--max-examples",
        MAX_EXAMPLES,
        "--seed",
        "7",
        # One worker: schemathesis compiles with `ast` as it goes, and CPython 3.11's AST
        # constructor is not safe across threads ("AST constructor recursion depth mismatch").
        "--workers",
        "1",
        "--request-timeout",
        "10",
        "--no-color",
        "--suppress-health-check",
        "all",
    ]
    for header in headers:
        command += ["-H", header]
    hooks = {"SCHEMATHESIS_HOOKS": "tests.contract_hooks", "PYTHONPATH": str(REPO)}
    return subprocess.run(command, cwd=work, env={**os.environ, **hooks}, check=False).returncode


def _die_with_parent() -> None:
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def main() -> int:
    work, part = Path(sys.argv[1]), sys.argv[2]
    (selection, checks), with_token = PARTS[part]
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    port = _free_port()
    token = asyncio.run(_prepare(work / "node", port))
    # The node and the signer die with this process: when the test's timeout kills it, no
    # `serve` is left behind in the namespace (prctl PR_SET_PDEATHSIG, as citynode/workers.py).
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "citynode.cli", "serve", "--home", str(work / "node")],
            stdout=subprocess.DEVNULL,
            preexec_fn=_die_with_parent,
        )
    ]
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for(port, processes[0])
        if part == "fed-signed":
            signer_port = _free_port()
            processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "tests.contract_signer", url, str(signer_port)],
                    cwd=REPO,
                    preexec_fn=_die_with_parent,
                )
            )
            _wait_for(signer_port, processes[1])
            selection = ("--url", f"http://127.0.0.1:{signer_port}", *selection)
        headers = [f"Authorization: Bearer {token}"] if with_token else []
        print(f"== schemathesis {' '.join(selection)}, token: {with_token}", flush=True)
        failed = _schemathesis(port, work, [*selection, "--checks", checks], headers)
    finally:
        for process in reversed(processes):
            process.terminate()
            process.wait(timeout=30)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
