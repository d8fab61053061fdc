#!/usr/bin/env bash
# Builds and runs the Dockerfile on a machine without Docker Hub (and without Docker): a Debian
# bookworm minbase root made with debootstrap plus a local JDK stands in for the eclipse-temurin
# images, then podman (vfs storage, chroot isolation, host network) builds the repo's Dockerfile
# unchanged but for BUILD_IMAGE / RUNTIME_IMAGE, runs it as uid 10001 with a /data volume, hits
# /readyz, submits one image, stops it and checks the exit code and the drain lines.
# Needs root, apt (podman, buildah, debootstrap), a Debian mirror and Maven Central. Slow: not
# part of the test suite. What it showed on the development machine: docs/container.md.
#
#   deploy/docker/local-build.sh    JDK from $LOCAL_JDK (/usr/lib/jvm/temurin-25-jdk-amd64);
#                                   REBUILD_BASE=1 makes the base images again
set -euo pipefail
cd "$(dirname "$0")/../.."

LOCAL_JDK=${LOCAL_JDK:-/usr/lib/jvm/temurin-25-jdk-amd64}
WORK=${WORK:-/tmp/qwen-local-build}
export STORAGE_DRIVER=vfs
PODMAN=(podman --storage-driver vfs --cgroup-manager cgroupfs --events-backend file)
mkdir -p "$WORK"

command -v podman >/dev/null || apt-get install -y podman buildah debootstrap
[ -x "$WORK/rootfs/bin/sh" ] || debootstrap --variant=minbase bookworm "$WORK/rootfs" http://deb.debian.org/debian

base() { # name, java home to copy in
  local name=$1 src=$2 root="$WORK/$1"
  if [ -z "${REBUILD_BASE:-}" ] && "${PODMAN[@]}" image exists "localhost/$name"; then return 0; fi
  rm -rf "$root"; cp -a "$WORK/rootfs" "$root"
  mkdir -p "$root/opt/java"; cp -a "$src" "$root/opt/java/openjdk"
  # a Debian-packaged JDK links its trust store to /etc/ssl/certs/java: take the file itself
  rm -f "$root/opt/java/openjdk/lib/security/cacerts"
  cp -L "$src/lib/security/cacerts" "$root/opt/java/openjdk/lib/security/cacerts"
  tar -C "$root" -c . | "${PODMAN[@]}" import \
    --change 'ENV JAVA_HOME=/opt/java/openjdk' \
    --change 'ENV PATH=/opt/java/openjdk/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    - "localhost/$name"
}
base qwen-jdk-base "$LOCAL_JDK"
# The runtime base is the same JDK: this JDK (25, linkable run-time image) cannot jlink a smaller JRE.
"${PODMAN[@]}" tag localhost/qwen-jdk-base localhost/qwen-jre-base

time "${PODMAN[@]}" build --format docker --isolation chroot --network host \
  --build-arg BUILD_IMAGE=localhost/qwen-jdk-base --build-arg RUNTIME_IMAGE=localhost/qwen-jre-base \
  -t localhost/qwen-image-server .
"${PODMAN[@]}" image inspect localhost/qwen-image-server --format '{{json .Config.Healthcheck}} {{.Config.User}} {{.Config.Entrypoint}} {{.Config.ExposedPorts}} {{.Config.Volumes}} {{.Config.StopSignal}} {{json .Config.Labels}}'

"${PODMAN[@]}" rm -f qwen-local >/dev/null 2>&1 || true
"${PODMAN[@]}" volume rm -f qwen-local-data >/dev/null 2>&1 || true
"${PODMAN[@]}" run -d --name qwen-local --network host --cgroups disabled --ulimit host \
  -e QWEN_IMAGE_PORT=18080 -e QWEN_IMAGE_API_KEYS=local-build-key-0123456789 \
  -v qwen-local-data:/data localhost/qwen-image-server
for _ in $(seq 1 90); do
  curl -fsS http://127.0.0.1:18080/readyz >/dev/null 2>&1 && break; sleep 1
done
curl -sS -w ' %{http_code}\n' http://127.0.0.1:18080/readyz
"${PODMAN[@]}" exec qwen-local id
"${PODMAN[@]}" exec qwen-local /app/healthcheck.sh && echo "healthcheck: exit 0"
task=$(curl -fsS -H 'Authorization: Bearer local-build-key-0123456789' -H 'Content-Type: application/json' \
  -d '{"prompt": "a lighthouse at dusk", "size": "512*512"}' http://127.0.0.1:18080/v3/async/qwen-image-txt2img \
  | sed -n 's/.*"task_id" *: *"\([^"]*\)".*/\1/p')
echo "task $task"
for _ in $(seq 1 60); do
  r=$(curl -fsS -H 'Authorization: Bearer local-build-key-0123456789' "http://127.0.0.1:18080/v3/async/task-result?task_id=$task")
  case "$r" in *TASK_STATUS_SUCCEED*|*TASK_STATUS_FAILED*) break ;; esac; sleep 0.5
done
echo "$r" | head -c 400; echo
time "${PODMAN[@]}" stop -t 40 qwen-local
echo "exit code: $("${PODMAN[@]}" inspect qwen-local --format '{{.State.ExitCode}}')"
"${PODMAN[@]}" logs qwen-local 2>&1 | tail -n 15
