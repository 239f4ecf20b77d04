#!/bin/bash
# sb-healthcheck: exit 0 when GET /healthz on this container's admin port
# answers 200. Bash only (the runtime image has no curl): /dev/tcp.
# Port: SB_ADMIN_PORT when set and not 0, else the service's default admin
# port (from SB_SERVICE) plus SB_PORT_OFFSET, as the services compute it.
set -u
port=${SB_ADMIN_PORT:-0}
if [ "$port" = 0 ]; then
  case ${SB_SERVICE:-} in
    ingest) port=9101 ;;
    classify) port=9102 ;;
    route) port=9103 ;;
    sla-timer) port=9104 ;;
    notify) port=9105 ;;
    *) echo "sb-healthcheck: unknown SB_SERVICE '${SB_SERVICE:-}'" >&2; exit 1 ;;
  esac
  port=$((port + ${SB_PORT_OFFSET:-0}))
fi
path=${1:-/healthz}
exec timeout "${SB_HEALTHCHECK_TIMEOUT_S:-2}" bash -c '
  exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
  printf "GET %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n" "$2" >&3
  IFS=" " read -r _ code _ <&3 || exit 1
  [ "$code" = 200 ]' sb-healthcheck "$port" "$path"
