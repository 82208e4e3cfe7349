#!/bin/sh
# A local CA and TLS certificates for the three demo names of deploy/compose.yaml, in
# deploy/certs/ (never for production: use your city's certificates there).
set -eu
cd "$(dirname "$0")"
mkdir -p certs
cd certs
[ -f ca.key ] || openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout ca.key -out ca.pem -days 825 -subj "/CN=citynode demo CA"
for name in medellin lisboa montevideo; do
    host="$name.example"
    [ -f "$host.crt" ] && continue
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$host.key" \
        -out "$host.csr" -subj "/CN=$host"
    printf 'subjectAltName=DNS:%s\nextendedKeyUsage=serverAuth\n' "$host" > "$host.ext"
    openssl x509 -req -in "$host.csr" -CA ca.pem -CAkey ca.key -CAcreateserial \
        -out "$host.crt" -days 825 -extfile "$host.ext"
    rm -f "$host.csr" "$host.ext"
done
chmod 600 ./*.key
echo "certificates in $(pwd); trust ca.pem in your browser to open https://medellin.example:8443/"
