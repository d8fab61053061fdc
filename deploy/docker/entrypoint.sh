#!/bin/sh
# The container's entry point (Dockerfile ENTRYPOINT): starts qwen-image-server with JVM flags
# chosen for a container, as PID 1 through exec so SIGTERM from `docker stop` / Kubernetes reaches
# the JVM directly and the service drains (QWEN_IMAGE_DRAIN_TIMEOUT) and exits 0.
#
#   (no arguments)           qwen-image-server serve
#   --debug, --port 9090 ... serve with those options
#   serve|version|keys|usage|generate|edit|help ...   that command of the jar, as is
#
# The image is configured only by QWEN_IMAGE_* variables (QWEN_IMAGE_ROLE=all|api|worker, ...).
# QWEN_IMAGE_JAVA_OPTS is appended after the flags below (word-split on purpose, so several
# options can be given: QWEN_IMAGE_JAVA_OPTS="-XX:MaxRAMPercentage=50 -Xlog:gc"); a later
# option wins over an earlier one, so it can override any of them. See docs/container.md for why
# each flag is there and the memory it was measured at.
#
# Paths, with the image's values as defaults (for running this script outside the image):
#   APP_JAR    the server jar (/app/qwen-image-server.jar)
#   JAVA_HOME  the runtime; its bin/java is used, else `java` on PATH
set -eu

APP_JAR=${APP_JAR:-/app/qwen-image-server.jar}
if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ]; then
  JAVA="$JAVA_HOME/bin/java"
else
  JAVA=java
fi

# glibc gives each thread that mallocs its own arena (up to 8 per core): with the engine and
# image-codec threads that is hundreds of MB of native memory the heap limit does not cover.
export MALLOC_ARENA_MAX="${MALLOC_ARENA_MAX:-2}"

# The heap is a share of the container's memory limit (UseContainerSupport is on by default);
# the rest is left for metaspace, code cache, thread stacks, direct buffers and native image
# buffers, each capped so the process stays under the limit. G1 is chosen explicitly (the JVM
# would pick Serial on a container with < 2 CPUs or < 1792 MB) and returns unused heap to the
# system after a minute idle (G1PeriodicGCInterval), so RSS comes back down after a burst.
case "${1:-}" in
  serve|version|keys|usage|generate|edit|help|-h|--help|-V|--version) ;;
  *) set -- serve "$@" ;;
esac

# shellcheck disable=SC2086  # QWEN_IMAGE_JAVA_OPTS is split into words on purpose
exec "$JAVA" \
  -XX:MaxRAMPercentage=50 \
  -XX:InitialRAMPercentage=5 \
  -XX:+UseG1GC \
  -XX:G1PeriodicGCInterval=60000 \
  -XX:MaxMetaspaceSize=192m \
  -XX:ReservedCodeCacheSize=96m \
  -XX:MaxDirectMemorySize=128m \
  -XX:+ExitOnOutOfMemoryError \
  -Dfile.encoding=UTF-8 \
  -Djava.awt.headless=true \
  ${QWEN_IMAGE_JAVA_OPTS:-} \
  -jar "$APP_JAR" \
  "$@"
