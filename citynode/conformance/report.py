"""Requirements the kit checks, each tied to a section of docs/protocol.md, and the report."""

from __future__ import annotations

from typing import Final, Literal

import msgspec

Status = Literal["pass", "fail", "skip"]


class Requirement(msgspec.Struct, frozen=True):
    id: str
    section: str
    text: str


#: Every requirement the kit checks, in the order it checks them (docs/protocol.md section 12
#: lists the same; tests/test_protocol_spec.py keeps the two equal).
REQUIREMENTS: Final = (
    Requirement("descriptor", "6.1", "The descriptor is a NodeDescriptor for the URL's did:web"),
    Requirement("did-document", "2.2", "The DID document lists the node's Ed25519 Multikeys"),
    Requirement("unsigned-refused", "5.1", "An unsigned /fed/v1 request is refused (401)"),
    Requirement(
        "refusal-challenge", "5.6", "A 401 says how to sign: WWW-Authenticate, Accept-Signature"
    ),
    Requirement("signed-accepted", "5.2", "A request signed per the profile is accepted"),
    Requirement("forged-refused", "5.6", "A signature by another key is refused"),
    Requirement("tampered-refused", "5.3", "A request changed after signing is refused"),
    Requirement("replay-refused", "5.5", "A request sent twice is refused the second time"),
    Requirement("expired-refused", "5.4", "A signature past its expires time is refused"),
    Requirement("stale-refused", "5.4", "A signature older than the maximum age is refused"),
    Requirement("future-refused", "5.4", "A signature created beyond the clock skew is refused"),
    Requirement("unknown-key-refused", "5.4", "A key id not in the DID document is refused"),
    Requirement("other-tag-ignored", "5.2", "A signature tagged for others is ignored"),
    Requirement("digest-checked", "5.3", "A body unlike its Content-Digest is refused"),
    Requirement("digest-covered", "5.3", "A body whose digest is not signed is refused"),
    Requirement("oversized-refused", "9", "A body over limits.maxBodyBytes is refused (413)"),
    Requirement("malformed-refused", "10", "A message that is not JSON is refused (400)"),
    Requirement("deep-refused", "9", "JSON nested 10,000 levels deep is refused (4xx)"),
    Requirement("feed-page", "7.1.1", "A changes page is a ChangesPage of the node"),
    Requirement("feed-limit", "9", "A page holds at most `limit` and maxPageSize items"),
    Requirement("feed-paging", "7.1.3", "Small pages, followed by `next`, give the same items"),
    Requirement("feed-resume", "7.1.3", "A cursor resumes where it was issued; the end is stable"),
    Requirement("feed-bad-cursor", "7.1.2", "A cursor outside the wire form is refused (400)"),
    Requirement("feed-items-verify", "4.3", "Every record in the feed verifies under its origin"),
    Requirement("feed-versions", "3.5", "Versions of one record only grow along the feed"),
    Requirement("feed-tombstones", "3.6", "Tombstones are records, newer than what they end"),
    Requirement("digest", "7.3", "Digests match the records the feed holds"),
    Requirement("search", "8", "Live search answers a SearchResponse, or is not offered"),
    Requirement("notice-before-peering", "7.2", "A notice from a non-peer is refused (403)"),
    Requirement("peer-request-mismatch", "6.2", "A request for another node is refused"),
    Requirement("peer-request", "6.2", "A peer request is answered accepted, pending or refused"),
    Requirement("pulls-signed", "5", "The node signs the requests it sends per the profile"),
    Requirement("pull-paging", "7.1.2", "Pulls start uncursored, echo cursors verbatim"),
    Requirement("ingest-verifies", "7.1.4", "A record whose proof fails is not taken"),
    Requirement("ingest-tombstone", "3.6", "A pulled tombstone wins over older versions"),
    Requirement("ingest-unknown-terms", "3.7", "A record with unknown terms is taken as signed"),
    Requirement("notice-sender-mismatch", "7.2", "A notice not from its signer is refused"),
    Requirement("notice-bad-cursor", "7.2", "A notice with a malformed cursor is refused"),
    Requirement("notice-accepted", "7.2", "A peer's notice is accepted (202) and a pull follows"),
    Requirement("key-notice", "7.2", "A peer's KeyNotice is accepted (202)"),
    Requirement("error-shape", "10", "Every refusal is in the one error shape"),
)
BY_ID: Final = {requirement.id: requirement for requirement in REQUIREMENTS}


class Outcome(msgspec.Struct, frozen=True):
    id: str
    section: str
    status: Status
    text: str
    detail: str = ""


class Report(msgspec.Struct):
    target: str
    kit: str
    outcomes: list[Outcome] = []

    def add(self, requirement_id: str, status: Status, detail: str = "") -> None:
        requirement = BY_ID[requirement_id]
        self.outcomes = [o for o in self.outcomes if o.id != requirement_id]
        self.outcomes.append(
            Outcome(requirement.id, requirement.section, status, requirement.text, detail)
        )

    def status_of(self, requirement_id: str) -> Status | None:
        return next((o.status for o in self.outcomes if o.id == requirement_id), None)

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == "fail"]

    def text(self) -> str:
        lines = [f"citynode conformance: {self.target} (the kit played {self.kit})", ""]
        order = {r.id: n for n, r in enumerate(REQUIREMENTS)}
        for outcome in sorted(self.outcomes, key=lambda o: order[o.id]):
            mark = {"pass": "PASS", "fail": "FAIL", "skip": "SKIP"}[outcome.status]
            line = f"{mark}  §{outcome.section:<6} {outcome.id:<23} {outcome.text}"
            lines.append(line)
            if outcome.detail and outcome.status != "pass":
                lines.append(f"      {outcome.detail}")
        counts = {s: sum(o.status == s for o in self.outcomes) for s in ("pass", "fail", "skip")}
        lines.append("")
        lines.append(
            f"{counts['pass']} passed, {counts['fail']} failed, {counts['skip']} not checked "
            "(docs/protocol.md names each section)"
        )
        return "\n".join(lines)
