#!/bin/bash
# Installs libswitchboard-client from a build tree into a fresh prefix and
# builds client/examples/publish_and_follow.c against it the way an
# integrator would: only the installed header, library and pkg-config file.
#   build_example.sh BUILD_DIR PREFIX OUT_BINARY
# CC and CFLAGS are honoured (the sanitizer build passes its flags).
# Prints "LIBDIR <dir>" (for LD_LIBRARY_PATH) last; exit 77 when cc or
# pkg-config is missing, 1 on any failure.
set -euo pipefail
build=$1 prefix=$2 out=$3
src=$(cd "$(dirname "$0")/../../.." && pwd)
CC=${CC:-cc}
command -v pkg-config >/dev/null && command -v "$CC" >/dev/null || { echo "SKIP: no $CC or pkg-config"; exit 77; }
rm -rf "$prefix"
cmake --install "$build" --prefix "$prefix" --component switchboard-client
pc=$(find "$prefix" -name switchboard-client.pc | head -1)
[ -n "$pc" ] || { echo "FAIL: no switchboard-client.pc installed"; exit 1; }
export PKG_CONFIG_PATH=$(dirname "$pc")
echo "pkg-config: $(pkg-config --cflags --libs switchboard-client)"
# the installed header alone compiles, and so does the example
# shellcheck disable=SC2046,SC2086
$CC ${CFLAGS:-} -Wall -Wextra -Werror -o "$out" "$src/client/examples/publish_and_follow.c" \
  $(pkg-config --cflags --libs switchboard-client)
libdir=$(pkg-config --variable=libdir switchboard-client)
for f in libswitchboard-client.so.1 libswitchboard-client.a; do
  [ -e "$libdir/$f" ] || { echo "FAIL: $libdir/$f not installed"; exit 1; }
done
# static: the archive plus the packages its Requires.private names, linked
# as shared libraries (Debian 12's norm.pc, pulled in by `pkg-config
# --static libzmq`, names a libprotokit.a that is not shipped)
reqs=$(pkg-config --print-requires-private switchboard-client | awk '{print $1}')
# shellcheck disable=SC2046,SC2086
$CC ${CFLAGS:-} -o "$out-static" "$src/client/examples/publish_and_follow.c" \
  $(pkg-config --cflags switchboard-client) "$libdir/libswitchboard-client.a" $(pkg-config --libs $reqs)
echo "LIBDIR $libdir"
