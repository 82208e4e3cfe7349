"""Fixtures: real city nodes on loopback, each with its own SQLite file."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from tests.cli_support import make_home
from tests.support import RunningNode, start_node

BROWSER_TESTS = Path(__file__).parent / "browser"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The browser tests last: Playwright's sync API runs its own event loop in the main thread
    while the browser is open, and asyncio tests cannot start a loop beside it.

    Under pytest-xdist (`make test`, `--dist load`) each worker takes tests from the front of
    one queue, so a worker that gets a browser test gets only browser tests after it; each such
    worker starts its own demo and chromium (tests/browser/conftest.py), and the axe runs share
    the cores.
    """
    items.sort(key=lambda item: BROWSER_TESTS in Path(str(item.path)).parents)


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
