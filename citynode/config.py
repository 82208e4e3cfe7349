"""The node's configuration: `citynode.toml` in the node's home folder.

Config Structs forbid unknown fields (STYLE.md point 3): a typo in citynode.toml fails loudly
instead of being ignored.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta, Struct

from citynode.errors import ConfigError

CONFIG_FILE = "citynode.toml"
DATABASE_FILE = "citynode.db"
KEYS_DIR = "keys"

Language = Literal["es", "en", "pt"]


class NodeSection(Struct, forbid_unknown_fields=True, kw_only=True):
    base_url: Annotated[str, Meta(pattern=r"^https?://[^/\s]+(/[^\s]*)?$")]
    name: Annotated[str, Meta(min_length=1, max_length=200)]
    country: Annotated[str, Meta(pattern=r"^[A-Z]{2}$")]
    wikidata: str | None = None
    languages: list[Language] = msgspec.field(default_factory=lambda: ["es", "en"])
    illustrative: bool = False


class ServerSection(Struct, forbid_unknown_fields=True, kw_only=True):
    host: str = "127.0.0.1"
    port: Annotated[int, Meta(ge=0, le=65535)] = 8700
    max_body_bytes: Annotated[int, Meta(ge=1024, le=64 * 1024 * 1024)] = 2 * 1024 * 1024
    max_page_size: Annotated[int, Meta(ge=1, le=5000)] = 500


class FederationSection(Struct, forbid_unknown_fields=True, kw_only=True):
    # Loopback and private addresses are refused as peers unless the operator allows them
    # (tests and the demo run every node on 127.0.0.1).
    allow_private_peers: bool = False
    allow: list[str] = []
    deny: list[str] = []
    relay: bool = True
    sync_interval_seconds: Annotated[float, Meta(gt=0)] = 60.0
    reconcile_interval_seconds: Annotated[float, Meta(gt=0)] = 600.0
    live_search: bool = False
    # The federation worker and its limits (citynode/federation/). Defaults suit a public node;
    # tests shorten the times.
    worker: bool = True
    max_concurrent_peers: Annotated[int, Meta(ge=1, le=64)] = 4
    # Per-peer request budget: pages pulled from one peer before the others get a turn.
    pages_per_turn: Annotated[int, Meta(ge=1, le=10_000)] = 20
    page_size: Annotated[int, Meta(ge=1, le=5000)] = 500
    request_timeout_seconds: Annotated[float, Meta(gt=0)] = 10.0
    # A burst of push notices from one peer gives at most one pull per gap.
    notice_min_gap_seconds: Annotated[float, Meta(ge=0)] = 0.25
    # Writes within this window share one push notice.
    push_debounce_seconds: Annotated[float, Meta(ge=0)] = 0.05
    # DID documents: kept this long, and re-read on an unknown key id at most once per refresh.
    did_cache_seconds: Annotated[float, Meta(ge=0)] = 300.0
    did_refresh_seconds: Annotated[float, Meta(ge=0)] = 5.0
    # Signed /fed/ requests: accepted age, a token bucket per verified signer DID, and one per
    # source address charged before the signature is checked (federation/inbound.py).
    signature_max_age_seconds: Annotated[int, Meta(ge=1, le=3600)] = 300
    inbound_rate_per_second: Annotated[float, Meta(gt=0)] = 50.0
    inbound_burst: Annotated[int, Meta(ge=1)] = 200
    inbound_source_rate_per_second: Annotated[float, Meta(gt=0)] = 100.0
    inbound_source_burst: Annotated[int, Meta(ge=1)] = 400
    # Processes verifying large pages in parallel: 0 = one per CPU, 1 = verify in-process.
    verify_processes: Annotated[int, Meta(ge=0, le=64)] = 0


class NodeConfig(Struct, forbid_unknown_fields=True, kw_only=True):
    node: NodeSection
    server: ServerSection = msgspec.field(default_factory=ServerSection)
    federation: FederationSection = msgspec.field(default_factory=FederationSection)
    home: str = ""

    @property
    def base_url(self) -> str:
        return self.node.base_url.rstrip("/")

    @property
    def home_path(self) -> Path:
        return Path(self.home)

    @property
    def database_path(self) -> Path:
        return self.home_path / DATABASE_FILE

    @property
    def keys_path(self) -> Path:
        return self.home_path / KEYS_DIR


def load_config(home: Path) -> NodeConfig:
    """Read `citynode.toml` from a node's home folder, naming the file and field on error."""
    path = home / CONFIG_FILE
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            f"{path} not found: create the node first with `citynode init --home {home} ...`",
            file=str(path),
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}", file=str(path)) from None
    config = config_from(raw, str(path))
    return msgspec.structs.replace(config, home=str(home.resolve()))


def config_from(raw: Mapping[str, Any], source: str) -> NodeConfig:
    """A NodeConfig from plain values, every constraint checked (`source` names them on error).

    Building the Structs directly would check nothing: msgspec checks `Meta` constraints and
    unknown fields only when it decodes or converts.
    """
    try:
        return msgspec.convert(raw, NodeConfig)
    except msgspec.ValidationError as exc:
        raise ConfigError(f"{source}: {exc}", source=source) from None


def build_config(
    *,
    node: Mapping[str, Any],
    server: Mapping[str, Any] | None = None,
    federation: Mapping[str, Any] | None = None,
) -> NodeConfig:
    """The one config builder for code that makes a node (`init`, the demo, tests, benches):
    the sections as citynode.toml would hold them, checked as load_config checks the file."""
    return config_from(
        {"node": dict(node), "server": dict(server or {}), "federation": dict(federation or {})},
        "the node's settings",
    )


def _toml_value(value: object) -> str:
    # JSON strings, numbers, booleans and arrays of those are valid TOML values.
    return json.dumps(value, ensure_ascii=False)


def render_config(config: NodeConfig) -> str:
    """The config as TOML text (the inverse of load_config, comments included)."""
    lines = ["# citynode configuration. Unknown keys are an error.", ""]
    for section_name in ("node", "server", "federation"):
        section = getattr(config, section_name)
        lines.append(f"[{section_name}]")
        for field in msgspec.structs.fields(section):
            value = getattr(section, field.name)
            if value is None:
                continue
            lines.append(f"{field.name} = {_toml_value(value)}")
        lines.append("")
    return "\n".join(lines)


def write_config(config: NodeConfig, home: Path) -> Path:
    path = home / CONFIG_FILE
    path.write_text(render_config(config), encoding="utf-8")
    return path
