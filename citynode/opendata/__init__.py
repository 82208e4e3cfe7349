"""Open data: the DCAT catalog, whole-store dumps, the SPARQL store and endpoint, Atom feeds.

One module per job (docs/DESIGN.md "Interfaces"): `catalog` (DCAT-AP 3), `dumps` (streamed
files), `sparql_view` (the Oxigraph store, a change-log follower), `sparql_queries` (the query
processes), `sparql_results` (result formats), `feeds` (Atom). Their routes are in `citynode/web/`.
"""
