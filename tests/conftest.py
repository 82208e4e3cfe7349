"""Fixtures: real city nodes on loopback, each with its own SQLite file."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from tests.cli_support import make_home
from tests.support import RunningNode, start_node


@pytest.fixture
async def node_factory(tmp_path: Path) -> AsyncIterator[Callable[..., Awaitable[RunningNode]]]:
    started: list[RunningNode] = []

    async def make(name: str = "Medellín", **kwargs: object) -> RunningNode:
        running = await start_node(tmp_path / f"node{len(started)}", name=name, **kwargs)
        started.append(running)
        return running

    yield make
    for running in reversed(started):
        await running.stop()


@pytest.fixture
async def medellin(node_factory: Callable[..., Awaitable[RunningNode]]) -> RunningNode:
    return await node_factory("Medellín")


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A node's home folder made with `citynode init` (for tests that run the CLI)."""
    return make_home(tmp_path)
