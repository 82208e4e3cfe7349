"""HTTP Message Signatures (RFC 9421) with Ed25519 (Content-Digest, RFC 9530, is in digest.py).

Every node-to-node request is signed (docs/protocol.md section 5): the signer covers
`("@method" "@target-uri" "content-digest")` for a request with a body and `("@method"
"@target-uri")` without, with the parameters `created`, `expires`, `nonce`, `keyid`,
`alg="ed25519"` and `tag="citynode/1"`. The receiver picks the signature by its tag, then checks
the structure, the age, the digest, the key, the signature and finally the nonce (replay cache).

All functions here are pure: the time (`now`, `created`), the nonce, the key lookup and the replay
cache are given by the caller. `url` is the full target URI exactly as the request was sent (the
receiver rebuilds it from its public base URL and the raw path, not from a proxied Host header).

The profile lives in five modules, one concept each:

- `profile`: the citynode profile (algorithm, tag, covered components, default age and skew);
- `signature_base`: component values and the signature base (RFC 9421 section 2);
- `signing`: `sign_components` and `sign_request` (section 3.1);
- `verification`: reading and verifying a request's signature (sections 3.2 and 4);
- `accept_signature`: the `Accept-Signature` field a refusal sends back (section 5.1).
"""
