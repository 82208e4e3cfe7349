"""The API contract, checked against a real node: schemathesis over every operation of
/openapi.json, with and without an editor token, finds no 5xx and no answer that breaks the
document (tests/contract_run.py does the run, in a network namespace of its own)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from citynode.app import create_app
from citynode.config import build_config
from citynode.web.contract import openapi_path
from citynode.web.keys import OPERATIONS
from citynode.web.openapi import document
from tests.contract_run import FREE_TEXT, MAX_EXAMPLES, PARTS
from tests.support import RunningNode, request_json

REPO = Path(__file__).resolve().parent.parent


#: A part's longest run (the free-text parts take ~50 s at 10 examples on a quiet machine).
RUN_SECONDS = 60 + 24 * int(MAX_EXAMPLES)


def _operations(pattern: str) -> set[tuple[str, str]]:
    """The operations of the node's own document whose path matches `pattern`."""
    app = create_app(
        build_config(node={"base_url": "http://127.0.0.1:9", "name": "x", "country": "CO"})
    )
    spec = document(app[OPERATIONS], "http://127.0.0.1:9")
    return {(m, p) for p, ops in spec["paths"].items() for m in ops if re.search(pattern, p)}


@pytest.mark.timeout(RUN_SECONDS + 20)
@pytest.mark.parametrize("part", list(PARTS))
def test_schemathesis_finds_no_5xx_and_no_contract_violation(part: str, tmp_path: Path) -> None:
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        pytest.fail("the contract run needs unshare (util-linux) and ip (iproute2)")
    # Root (CI) makes the namespace directly; anyone else through a user namespace.
    isolate = ["unshare", "--net"] if os.geteuid() == 0 else ["unshare", "-r", "--net"]
    run = subprocess.run(
        [*isolate, sys.executable, "-m", "tests.contract_run", str(tmp_path), part],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=RUN_SECONDS,
        check=False,
    )
    report = run.stdout + run.stderr
    assert run.returncode == 0, report[-20_000:]
    # The part tested every operation it selected, and those are the document's own operations
    # for its selection: the typed and the free-text parts between them cover every operation.
    selected = [(int(a), int(b)) for a, b in re.findall(r"Selected: (\d+)/(\d+)", report)]
    tested = [int(n) for n in re.findall(r"Tested: (\d+)", report)]
    assert len(selected) == len(tested) == 1, report[-5_000:]
    # schemathesis leaves out the operation that serves the document it reads.
    everything = _operations("") - {("get", "/openapi.json")}
    text = _operations(FREE_TEXT)
    expected = {
        "typed": everything - text,
        "free-text": text,
        "fed-signed": _operations("^/fed/"),
    }[part.removesuffix("-token")]
    assert selected[0] == (len(expected), len(everything)), (selected, sorted(expected))
    assert tested[0] == len(expected), (tested, sorted(expected))


def test_the_document_names_every_route_the_router_serves() -> None:
    app = create_app(
        build_config(node={"base_url": "http://127.0.0.1:9", "name": "x", "country": "CO"})
    )
    spec = document(app[OPERATIONS], "http://127.0.0.1:9")
    served = {
        (route.method.lower(), openapi_path(route.resource.canonical))
        for route in app.router.routes()
        if route.method != "HEAD" and route.resource is not None
    }
    documented = {(m, p) for p, ops in spec["paths"].items() for m in ops}
    assert served == documented
    ids = [op["operationId"] for ops in spec["paths"].values() for op in ops.values()]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            assert (
                "200" in operation["responses"]
                or "201" in operation["responses"]
                or ("202" in operation["responses"])
            ), (method, path)


async def test_head_is_answered_where_get_is(medellin: RunningNode) -> None:
    status, _, headers = await request_json("HEAD", f"{medellin.url}/records")
    assert status == 200 and headers["Content-Type"].startswith("application/json")
