# The `oasgate` binary in a small image: built here, run on distroless (glibc, no shell).
#
#   docker build -t oasgate:0.1.0 .
#   docker run --rm -p 8080:8080 -v "$PWD/deploy:/etc/oasgate:ro" oasgate:0.1.0
#
# The default command reads /etc/oasgate/oasgate.yaml (mount it with the document beside
# it); the image listens on 0.0.0.0:8080. See docs/deploy.md.

FROM rust:1.89-slim-bookworm AS build
# make: the binary's allocator, jemalloc, is built from its C sources.
RUN apt-get update && apt-get install -y --no-install-recommends make && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cargo build --release --locked --features cli --bin oasgate

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /src/target/release/oasgate /usr/local/bin/oasgate
# oasgate's own default is 127.0.0.1:8080, which nothing outside the container reaches.
ENV OASGATE_SERVER_LISTEN=0.0.0.0:8080
EXPOSE 8080
USER nonroot
ENTRYPOINT ["/usr/local/bin/oasgate"]
CMD ["serve", "--config", "/etc/oasgate/oasgate.yaml"]
