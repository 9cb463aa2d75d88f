# breakwatch in a container (monitoring/compose.yaml builds it): built on Debian 12 with the
# same packages scripts/deps.sh installs, the web page included; run on debian:12-slim with
# the runtime libraries only.
FROM debian:12 AS build
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      build-essential cmake pkg-config ca-certificates nodejs npm \
      libmicrohttpd-dev libsqlite3-dev libyaml-dev libcjson-dev zlib1g-dev libcmocka-dev \
      libpcre2-dev libcurl4-openssl-dev libssl-dev libsnappy-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cd web && npm ci --no-audit --no-fund --loglevel=error \
 && cd .. && cmake -S . -B /build -DCMAKE_BUILD_TYPE=Release \
 && cmake --build /build -j"$(nproc)" --target breakwatch

FROM debian:12-slim
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      ca-certificates libmicrohttpd12 libsqlite3-0 libyaml-0-2 libcjson1 zlib1g libpcre2-8-0 \
      libcurl4 libssl3 libsnappy1v5 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --home-dir /var/lib/breakwatch --create-home breakwatch
COPY --from=build /build/breakwatch /usr/local/bin/breakwatch
COPY monitoring/rules /etc/breakwatch/rules
COPY monitoring/breakwatch.yml /etc/breakwatch/breakwatch.yml
USER breakwatch
VOLUME /var/lib/breakwatch
EXPOSE 8000
ENTRYPOINT ["breakwatch"]
CMD ["run", "--config", "/etc/breakwatch/breakwatch.yml"]
