"""Running the node: health and readiness, metrics, logs with request ids, proxies, slow
clients, backup and restore (issue 12; docs/DESIGN.md layout `citynode/ops/`)."""
