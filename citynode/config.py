"""The node's configuration: `citynode.toml` in the node's home folder.

Config Structs forbid unknown fields (STYLE.md point 3): a typo in citynode.toml fails loudly
instead of being ignored.
"""

from __future__ import annotations

import json
import os
import tomllib
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta, Struct

from citynode.errors import ConfigError
from protocol.langtags import MAX_LENGTH as TAG_LENGTH
from protocol.langtags import PATTERN as TAG_PATTERN
from protocol.messages import Population

CONFIG_FILE = "citynode.toml"
DATABASE_FILE = "citynode.db"
KEYS_DIR = "keys"
SPARQL_DIR = "sparql"

#: Any BCP 47 language tag (es, en, pt-BR, fr...): the languages the node's city writes in.
Language = Annotated[str, Meta(pattern=TAG_PATTERN, max_length=TAG_LENGTH)]


class NodeSection(Struct, forbid_unknown_fields=True, kw_only=True):
    base_url: Annotated[str, Meta(pattern=r"^https?://[^/\s]+(/[^\s]*)?$")]
    name: Annotated[str, Meta(min_length=1, max_length=200)]
    country: Annotated[str, Meta(pattern=r"^[A-Z]{2}$")]
    wikidata: str | None = None
    languages: list[Language] = msgspec.field(default_factory=lambda: ["es", "en"])
    illustrative: bool = False
    # The city's population, with its year and source, for per-capita comparisons of
    # indicators (served in the node descriptor). `population_illustrative` when the figure or
    # the year is not from a source.
    population: Annotated[int, Meta(ge=1, le=10**10)] | None = None
    population_year: Annotated[int, Meta(ge=1800, le=2200)] | None = None
    # Who counted: a census, a statistics office, a web address.
    population_source: Annotated[str, Meta(min_length=1, max_length=400)] | None = None
    population_illustrative: bool = False

    @property
    def population_profile(self) -> Population | None:
        if self.population is None or self.population_year is None:
            return None
        return Population(
            count=self.population,
            year=self.population_year,
            source=self.population_source,
            illustrative=self.population_illustrative,
        )


class ServerSection(Struct, forbid_unknown_fields=True, kw_only=True):
    host: str = "127.0.0.1"
    port: Annotated[int, Meta(ge=0, le=65535)] = 8700
    max_body_bytes: Annotated[int, Meta(ge=1024, le=64 * 1024 * 1024)] = 2 * 1024 * 1024
    max_page_size: Annotated[int, Meta(ge=1, le=5000)] = 500
    # Reverse proxies (addresses or CIDR networks) whose X-Forwarded-For/-Proto/-Host headers
    # are believed: the client address behind them is what rate limits, refusal counters and
    # logs see (citynode/ops/forwarded.py). Empty: the headers are ignored.
    trusted_proxies: list[str] = []
    # Slow clients: a connection that has not sent a whole request head within this time is
    # closed (it is also the idle keep-alive time), and a request body must arrive within
    # body_timeout_seconds (408 otherwise), so slow-drip clients hold nothing for long.
    header_timeout_seconds: Annotated[float, Meta(gt=0, le=3600)] = 20.0
    body_timeout_seconds: Annotated[float, Meta(gt=0, le=3600)] = 30.0


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
    # The longest wait before retrying a peer that failed (sync backoff and the client's
    # per-host backoff): after a network partition heals, peers find each other again within
    # about this long, or at once when the other side pushes a notice.
    retry_cap_seconds: Annotated[float, Meta(gt=0)] = 21600.0
    # A burst of push notices from one peer gives at most one pull per gap.
    notice_min_gap_seconds: Annotated[float, Meta(ge=0)] = 0.25
    # Writes within this window share one push notice.
    push_debounce_seconds: Annotated[float, Meta(ge=0)] = 0.05
    # DID documents: kept this long, and re-read on an unknown key id at most once per refresh.
    did_cache_seconds: Annotated[float, Meta(ge=0)] = 60.0
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


class OpendataSection(Struct, forbid_unknown_fields=True, kw_only=True):
    """The catalog, dumps, SPARQL endpoint and feeds (citynode/opendata/)."""

    # Who answers questions about the node's data: the catalog's contact point (DCAT-AP).
    contact_email: Annotated[str, Meta(pattern=r"^[^@\s]+@[^@\s]+$")] | None = None
    contact_url: Annotated[str, Meta(pattern=r"^https?://\S+$")] | None = None
    sparql: bool = True
    # Query processes (each query runs in one; a query past its time is killed with it).
    sparql_processes: Annotated[int, Meta(ge=1, le=16)] = 2
    sparql_timeout_seconds: Annotated[float, Meta(gt=0, le=600)] = 10.0
    # Rows (or triples) in one answer; a larger result is cut and says so.
    sparql_max_rows: Annotated[int, Meta(ge=1, le=1_000_000)] = 10_000
    # Entries in an Atom feed.
    feed_entries: Annotated[int, Meta(ge=1, le=500)] = 50


