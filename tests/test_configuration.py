"""docs/configuration.md against the code, and the CITYNODE_* environment overrides."""

from __future__ import annotations

import re
import typing
from pathlib import Path

import msgspec
import pytest

from citynode.config import (
    NodeConfig,
    NodeSection,
    _toml_value,
    env_name,
    load_config,
    sections,
    write_config,
)
from citynode.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]
ROW = re.compile(r"^\| `(?P<name>[a-z_]+\.[a-z_]+)` \| (?P<default>[^|]+) \| `(?P<env>[A-Z_]+)` \|")


def documented() -> dict[str, tuple[str, str]]:
    rows = {}
    for line in (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8").splitlines():
        match = ROW.match(line)
        if match:
            assert match["name"] not in rows, f"{match['name']} is documented twice"
            rows[match["name"]] = (match["default"].strip(), match["env"])
    return rows


def in_code() -> dict[str, tuple[str, str]]:
    settings = {}
    for section, struct in sections().items():
        for field in msgspec.structs.fields(struct):
            if field.default is not msgspec.NODEFAULT:
                default = field.default
            elif field.default_factory is not msgspec.NODEFAULT:
                default = field.default_factory()
            else:
                default = ...
            if default is ...:
                shown = "(required)"
            elif default is None:
                shown = "(none)"
            else:
                shown = f"`{_toml_value(default)}`"
            settings[f"{section}.{field.name}"] = (shown, env_name(section, field.name))
    return settings


def test_every_setting_is_documented_with_its_default_and_variable() -> None:
    docs, code = documented(), in_code()
    assert sorted(set(code) - set(docs)) == [], "settings missing from docs/configuration.md"
    assert sorted(set(docs) - set(code)) == [], "documented settings the code does not have"
    for name, (default, env) in code.items():
        assert docs[name] == (default, env), name


def test_no_setting_outside_the_documented_sections() -> None:
    hints = typing.get_type_hints(NodeConfig)
    plain = [f.name for f in msgspec.structs.fields(NodeConfig) if f.name not in sections()]
    assert plain == ["home"], plain  # `home` is where the file was read from, not a setting
    assert hints["home"] is str


def make_home(tmp_path: Path) -> Path:
    config = NodeConfig(
        node=NodeSection(base_url="https://medellin.example", name="Medellín", country="CO")
    )
    write_config(config, tmp_path)
    return tmp_path


def test_environment_overrides_the_file(tmp_path: Path) -> None:
    home = make_home(tmp_path)
    config = load_config(
        home,
        environ={
            "CITYNODE_SERVER_PORT": "9100",
            "CITYNODE_SERVER_HOST": "0.0.0.0",
            "CITYNODE_SERVER_TRUSTED_PROXIES": "10.0.0.0/8, 127.0.0.1",
            "CITYNODE_NODE_LANGUAGES": '["pt", "es"]',
            "CITYNODE_FEDERATION_RELAY": "false",
            "CITYNODE_OPS_READY_MAX_LAG_SECONDS": "5",
            "CITYNODE_OPS_LOG_FORMAT": "text",
            "CITYNODE_HOME": "/ignored/here",
            "UNRELATED": "x",
        },
    )
    assert config.server.port == 9100 and config.server.host == "0.0.0.0"
    assert config.server.trusted_proxies == ["10.0.0.0/8", "127.0.0.1"]
    assert config.node.languages == ["pt", "es"] and config.node.name == "Medellín"
    assert config.federation.relay is False
    assert config.ops.ready_max_lag_seconds == 5.0 and config.ops.log_format == "text"
    # The file is untouched: the environment applies at each start.
    assert load_config(home, environ={}).server.port == 8700


@pytest.mark.parametrize(
    ("environ", "words"),
    [
        ({"CITYNODE_SERVER_PROT": "1"}, "CITYNODE_SERVER_PROT is not a setting"),
        ({"CITYNODE_SERVER_PORT": "eighty"}, "CITYNODE_SERVER_PORT='eighty'"),
        ({"CITYNODE_SERVER_PORT": "70000"}, "<= 65535"),
        ({"CITYNODE_NODE_LANGUAGES": "es,not a tag"}, "CITYNODE_NODE_LANGUAGES"),
        ({"CITYNODE_OPS_LOG_FORMAT": "xml"}, "CITYNODE_OPS_LOG_FORMAT"),
        ({"CITYNODE_NODE_COUNTRY": "colombia"}, "CITYNODE_NODE_COUNTRY"),
    ],
)
def test_bad_environment_values_name_the_variable(
    tmp_path: Path, environ: dict[str, str], words: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(make_home(tmp_path), environ=environ)
    assert words in caught.value.message
