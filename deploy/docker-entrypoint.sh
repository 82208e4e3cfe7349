#!/bin/sh
# The container's entry point: create the node on first start from CITYNODE_* variables,
# then run `citynode <command> --home $CITYNODE_HOME` (default: serve).
set -eu
home="${CITYNODE_HOME:-/data/node}"
umask 077
if [ ! -f "$home/citynode.toml" ]; then
    : "${CITYNODE_NODE_BASE_URL:?set CITYNODE_NODE_BASE_URL (the public https address)}"
    : "${CITYNODE_NODE_NAME:?set CITYNODE_NODE_NAME (the city)}"
    : "${CITYNODE_NODE_COUNTRY:?set CITYNODE_NODE_COUNTRY (ISO code, e.g. CO)}"
    citynode init --home "$home" --url "$CITYNODE_NODE_BASE_URL" \
        --name "$CITYNODE_NODE_NAME" --country "$CITYNODE_NODE_COUNTRY"
fi
command="${1:-serve}"
[ "$#" -gt 0 ] && shift
exec citynode "$command" --home "$home" "$@"