class OpsSection(Struct, forbid_unknown_fields=True, kw_only=True):
    """Logs, metrics and readiness (citynode/ops/)."""

    # `json`: one JSON object a line with the request id (for log collectors); `text`: for
    # people reading a terminal.
    log_format: Literal["json", "text"] = "json"
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    # One log line per request (method, route, status, time, request id).
    access_log: bool = True
    # Prometheus metrics at /metrics (restrict who reaches it at the proxy; deploy/nginx).
    metrics: bool = True
    # /readyz answers 503 while a change-log follower (search index, SPARQL store...) has been
    # behind the head for longer than this.
    ready_max_lag_seconds: Annotated[float, Meta(gt=0)] = 30.0
    # ... or is more than this many entries behind (a view rebuilding from zero after a
    # restore or an upgrade is not ready, however recently it started).
    ready_max_lag_entries: Annotated[int, Meta(ge=0)] = 1000


class NodeConfig(Struct, forbid_unknown_fields=True, kw_only=True):
    node: NodeSection
    server: ServerSection = msgspec.field(default_factory=ServerSection)
    federation: FederationSection = msgspec.field(default_factory=FederationSection)
    opendata: OpendataSection = msgspec.field(default_factory=OpendataSection)
    ops: OpsSection = msgspec.field(default_factory=OpsSection)
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

    @property
    def sparql_path(self) -> Path:
        """The SPARQL store and its checkpoints (a derived view: safe to delete)."""
        return self.home_path / SPARQL_DIR


#: Environment variables that are not settings (the home folder of containers' commands).
ENV_PREFIX = "CITYNODE_"
HOME_VARIABLE = "CITYNODE_HOME"


def sections() -> dict[str, type[Struct]]:
    """Every section of citynode.toml: its name and its Struct (`[node]`, `[server]`, ...)."""
    hints = typing.get_type_hints(NodeConfig)
    return {
        field.name: hints[field.name]
        for field in msgspec.structs.fields(NodeConfig)
        if isinstance(hints[field.name], type) and issubclass(hints[field.name], Struct)
    }


def env_name(section: str, field: str) -> str:
    """The environment variable that overrides one setting: CITYNODE_SERVER_PORT."""
    return f"{ENV_PREFIX}{section}_{field}".upper()


def _env_value(hint: Any, text: str) -> Any:
    """An environment string read as the setting's type: strings as they are, lists as a JSON
    array or comma-separated words, numbers and booleans as JSON (`8700`, `true`)."""
    base = typing.get_args(hint)[0] if typing.get_origin(hint) is Annotated else hint
    origin = typing.get_origin(base)
    optional_str = origin in (typing.Union, types.UnionType) and str in typing.get_args(base)
    if base is str or origin is Literal or optional_str:
        return text
    if origin is list:
        if text.strip().startswith("["):
            return msgspec.json.decode(text)
        return [part.strip() for part in text.split(",") if part.strip()]
    return msgspec.json.decode(text)


def environment_overrides(environ: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    """Settings given as CITYNODE_<SECTION>_<SETTING> variables (containers), checked one by
    one so an error names the variable. A variable naming a section but no setting of it is an
    error (a typo must not be ignored); other CITYNODE_ variables are not settings."""
    overrides: dict[str, dict[str, Any]] = {}
    for section, struct in sections().items():
        hints = typing.get_type_hints(struct, include_extras=True)
        prefix = f"{ENV_PREFIX}{section.upper()}_"
        names = {env_name(section, name): name for name in hints}
        for variable, text in environ.items():
            if not variable.startswith(prefix):
                continue
            name = names.get(variable)
            if name is None:
                raise ConfigError(
                    f"{variable} is not a setting: [{section}] has " + ", ".join(sorted(hints)),
                    variable=variable,
                )
            try:
                value = msgspec.convert(_env_value(hints[name], text), hints[name])
            except (msgspec.ValidationError, msgspec.DecodeError) as exc:
                raise ConfigError(f"{variable}={text!r}: {exc}", variable=variable) from None
            overrides.setdefault(section, {})[name] = value
    return overrides


def load_config(home: Path, environ: Mapping[str, str] | None = None) -> NodeConfig:
    """Read `citynode.toml` from a node's home folder, naming the file and field on error.

    CITYNODE_<SECTION>_<SETTING> environment variables override the file
    (docs/configuration.md); `environ` defaults to the process environment.
    """
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
    for section, values in environment_overrides(
        os.environ if environ is None else environ
    ).items():
        if not isinstance(raw.get(section, {}), dict):
            raise ConfigError(f"{path}: [{section}] must be a table", file=str(path))
        raw[section] = {**raw.get(section, {}), **values}
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
    ops: Mapping[str, Any] | None = None,
) -> NodeConfig:
    """The one config builder for code that makes a node (`init`, the demo, tests, benches):
    the sections as citynode.toml would hold them, checked as load_config checks the file."""
    return config_from(
        {
            "node": dict(node),
            "server": dict(server or {}),
            "federation": dict(federation or {}),
            "ops": dict(ops or {}),
        },
        "the node's settings",
    )


def _toml_value(value: object) -> str:
    # JSON strings, numbers, booleans and arrays of those are valid TOML values.
    return json.dumps(value, ensure_ascii=False)


def render_config(config: NodeConfig) -> str:
    """The config as TOML text (the inverse of load_config, comments included)."""
    lines = ["# citynode configuration. Unknown keys are an error.", ""]
    for section_name in sections():
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
