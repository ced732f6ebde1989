# infra: one static-ish binary for the CLI and the controller.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin infra

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates git \
    && rm -rf /var/lib/apt/lists/* && useradd --uid 10001 --create-home infra
COPY --from=build /src/target/release/infra /usr/local/bin/infra
USER 10001
ENTRYPOINT ["infra"]
