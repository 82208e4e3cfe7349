"""The citynode profile of RFC 9421 (docs/protocol.md 5.2): algorithm, tag, covered components,
and the default age and clock skew a receiver accepts."""

from __future__ import annotations

from typing import Final

__all__ = ["ALG", "DEFAULT_CLOCK_SKEW", "DEFAULT_MAX_AGE", "TAG", "required_components"]

ALG: Final = "ed25519"
#: The `tag` parameter (RFC 9421 section 2.3) naming this profile (docs/protocol.md 5.2): a
#: receiver verifies the signature with this tag and ignores signatures made for other
#: applications, so a signature made for another protocol cannot be replayed as a citynode one.
TAG: Final = "citynode/1"
#: Seconds a signature is accepted after its `created` time (docs/DESIGN.md: default 5 min).
DEFAULT_MAX_AGE: Final = 300
#: Seconds a signer's clock may run ahead of ours.
DEFAULT_CLOCK_SKEW: Final = 30


def required_components(has_body: bool) -> tuple[str, ...]:
    """The components this protocol covers: `content-digest` too when there is a body."""
    base = ("@method", "@target-uri")
    return (*base, "content-digest") if has_body else base
