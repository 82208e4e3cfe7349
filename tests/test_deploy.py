"""The deploy/ files: the systemd unit verifies and is hardened, the compose proxy's nginx
configuration loads, the container entry point creates and runs a node, the Dockerfile runs as
a non-root user from the lock. (No Docker engine runs here: the image itself is not built in
the tests; `docker compose config` checks the compose file where the client is installed.)"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.tls import LocalCA

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
UNIT = DEPLOY / "systemd" / "citynode.service"


def settings(path: Path) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, value = line.split("=", 1)
            found.setdefault(key.strip(), []).append(value.strip())
    return found


def test_systemd_unit_is_hardened_and_verifies(tmp_path: Path) -> None:
    unit = settings(UNIT)
    assert unit["User"] == ["citynode"] and unit["Group"] == ["citynode"]
    assert unit["ProtectSystem"] == ["strict"]
    assert unit["NoNewPrivileges"] == ["yes"]
    assert unit["ReadWritePaths"] == ["/var/lib/citynode"]  # the home: the only writable path
    assert unit["ProtectHome"] == ["yes"] and unit["PrivateTmp"] == ["yes"]
    assert unit["CapabilityBoundingSet"] == [""]
    assert unit["ExecStart"][0].endswith("citynode serve --home /var/lib/citynode/node")
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed; the unit's settings were checked above")
    # Verify the unit as written, with ExecStart pointing at this checkout's command.
    local = tmp_path / "citynode.service"
    command = Path(sys.executable).with_name("citynode")
    local.write_text(UNIT.read_text().replace("/opt/citynode/bin/citynode", str(command)))
    done = subprocess.run(
        [analyze, "verify", str(local)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip() == "", done.stderr


def test_compose_proxy_configuration_loads_in_nginx(tmp_path: Path) -> None:
    ca = LocalCA(tmp_path / "certs")
    for name in ("medellin", "lisboa", "montevideo"):
        ca.issue(f"{name}.example", f"{name}.example")
    conf = (DEPLOY / "nginx" / "compose.conf").read_text()
    conf = conf.replace("/etc/ssl/citynode/", f"{tmp_path / 'certs'}/")
    (tmp_path / "compose.conf").write_text(conf)
    main = tmp_path / "nginx.conf"
    main.write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\n"
        "events {}\n"
        f"http {{ access_log off; include {tmp_path}/compose.conf; }}\n"
    )
    done = subprocess.run(
        ["nginx", "-t", "-c", str(main), "-p", str(tmp_path), "-e", str(tmp_path / "error.log")],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "syntax is ok" in done.stderr


def test_compose_file_is_valid() -> None:
    client = shutil.which("docker-compose")
    if client is None:
        pytest.skip("docker-compose (the offline-capable client) is not installed")
    done = subprocess.run(
        [client, "-f", str(DEPLOY / "compose.yaml"), "config", "-q"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr


def test_dockerfile_runs_as_a_user_from_the_lock() -> None:
    text = (DEPLOY / "Dockerfile").read_text()
    lines = [line.strip() for line in text.splitlines() if line.strip() and line[0] != "#"]
    froms = [line for line in lines if line.startswith("FROM ")]
    assert froms and all("-slim" in line for line in froms), froms
    assert "pip install --no-cache-dir -r requirements.lock" in text
    user = [i for i, line in enumerate(lines) if line.startswith("USER ")]
    entry = next(i for i, line in enumerate(lines) if line.startswith("ENTRYPOINT "))
    assert user and lines[user[-1]] == "USER citynode" and user[-1] < entry
    assert "/healthz" in text and "CITYNODE_HOME=/data/node" in text


def test_entrypoint_creates_the_node_from_the_environment(tmp_path: Path) -> None:
    home = tmp_path / "data" / "node"
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        "CITYNODE_HOME": str(home),
        "CITYNODE_NODE_BASE_URL": "https://medellin.example",
        "CITYNODE_NODE_NAME": "Medellín",
        "CITYNODE_NODE_COUNTRY": "CO",
        "CITYNODE_SERVER_PORT": "9999",
    }
    samples = ROOT / "citynode" / "samples" / "medellin" / "records.jsonld"
    done = subprocess.run(
        ["sh", str(DEPLOY / "docker-entrypoint.sh"), "publish", str(samples), "--quiet"],
        capture_output=True, text=True, env=env, timeout=300, cwd=ROOT,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert (home / "citynode.toml").exists() and "records published" in done.stderr
    assert oct((home / "keys" / "key-1.pem").stat().st_mode & 0o777) == "0o600"
    # Missing identity variables are named, nothing is created.
    bare = {k: v for k, v in env.items() if k != "CITYNODE_NODE_NAME"}
    bare["CITYNODE_HOME"] = str(tmp_path / "other")
    done = subprocess.run(
        ["sh", str(DEPLOY / "docker-entrypoint.sh")],
        capture_output=True, text=True, env=bare, timeout=60,
    )  # fmt: skip
    assert done.returncode != 0 and "CITYNODE_NODE_NAME" in done.stderr
    assert not (tmp_path / "other").exists()
