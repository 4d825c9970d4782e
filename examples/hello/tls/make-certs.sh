#!/usr/bin/env bash
# Makes the certificates of drover's HTTPS admin endpoint with openssl:
#   agents-ca.pem               the CA the controller trusts (admin.tls.caFile)
#   agent.pem, agent-key.pem    one certificate for every agent of a service, with
#                               the DNS SAN the controller checks (admin.tls.serverName):
#                               agents are dialled by IP, so no IP SAN is needed
#   clients-ca.pem              the CA agents check client certificates against
#                               (DROVER_AGENT_TLS_CACERTFILE), with
#   controller.pem, controller-key.pem   the controller's client certificate
#                               (admin.tls.certFile, admin.tls.keyFile)
# Usage: make-certs.sh DIR [SERVER_NAME]   (default hello.drover.internal)
# Keys are EC P-256, certificates valid for 825 days. Keep the CA keys
# (*-ca-key.pem) offline; the agents need only agent.pem, agent-key.pem and,
# to require client certificates, clients-ca.pem.
set -o errexit -o nounset -o pipefail

dir=${1:?usage: make-certs.sh DIR [SERVER_NAME]}
name=${2:-hello.drover.internal}
days=825
mkdir -p "$dir"
cd "$dir"

ca() { # NAME SUBJECT
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days "$days" \
    -subj "/CN=$2" -keyout "$1-key.pem" -out "$1.pem" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
}

leaf() { # NAME CA SUBJECT EXTENSIONS
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$3" \
    -keyout "$1-key.pem" -out "$1.csr" 2>/dev/null
  printf '%s\n' "$4" >"$1.ext"
  openssl x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2-key.pem" -CAcreateserial -days "$days" \
    -extfile "$1.ext" -out "$1.pem" 2>/dev/null
  rm -f "$1.csr" "$1.ext"
}

ca agents-ca "drover agents CA"
leaf agent agents-ca "$name" "subjectAltName=DNS:$name
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth"

ca clients-ca "drover clients CA"
leaf controller clients-ca "drover controller" "keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth"

rm -f ./*.srl
chmod 600 ./*-key.pem
echo "certificates for $name in $dir:"
ls -1 "$dir"
