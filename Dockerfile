# One image for every process of the shop: `shop <process>` runs the router or any subgraph
# (`shop router`, `shop accounts`, ..., `shop payment-test-provider`).
#   docker build -t shop .
#   docker run --rm shop accounts --help

FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p shop && cp target/release/shop /usr/local/bin/shop

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /var/lib/shop --create-home shop
COPY --from=build /usr/local/bin/shop /usr/local/bin/shop
COPY schema/supergraph.graphql /etc/shop/supergraph.graphql
COPY frontend-queries/persisted-operations.json /etc/shop/persisted-operations.json
ENV ROUTER_SUPERGRAPH=/etc/shop/supergraph.graphql \
    ROUTER_PERSISTED_MANIFEST=/etc/shop/persisted-operations.json \
    SHOP_DATA_DIR=/var/lib/shop
USER shop
WORKDIR /var/lib/shop
ENTRYPOINT ["shop"]
