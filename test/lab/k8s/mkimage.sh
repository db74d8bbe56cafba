#!/bin/bash
# mkimage.sh: pack a directory into a one-layer image in docker-archive format
# (what `docker save` writes), which both `docker load` and
# `ctr images import` accept. This is how the lab gets images without a registry.
#
# Usage: mkimage.sh REF ROOTFS_DIR OUT.tar [CMD_JSON]
#   REF       the image's name, e.g. docker.io/library/busybox:local
#   CMD_JSON  its default command as a JSON array (default ["/bin/sh"])
#
# The output is reproducible: same rootfs, same bytes (fixed owner, mtime and
# file order), so the image ID only changes when the content does.
set -euo pipefail

[ $# -ge 3 ] || { echo "usage: mkimage.sh REF ROOTFS_DIR OUT.tar [CMD_JSON]" >&2; exit 2; }
ref=$1 rootfs=$2 out=$3 cmd=${4:-'["/bin/sh"]'}
stamp=2020-01-01T00:00:00Z

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The layer: a plain tar of the rootfs, named after its digest (its diff ID).
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="$stamp" \
	-C "$rootfs" -cf "$work/layer.tar" .
layer=$(sha256sum "$work/layer.tar" | cut -d' ' -f1)
mkdir "$work/$layer"
mv "$work/layer.tar" "$work/$layer/layer.tar"

# The image config, named after its digest (the image ID).
cat >"$work/config.json" <<JSON
{"architecture":"amd64","os":"linux","created":"$stamp",
 "config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":$cmd,"WorkingDir":"/"},
 "rootfs":{"type":"layers","diff_ids":["sha256:$layer"]},
 "history":[{"created":"$stamp","created_by":"syscope test/lab/k8s/mkimage.sh"}]}
JSON
config=$(sha256sum "$work/config.json" | cut -d' ' -f1)
mv "$work/config.json" "$work/$config.json"

# manifest.json ties the name to the config and the layer.
printf '[{"Config":"%s.json","RepoTags":["%s"],"Layers":["%s/layer.tar"]}]\n' \
	"$config" "$ref" "$layer" >"$work/manifest.json"

tar --owner=0 --group=0 --numeric-owner --mtime="$stamp" \
	-C "$work" -cf "$out.tmp" manifest.json "$config.json" "$layer"
mv "$out.tmp" "$out"
