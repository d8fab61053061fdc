# syntax=docker/dockerfile:1
#
# qwen-image-server: one image for every role (QWEN_IMAGE_ROLE=all|api|worker), configured only
# by QWEN_IMAGE_* environment variables. Build: docker build -t qwen-image-server .
# Run:   docker run -p 8080:8080 -v qwen-data:/data qwen-image-server
# See docs/container.md (JVM flags and measured memory, roles, health checks, verification).
#
# The base images are pinned by tag; pin them by digest too where you build
# (FROM eclipse-temurin:21.0.9_10-jre-noble@sha256:...). BUILD_IMAGE and RUNTIME_IMAGE can be
# overridden (a mirror, or a local base: deploy/docker/local-build.sh).
ARG BUILD_IMAGE=eclipse-temurin:21.0.9_10-jdk-noble
ARG RUNTIME_IMAGE=eclipse-temurin:21.0.9_10-jre-noble

# ---- build stage: the server jar, with the Maven wrapper ------------------------------------
FROM ${BUILD_IMAGE} AS build
WORKDIR /src
# The poms first: the dependency download below is cached as long as they do not change.
COPY mvnw pom.xml ./
COPY .mvn/ .mvn/
COPY sdk/pom.xml sdk/
COPY server/pom.xml server/
COPY bench/pom.xml bench/
# (go-offline cannot resolve the sdk module before it is built; what it fetched stays cached.)
RUN --mount=type=cache,target=/root/.m2 \
    ./mvnw -B -q -pl server -am -DskipTests dependency:go-offline || true
# (-Dmdep.skip: S3Proxy's jar is for the local cluster recipe and the tests, not the image)
COPY sdk/src/ sdk/src/
COPY server/src/ server/src/
RUN --mount=type=cache,target=/root/.m2 \
    ./mvnw -B -DskipTests -pl server -am package -Dmdep.skip=true \
 && cp server/target/qwen-image-server.jar /qwen-image-server.jar

# ---- run stage: a JRE, the jar, the entry point ---------------------------------------------
FROM ${RUNTIME_IMAGE}
ARG VERSION=0.1.0-SNAPSHOT
ARG SOURCE=""
ARG LICENSES=NOASSERTION
LABEL org.opencontainers.image.title="qwen-image-server" \
      org.opencontainers.image.description="Self-hosted server for the PPIO / Novita Qwen-Image async image API (text-to-image and edit): HTTP API and workers in one image, QWEN_IMAGE_ROLE=all|api|worker" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.licenses="${LICENSES}" \
      org.opencontainers.image.version="${VERSION}"

# libjpeg-turbo's TurboJPEG library: the service encodes its JPEGs with it in-process (about ten
# times faster than the JDK's encoder, which it falls back to without it; the banner says which).
# (Ubuntu names the package libturbojpeg, Debian libturbojpeg0.)
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends libturbojpeg \
 && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 qwen \
 && useradd --system --uid 10001 --gid 10001 --home-dir /app --no-create-home --shell /usr/sbin/nologin qwen \
 && mkdir -p /data \
 && chown 10001:10001 /data

COPY --chmod=0755 deploy/docker/entrypoint.sh deploy/docker/healthcheck.sh /app/
COPY --from=build /qwen-image-server.jar /app/qwen-image-server.jar

ENV QWEN_IMAGE_DATA_DIR=/data \
    QWEN_IMAGE_PORT=8080
VOLUME /data
WORKDIR /data
USER 10001:10001
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 CMD ["/app/healthcheck.sh"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["/app/entrypoint.sh"]
