#!/bin/bash
# The image's HEALTHCHECK: GET /readyz on this container's port, healthy only on a 200 status
# line (503 while the service drains or a dependency is down). The JRE image has no curl or
# wget, so this uses bash's /dev/tcp. Exit 0 healthy, 1 not.
#
#   QWEN_IMAGE_PORT   the port the service listens on (8080)
#   QWEN_IMAGE_HOST   where it listens; 0.0.0.0, :: or unset mean ask 127.0.0.1
set -u
port=${QWEN_IMAGE_PORT:-8080}
host=${QWEN_IMAGE_HOST:-0.0.0.0}
case "$host" in
  ""|0.0.0.0|::|"[::]") host=127.0.0.1 ;;
esac

exec 3<>"/dev/tcp/$host/$port" 2>/dev/null || { echo "readyz: nothing listens on $host:$port"; exit 1; }
printf 'GET /readyz HTTP/1.1\r\nHost: %s:%s\r\nUser-Agent: qwen-image-healthcheck\r\nConnection: close\r\n\r\n' "$host" "$port" >&3
status=""
IFS= read -r -t 5 status <&3 || true
status=${status%$'\r'}
exec 3<&- 3>&-
case "$status" in
  "HTTP/1."[01]" 200"*) exit 0 ;;
  "") echo "readyz: no answer from $host:$port within 5 s"; exit 1 ;;
  *) echo "readyz: $status"; exit 1 ;;
esac
