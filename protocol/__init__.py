"""Pure protocol code: record model, canonical JSON, proofs, HTTP signatures, wire messages.

Nothing in this package does I/O; the node supplies bytes, keys and clocks.
"""
