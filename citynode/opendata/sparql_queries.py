"""SPARQL queries run in processes of their own, so a runaway query can be stopped.

A thread cannot be stopped while Oxigraph evaluates a query in Rust (an ORDER BY or GROUP BY over
the whole store yields nothing until it is done), but a process can be killed. So each query
runs in one of a few worker processes; one that passes its deadline is killed (SIGKILL) and
replaced, and only that query fails ("query_timeout"); the node and every other query go on.

The workers never open the live store. Opening a RocksDB store read-only while another process
writes it is undefined (pyoxigraph `Store.read_only`), so the view (`sparql_view.py`) makes
checkpoints (`Store.backup`: hard links, milliseconds) and a worker opens the newest one
read-only: a store nobody writes. Each request names the checkpoint to read.

A worker also caps its result (`max_rows`: the rest is cut and the answer says so), its address
space (a query that would eat the machine's memory dies instead, and is reported), and exits when
the node does (it watches its parent).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import re
import resource
import time
from multiprocessing.connection import Connection
from typing import Any, Final

import msgspec
import pyoxigraph as ox

from citynode.errors import BadRequest, Forbidden, NodeError, NotAcceptable, TooManyRequests
from citynode.opendata import sparql_results as results
from citynode.web.negotiation import choose
from citynode.workers import die_with_parent

log = logging.getLogger("citynode.sparql")

#: Address space a query process may use: a query that needs more fails, the machine does not.
MEMORY_LIMIT_BYTES: Final = 2 * 1024**3
#: A new process is ready (its imports done) when it says so; it must within this many seconds.
STARTUP_SECONDS: Final = 60.0
READY: Final = b"ready"
#: Queries that may wait for a free process before the node answers 429.
MAX_WAITING: Final = 32


class QueryTimeout(NodeError):
    # A 4xx: the query (input) asked for more work than the node gives one query.
    code = "query_timeout"
    status = 422


class QueryTooLarge(NodeError):
    code = "query_too_large"
    status = 422


class MalformedQuery(BadRequest):
    code = "malformed_query"


class QueryFailed(BadRequest):
    code = "query_failed"


class ServiceRefused(Forbidden):
    code = "service_refused"


class UpdateRefused(Forbidden):
    code = "update_refused"


class QueryRequest(msgspec.Struct, frozen=True, kw_only=True):
    snapshot: str
    query: str
    accept: str | None = None
    format: str | None = None
    default_graphs: list[str] = []
    named_graphs: list[str] = []
    max_rows: int
    deadline_seconds: float
    prefixes: dict[str, str] = {}


class QueryAnswer(msgspec.Struct, frozen=True, kw_only=True):
    status: int = 200
    media_type: str = ""
    body: bytes = b""
    rows: int = 0
    truncated: bool = False
    code: str = ""
    message: str = ""
    detail: dict[str, Any] = {}


# --- what is refused before a query reaches the engine -------------------------------------

_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")
# Strings (long forms first), IRIs and comments: the places where the word SERVICE is not a
# keyword. What is left are the tokens the parser reads as syntax.
_NOT_SYNTAX = re.compile(
    r'"""(?:[^"\\]|\\.|"(?!""))*"""'
    r"|'''(?:[^'\\]|\\.|'(?!''))*'''"
    r'|"(?:[^"\\\n]|\\.)*"'
    r"|'(?:[^'\\\n]|\\.)*'"
    r"|<[^<>\"{}|^`\\\s]*>"
    r"|#[^\n]*",
    re.DOTALL,
)
_SERVICE = re.compile(r"(?<![\w:?$])SERVICE(?![\w:-])", re.IGNORECASE)


def refuse_service(query: str) -> None:
    """SERVICE would make the node fetch from any address a stranger names: refused.

    Codepoint escapes are read first, as a parser reads them (SPARQL 1.1 Query, 19.2).
    """

    def unescape(match: re.Match[str]) -> str:
        code = int(match.group(1) or match.group(2), 16)
        return chr(code) if code <= 0x10FFFF else match.group(0)

    syntax = _NOT_SYNTAX.sub(" ", _ESCAPE.sub(unescape, query))
    if _SERVICE.search(syntax):
        raise ServiceRefused(
            "SERVICE (federated query) is not allowed on this endpoint: the node does not "
            "fetch data from other servers for a query"
        )


# --- the worker process --------------------------------------------------------------------


def _worker_main(conn: Connection, parent: int) -> None:
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT_BYTES, MEMORY_LIMIT_BYTES))
    # Dies with the node, even after kill -9 (citynode/workers.py: PR_SET_PDEATHSIG from the
    # thread that started it, the event loop's, and a watcher thread).
    die_with_parent(parent, None)
    conn.send_bytes(READY)  # imports done: a query's deadline starts now, not at spawn
    decoder = msgspec.msgpack.Decoder(QueryRequest)
    encoder = msgspec.msgpack.Encoder()
    store: ox.Store | None = None
    opened = ""
    while True:
        try:
            request = decoder.decode(conn.recv_bytes())
        except EOFError:
            return
        try:
            if request.snapshot != opened:
                store = None  # close the previous checkpoint before opening the next
                store = ox.Store.read_only(request.snapshot)
                opened = request.snapshot
            assert store is not None
            answer = evaluate(store, request)
        except NodeError as exc:
            answer = QueryAnswer(
                status=exc.status, code=exc.code, message=exc.message, detail=exc.detail
            )
        except MemoryError:
            answer = _too_large(request)
        except Exception as exc:  # never leave the node without an answer, nor die of it
            answer = QueryAnswer(
                status=400, code=QueryFailed.code, message=f"the query cannot be run: {exc}"
            )
        conn.send_bytes(encoder.encode(answer))


def _too_large(request: QueryRequest) -> QueryAnswer:
    return QueryAnswer(
        status=422,
        code="query_too_large",
        message="the query's process stopped before answering: it needed more memory than "
        "the node gives one query, or the engine failed on it; narrow the query",
        detail={"memory_limit_bytes": MEMORY_LIMIT_BYTES},
    )


def evaluate(store: ox.Store, request: QueryRequest) -> QueryAnswer:
    """Run one query against an open store and write its answer (in the worker process)."""
    # The store's default graph holds every record (sparql_view.py): a query reads it as it is
    # stored unless the request names its own dataset (Protocol 2.1.4).
    kwargs: dict[str, Any] = {}
    if request.default_graphs:
        kwargs["default_graph"] = [ox.NamedNode(g) for g in request.default_graphs]
    if request.named_graphs:
        kwargs["named_graphs"] = [ox.NamedNode(g) for g in request.named_graphs]
    try:
        found = store.query(request.query, **kwargs)
    except SyntaxError as exc:
        raise MalformedQuery(f"the query is not valid SPARQL: {exc}") from None
    except (ValueError, OSError) as exc:
        raise QueryFailed(f"the query cannot be run: {exc}") from None
    deadline = time.monotonic() + request.deadline_seconds
    try:
        if isinstance(found, ox.QueryBoolean):
            media = _negotiate(request, results.BOOLEAN_TYPES)
            return QueryAnswer(media_type=media, body=results.boolean(bool(found), media), rows=1)
        if isinstance(found, ox.QuerySolutions):
            media = _negotiate(request, results.SOLUTION_TYPES)
            variables = [v.value for v in found.variables]
            rows: list[list[Any]] = []
            truncated = False
            for solution in found:
                if len(rows) == request.max_rows:
                    truncated = True
                    break
                rows.append([solution[v] for v in variables])
                if len(rows) % 1024 == 0 and time.monotonic() > deadline:
                    raise _timeout(request)
            body = results.solutions(variables, rows, media, truncated)
            return QueryAnswer(media_type=media, body=body, rows=len(rows), truncated=truncated)
        media = _negotiate(request, results.GRAPH_TYPES)
        triples: list[ox.Triple] = []
        truncated = False
        for triple in found:
            if len(triples) == request.max_rows:
                truncated = True
                break
            triples.append(triple)
            if len(triples) % 1024 == 0 and time.monotonic() > deadline:
                raise _timeout(request)
        body = results.graph(triples, media, request.prefixes)
        return QueryAnswer(media_type=media, body=body, rows=len(triples), truncated=truncated)
    except (ValueError, OSError, TypeError) as exc:
        raise QueryFailed(f"the query failed while running: {exc}") from None


def _timeout(request: QueryRequest) -> QueryTimeout:
    return QueryTimeout(
        f"the query ran past its {request.deadline_seconds:g} s limit and was stopped; "
        "narrow it (a LIMIT, a more selective pattern) and try again",
        timeout_seconds=request.deadline_seconds,
    )


def _negotiate(request: QueryRequest, offered: tuple[str, ...]) -> str:
    wanted = request.format
    if wanted:
        media = results.FORMAT_NAMES.get(wanted.lower(), wanted.lower())
        # Clients such as SPARQLWrapper send format=xml or format=json whatever the query
        # form: for CONSTRUCT and DESCRIBE those mean RDF/XML and JSON-LD.
        if media not in offered and offered == results.GRAPH_TYPES:
            media = {results.XML: results.RDFXML, results.JSON: results.JSONLD}.get(media, media)
        if media not in offered:
            raise NotAcceptable(
                f"format '{wanted}' is not available for this query; it can be answered as "
                + ", ".join(offered),
                offered=list(offered),
            )
        return media
    return choose(request.accept, offered)


# --- the pool, in the serving process -------------------------------------------------------


class _Worker:
    def __init__(self, context: Any) -> None:
        self.conn, child = context.Pipe()
        self.process = context.Process(
            target=_worker_main, args=(child, os.getpid()), daemon=True, name="citynode-sparql"
        )
        self.process.start()
        child.close()
        self.snapshot = ""

    def wait_ready(self) -> None:
        """Spawning imports the node's modules (~0.5 s, more on a loaded machine): wait for the
        process to say it is ready, so that time never counts against a query."""
        if not self.conn.poll(STARTUP_SECONDS) or self.conn.recv_bytes() != READY:
            self.stop()
            raise RuntimeError("a SPARQL query process did not start")

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self.process.kill()
        self.process.join(timeout=5)
        self.conn.close()


class QueryPool:
    """A few query processes; each query takes one, and a query past its deadline kills it."""

    def __init__(self, processes: int, timeout: float, max_rows: int) -> None:
        self.processes = processes
        self.timeout = timeout
        self.max_rows = max_rows
        self._context = multiprocessing.get_context("spawn")
        self._idle: asyncio.Queue[_Worker] = asyncio.Queue()
        self._workers: set[_Worker] = set()
        self._waiting = 0
        self._starting = 0
        self._decoder = msgspec.msgpack.Decoder(QueryAnswer)
        self._encoder = msgspec.msgpack.Encoder()
        #: Processes killed at their deadline, and processes replaced for any reason.
        self.stopped = 0
        self.replaced = 0

    async def _grow(self) -> None:
        """Start a process when none is idle and the pool is not full (processes start on
        demand: a node nobody queries runs none)."""
        if self._idle.empty() and len(self._workers) + self._starting < self.processes:
            self._starting += 1
            try:
                worker = await self._start_worker()
            finally:
                self._starting -= 1
            self._workers.add(worker)
            self._idle.put_nowait(worker)

    def snapshots_in_use(self) -> set[str]:
        return {w.snapshot for w in self._workers if w.snapshot}

    async def run(self, request: QueryRequest) -> QueryAnswer:
        if self._waiting >= MAX_WAITING:
            raise TooManyRequests(
                "every SPARQL process is busy and too many queries are waiting; retry shortly",
                retry_after_seconds=1,
            )
        self._waiting += 1
        try:
            await self._grow()
            worker = await asyncio.wait_for(self._idle.get(), self.timeout)
        except TimeoutError:
            raise TooManyRequests(
                "every SPARQL process stayed busy; retry shortly", retry_after_seconds=1
            ) from None
        finally:
            self._waiting -= 1
        worker.snapshot = request.snapshot
        try:
            await asyncio.to_thread(worker.conn.send_bytes, self._encoder.encode(request))
            data = await asyncio.wait_for(asyncio.to_thread(worker.conn.recv_bytes), self.timeout)
        except TimeoutError:
            await self._replace(worker)
            self.stopped += 1
            raise _timeout(
                msgspec.structs.replace(request, deadline_seconds=self.timeout)
            ) from None
        except (EOFError, OSError):
            # The process died: over its memory limit (Rust aborts on a failed allocation).
            await self._replace(worker)
            answer = _too_large(request)
            raise QueryTooLarge(answer.message, **answer.detail) from None
        except BaseException:
            await self._replace(worker)
            raise
        self._idle.put_nowait(worker)
        return self._decoder.decode(data)

    async def _start_worker(self) -> _Worker:
        # Started from the event loop's thread, which lives as long as the node: the kernel's
        # parent-death signal follows the thread that forked (workers.py).
        worker = _Worker(self._context)
        await asyncio.to_thread(worker.wait_ready)
        return worker

    async def _replace(self, worker: _Worker) -> None:
        self.replaced += 1
        self._workers.discard(worker)
        await asyncio.to_thread(worker.stop)
        fresh = await self._start_worker()
        self._workers.add(fresh)
        self._idle.put_nowait(fresh)

    async def close(self) -> None:
        workers, self._workers = list(self._workers), set()
        for worker in workers:
            await asyncio.to_thread(worker.stop)
