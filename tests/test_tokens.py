"""Editor tokens: create (with an expiry), list, revoke beside a running node; 401 challenges."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from pathlib import Path

from citynode.storage.tokens import add_token, list_tokens, new_token, revoke_token
from citynode.web.keys import OPERATIONS
from tests.cli_support import citynode, served
from tests.drafts import practice
from tests.support import RunningNode, request_json


def _post(
    url: str, token: str | None, slug: str = "t"
) -> tuple[int, dict[str, object], str | None]:
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(
        f"{url}/api/records", data=json.dumps(practice(slug)).encode(), headers=headers
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read()), None
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read()), error.headers.get("WWW-Authenticate")


def test_token_create_list_revoke_beside_a_running_node(home: Path) -> None:
    done = citynode("token", "create", "--home", str(home), "--label", "clerk", "--expires", "90d")
    kept = done.stdout.strip()
    assert "valid until" in done.stderr
    other = citynode("token", "create", "--home", str(home), "--label", "importer").stdout.strip()
    listing = citynode("token", "list", "--home", str(home)).stdout
    assert "clerk" in listing and "importer" in listing and listing.count("active") == 2
    assert kept not in listing and other not in listing  # the secrets are never shown again
    with served(home) as (_, url):
        status, body, challenge = _post(url, None)
        assert status == 401 and challenge == 'Bearer realm="citynode"', challenge
        assert body["code"] == "unauthorized"
        status, _, _ = _post(url, other)
        assert status == 201
        other_id = other.split("_")[1]
        citynode("token", "revoke", "--home", str(home), other_id)
        status, body, challenge = _post(url, other)  # refused at once, by the running node
        assert status == 401 and challenge is not None
        assert 'error="invalid_token"' in challenge and "revoked" in challenge, challenge
        status, body, challenge = _post(url, "cn_00000000_made-up")
        assert status == 401 and "is not a token of this node" in str(challenge)
        status, _, _ = _post(url, kept, "u")
        assert status == 201
    listing = citynode("token", "list", "--home", str(home)).stdout
    assert "revoked" in listing and "never" in listing
    done = citynode("token", "revoke", "--home", str(home), other_id, check=False)
    assert done.returncode == 1 and "no active token" in done.stderr
    done = citynode("token", "create", "--home", str(home), "--expires", "soon", check=False)
    assert done.returncode == 1 and "--expires soon" in done.stderr
    done = citynode("token", "create", "--home", str(home), "--expires", "2001-01-01", check=False)
    assert done.returncode == 1 and "not in the future" in done.stderr


async def test_an_expired_token_is_refused_and_listed_as_expired(medellin: RunningNode) -> None:
    token_id, token = new_token()
    async with medellin.node.db.transaction() as conn:
        await add_token(
            conn, token_id, token, "old", "2020-01-01T00:00:00Z", "2021-01-01T00:00:00Z"
        )
    status, body, headers = await request_json(
        "POST",
        f"{medellin.url}/api/records",
        json=practice("x"),
        headers={"Authorization": f"Bearer {token}"},
    )
    assert status == 401 and "expired at 2021-01-01T00:00:00Z" in body["message"]
    assert 'error="invalid_token"' in headers["WWW-Authenticate"]
    (info,) = [t for t in await list_tokens(medellin.node.db.reader) if t.token_id == token_id]
    assert info.state("2026-01-01T00:00:00Z") == "expired" and info.label == "old"


async def test_every_editor_operation_is_served_behind_the_token_check(
    medellin: RunningNode,
) -> None:
    # Routes.add_to serves each auth="editor" operation behind require_editor, so no handler
    # repeats the check. A request without a usable token is refused before the handler reads
    # anything: an empty body gets the 401, not the handler's 400.
    token_id, revoked = new_token()
    async with medellin.node.db.transaction() as conn:
        await add_token(conn, token_id, revoked, "gone", "2020-01-01T00:00:00Z", None)
        await revoke_token(conn, token_id, "2021-01-01T00:00:00Z")
    editor_ops = [op for op in medellin.runner.app[OPERATIONS] if op.auth == "editor"]
    assert len(editor_ops) >= 9, [op.path for op in editor_ops]
    for op in editor_ops:
        url = medellin.url + re.sub(r"\{[^}]+\}", "x", op.path)
        for authorization, why in (
            (None, "no token"),
            ("Basic eDp4", "another scheme"),
            ("Bearer not-a-token-of-this-node", "not a token of this node"),
            (f"Bearer {revoked}", "revoked"),
        ):
            headers = {} if authorization is None else {"Authorization": authorization}
            status, body, answer = await request_json(op.method, url, headers=headers)
            assert status == 401, (op.method, op.path, why, status, body)
            assert body["code"] == "unauthorized", (op.method, op.path, why, body)
            assert answer["WWW-Authenticate"].startswith("Bearer"), (op.method, op.path, why)
