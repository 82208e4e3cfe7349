"""The conformance kit: `citynode conformance URL` plays a peer against any node.

It knows the node only through the wire (docs/protocol.md): it imports `protocol/` and an HTTP
library, never the node's own services (tests/test_layers.py keeps it so), so what passes here
is what the spec says, not what this implementation happens to do.
"""
