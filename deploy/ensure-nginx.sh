#!/bin/sh
# Install Debian's nginx when it is missing (make test runs this: tests/test_proxy.py and the
# fault tests run nginx for real). Needs root and the Debian package mirror.
set -eu
if command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; then
    exit 0
fi
if [ "$(id -u)" != 0 ]; then
    echo "nginx is missing and installing it needs root: apt-get install nginx-light" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# apt may be locked by another install: retry a few times.
for attempt in 1 2 3 4 5 6; do
    if apt-get update -qq && apt-get install -y -qq --no-install-recommends nginx-light; then
        # Debian starts the packaged service where it can; the tests run their own instances.
        (service nginx stop || true) >/dev/null 2>&1
        exit 0
    fi
    echo "apt-get failed (attempt $attempt); retrying in 10 s" >&2
    sleep 10
done
exit 1
