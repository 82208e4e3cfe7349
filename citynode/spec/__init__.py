"""The generated parts of the protocol specification (docs/protocol.md): message schemas from
the msgspec Structs, the test vectors, and the worked examples inside the spec itself.

`python -m citynode.spec` (`make spec`) writes them; tests/test_spec_files.py fails when what is
committed differs from what the code makes, so the spec cannot drift from the code.
"""
