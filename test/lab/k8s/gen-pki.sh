#!/bin/bash
# gen-pki.sh: the lab cluster's certificates and kubeconfigs, made with openssl.
#
# Usage: gen-pki.sh DIR NODE
#   DIR   where to write them (lab.sh uses $LAB_DIR/pki)
#   NODE  the node's name (the kubelet's identity is system:node:NODE)
#
# Writes, all signed by one CA (ca.crt, ca.key; ECDSA P-256, 10 years):
#   apiserver.crt            kube-apiserver's serving certificate (127.0.0.1, the
#                            service IP 10.96.0.1, kubernetes.default.svc...)
#   sa.key, sa.pub           service-account token signing key pair
#   admin, kubelet, controller-manager, scheduler, apiserver-kubelet-client
#                            client certificates; the user and group (O=) each
#                            one needs under RBAC and the Node authorizer
#   *.kubeconfig             admin, kubelet, controller-manager, scheduler
set -euo pipefail

[ $# -eq 2 ] || { echo "usage: gen-pki.sh DIR NODE" >&2; exit 2; }
dir=$1 node=$2
mkdir -p "$dir"
cd "$dir"
umask 077
days=3650

key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.key"; }

key ca
openssl req -x509 -new -key ca.key -subj "/CN=syscope-lab-ca" -days "$days" \
	-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
	-out ca.crt

key sa
openssl pkey -in sa.key -pubout -out sa.pub

# cert NAME SUBJECT EXTENSIONS: a key and a CA-signed certificate.
cert() {
	key "$1"
	openssl req -new -key "$1.key" -subj "$2" -out "$1.csr"
	printf '%s\n' "$3" >"$1.ext"
	openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial \
		-days "$days" -extfile "$1.ext" -out "$1.crt" 2>/dev/null
	rm -f "$1.csr" "$1.ext"
}
client='keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth'

cert apiserver "/CN=kube-apiserver" "keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,IP:10.96.0.1,DNS:localhost,DNS:$node,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
cert admin "/O=system:masters/CN=syscope-lab-admin" "$client"
cert apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client" "$client"
cert kubelet "/O=system:nodes/CN=system:node:$node" "$client"
cert controller-manager "/CN=system:kube-controller-manager" "$client"
cert scheduler "/CN=system:kube-scheduler" "$client"

# kubeconfig NAME: NAME.kubeconfig, which logs in to the apiserver with NAME's certificate.
kubeconfig() {
	cat >"$1.kubeconfig" <<YAML
apiVersion: v1
kind: Config
clusters:
- name: syscope-lab
  cluster:
    server: https://127.0.0.1:6443
    certificate-authority: $PWD/ca.crt
users:
- name: $1
  user:
    client-certificate: $PWD/$1.crt
    client-key: $PWD/$1.key
contexts:
- name: syscope-lab
  context: {cluster: syscope-lab, user: $1}
current-context: syscope-lab
YAML
}
for n in admin kubelet controller-manager scheduler; do kubeconfig "$n"; done

# lab.sh regenerates everything when the host name changes.
echo "$node" >node-name
