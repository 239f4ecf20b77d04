#!/bin/sh
# Renders users.acl.in: every @<user>@ becomes #<sha256 of DIR/<user>>.
#   docker/redis/render-acl.sh /run/secrets/redis-users > /data/users.acl
# DIR holds one file per user (sb-ingest, sb-route, ...) with its password,
# e.g. a Kubernetes Secret mounted as a volume. Fails if one is missing.
# Comments and blank lines of the template are left out (Redis refuses them).
set -eu
dir=${1:?usage: render-acl.sh PASSWORD_DIR [TEMPLATE]}
template=${2:-$(dirname "$0")/users.acl.in}
script=""
for user in $(grep -o '@sb-[a-z-]*@' "$template" | tr -d @ | sort -u); do
  [ -r "$dir/$user" ] || { echo "render-acl: no password file $dir/$user" >&2; exit 1; }
  # a trailing newline in the file is not part of the password
  hash=$(printf '%s' "$(cat "$dir/$user")" | sha256sum | cut -d' ' -f1)
  script="$script s/@$user@/#$hash/;"
done
# Redis's ACL file has no comments or blank lines: drop them.
grep -v -e '^#' -e '^[[:space:]]*$' "$template" | sed "$script"
