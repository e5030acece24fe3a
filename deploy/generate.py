#!/usr/bin/env python3
"""Writes deploy/compose.yaml and deploy/kubernetes/shop.yaml from the shop's one list of
processes and ports (platform/topology/src/lib.rs) and the settings below, so the two
topologies cannot drift apart from each other or from the code: `python3 deploy/generate.py`
after changing either (a test validates both files against their schemas and checks that they
are what this script writes now)."""
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
IMAGE = "ghcr.io/example/shop:latest"

# The shop's processes and their ports: the one list in platform/topology/src/lib.rs.
TOPOLOGY = os.path.join(HERE, "..", "platform", "topology", "src", "lib.rs")
PORTS = {
    name: int(port)
    for name, port in re.findall(
        r'pub const \w+: Process = Process \{\s*name: "(\w+)",\s*port: (\d+),?\s*\};',
        open(TOPOLOGY).read(),
    )
}
ROUTER_PORT = PORTS.pop("router")


def url(name, path="/graphql"):
    """`path` of the service `name` inside the deployment."""
    return f"http://{name}:{PORTS[name]}{path}"


# Settings of each subgraph's own (besides the shared ones).
OWN_SETTINGS = {
    "catalog": {"MEILISEARCH_URL": "http://meilisearch:7700"},
    "inventory": {"CATALOG_URL": url("catalog")},
    "carts": {"CARTS_REDIS_URL": "redis://redis:6379", "CATALOG_URL": url("catalog")},
    "orders": {
        "ACCOUNTS_URL": url("accounts"), "CARTS_URL": url("carts"),
        "CATALOG_URL": url("catalog"), "INVENTORY_URL": url("inventory"),
        "PAYMENTS_URL": url("payments"), "SHIPPING_URL": url("shipping"),
    },
    "payments": {"PAYMENTS_PROVIDER_URL": "http://payment-provider:4090"},
    "shipping": {"CATALOG_URL": url("catalog")},
}
# name, port, settings of its own, in the order of the topology.
SUBGRAPHS = [(name, port, OWN_SETTINGS.get(name, {})) for name, port in PORTS.items()]
SHARED = {
    "JWT_ISSUER": "shop-accounts",
    "JWT_AUDIENCE": "shop",
    "EVENTS_URL": "redis://redis:6379",
    "JWKS_URL": url("accounts", "/.well-known/jwks.json"),
    "ACCOUNTS_TOKEN_URL": url("accounts", "/oauth/token"),
    "RUST_LOG": "info",
}
ROUTER = {
    "ROUTER_LISTEN": f"0.0.0.0:{ROUTER_PORT}",
    # Prometheus scrapes the router here; the public port does not serve /metrics.
    "ROUTER_METRICS_LISTEN": "0.0.0.0:9090",
    "ROUTER_JWKS_URL": url("accounts", "/.well-known/jwks.json"),
    "ROUTER_EVENTS_URL": "redis://redis:6379",
    "ROUTER_REDIS_URL": "redis://redis:6379",
    "ROUTER_RATE_LIMITS": "true",
    "ROUTER_TRUSTED_PROXY_HOPS": "1",
    "ROUTER_INTROSPECTION": "false",
    # The shop's maximum cost (launcher's SHOP_MAX_COST); the router alone refuses none.
    "ROUTER_MAX_COST": "10000",
    **{f"ROUTER_SUBGRAPH_{n.upper()}_URL": f"http://{n}:{p}/graphql" for n, p, _ in SUBGRAPHS},
}
# Traces go over OTLP/HTTP where this names a collector (empty: not exported), e.g.
# `OTEL_EXPORTER_OTLP_ENDPOINT=http://otel-collector:4318 docker compose --profile telemetry up`.
COMPOSE_TELEMETRY = {"OTEL_EXPORTER_OTLP_ENDPOINT": "${OTEL_EXPORTER_OTLP_ENDPOINT:-}"}
KUBERNETES_TELEMETRY = {"OTEL_EXPORTER_OTLP_ENDPOINT": ""}
# Secrets: given to compose from the environment (or an .env file), to Kubernetes as a Secret.
SECRETS = ["PAYMENTS_WEBHOOK_SECRETS", "PAYMENTS_PROVIDER_API_KEY", "SHIPPING_CARRIER_WEBHOOK_SECRETS", "MEILISEARCH_API_KEY"]
# The router proves itself to the subgraphs with this; their GraphQL ports then serve only the
# router and other services (partners and forwarded client addresses only through the router).
ROUTER_SECRET = "ROUTER_SUBGRAPH_SECRET"
ROUTER_METRICS_PORT = 9090


def database_url(name):
    return f"postgres://shop:shop@postgres:5432/{name}"


def compose():
    services = {
        "postgres": {
            "image": "postgres:16",
            "environment": {"POSTGRES_USER": "shop", "POSTGRES_PASSWORD": "shop", "POSTGRES_DB": "shop"},
            "volumes": ["postgres:/var/lib/postgresql/data", "./postgres-init.sql:/docker-entrypoint-initdb.d/init.sql:ro"],
            "healthcheck": {"test": ["CMD", "pg_isready", "-U", "shop"], "interval": "5s", "retries": 20},
        },
        "redis": {
            "image": "redis:7",
            "healthcheck": {"test": ["CMD", "redis-cli", "ping"], "interval": "5s", "retries": 20},
        },
        "meilisearch": {
            "image": "getmeili/meilisearch:v1.11",
            "environment": {"MEILI_MASTER_KEY": "${MEILISEARCH_API_KEY:?set MEILISEARCH_API_KEY}"},
            "volumes": ["meilisearch:/meili_data"],
        },
        "otel-collector": {
            "image": "otel/opentelemetry-collector:0.114.0",
            "profiles": ["telemetry"],
            "ports": ["4317:4317", "4318:4318"],
        },
        "payment-provider": {
            "image": IMAGE,
            "command": ["payment-test-provider"],
            "profiles": ["staging"],
            "environment": {
                "TEST_PROVIDER_LISTEN": "0.0.0.0:4090",
                "TEST_PROVIDER_WEBHOOK_URL": "http://payments:4006/webhooks/provider",
                "TEST_PROVIDER_WEBHOOK_SECRET": "${PAYMENTS_WEBHOOK_SECRETS:?set PAYMENTS_WEBHOOK_SECRETS}",
                "TEST_PROVIDER_API_KEY": "${PAYMENTS_PROVIDER_API_KEY:?set PAYMENTS_PROVIDER_API_KEY}",
                "TEST_PROVIDER_DATABASE_URL": "sqlite:///var/lib/payment-provider/ledger.db",
            },
            "volumes": ["payment-provider:/var/lib/payment-provider"],
        },
        # Registers an API client per service once accounts' database is there, and leaves
        # each service its credentials in a dotenv file the service reads with --config.
        "clients": {
            "image": IMAGE,
            "entrypoint": ["/bin/sh", "-c"],
            "command": [" && ".join(
                f"shop accounts register-client --name {n} --scope service "
                f"| sed 's/^client_id=/{n.upper()}_CLIENT_ID=/; s/^client_secret=/{n.upper()}_CLIENT_SECRET=/' "
                f"> /run/shop/{n}.env"
                for n, _, _ in SUBGRAPHS if n != "accounts")],
            "environment": {**SHARED, "ACCOUNTS_DATABASE_URL": database_url("accounts")},
            "volumes": ["clients:/run/shop"],
            "depends_on": {"postgres": {"condition": "service_healthy"}},
        },
    }
    for name, port, own in SUBGRAPHS:
        service = {
            "image": IMAGE,
            "command": [name] + ([] if name == "accounts" else ["--config", f"/run/shop/{name}.env"]),
            "environment": {
                **SHARED,
                **COMPOSE_TELEMETRY,
                f"{name.upper()}_LISTEN": f"0.0.0.0:{port}",
                f"{name.upper()}_DATABASE_URL": database_url(name),
                **own,
                **{s: f"${{{s}:?set {s}}}" for s in SECRETS if s.split("_")[0].lower() in (name, "meilisearch" if name == "catalog" else "")},
                ROUTER_SECRET: f"${{{ROUTER_SECRET}:?set {ROUTER_SECRET}}}",
            },
            "depends_on": {
                "postgres": {"condition": "service_healthy"},
                "redis": {"condition": "service_healthy"},
                **({} if name == "accounts" else {"clients": {"condition": "service_completed_successfully"}}),
            },
            "healthcheck": {"test": ["CMD", "curl", "-fsS", f"http://127.0.0.1:{port}/health"], "interval": "5s", "retries": 30},
        }
        if name != "accounts":
            service["volumes"] = ["clients:/run/shop:ro"]
        services[name] = service
    services["router"] = {
        "image": IMAGE,
        "command": ["router"],
        "environment": {**ROUTER, **COMPOSE_TELEMETRY, "RUST_LOG": "info", ROUTER_SECRET: f"${{{ROUTER_SECRET}:?set {ROUTER_SECRET}}}"},
        "ports": [f"{ROUTER_PORT}-{ROUTER_PORT + 1}:{ROUTER_PORT}"],
        "deploy": {"replicas": 2},
        "depends_on": {n: {"condition": "service_healthy"} for n, _, _ in SUBGRAPHS},
        "healthcheck": {"test": ["CMD", "curl", "-fsS", f"http://127.0.0.1:{ROUTER_PORT}/health"], "interval": "5s", "retries": 30},
    }
    return {"services": services, "volumes": {"postgres": {}, "meilisearch": {}, "clients": {}, "payment-provider": {}}}


def labels(name):
    return {"app.kubernetes.io/name": name, "app.kubernetes.io/part-of": "shop"}


def deployment(name, port, command, replicas, cpu, memory, metrics_port=None):
    probe = lambda delay: {"httpGet": {"path": "/health", "port": port}, "initialDelaySeconds": delay, "periodSeconds": 10}
    metrics_port = metrics_port or port
    ports = [{"name": "http", "containerPort": port}]
    if metrics_port != port:
        ports.append({"name": "metrics", "containerPort": metrics_port})
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": "shop", "labels": labels(name)},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app.kubernetes.io/name": name}},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}},
            "template": {
                "metadata": {"labels": labels(name), "annotations": {"prometheus.io/scrape": "true", "prometheus.io/port": str(metrics_port), "prometheus.io/path": "/metrics"}},
                "spec": {
                    "securityContext": {"runAsNonRoot": True, "runAsUser": 10001},
                    "terminationGracePeriodSeconds": 30,
                    "containers": [{
                        "name": name,
                        "image": IMAGE,
                        "args": command,
                        "ports": ports,
                        "envFrom": [{"configMapRef": {"name": "shop"}}, {"secretRef": {"name": "shop"}}],
                        "readinessProbe": probe(2),
                        "livenessProbe": {**probe(10), "failureThreshold": 6},
                        "resources": {"requests": {"cpu": cpu, "memory": memory}, "limits": {"memory": "512Mi"}},
                        "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True},
                    }],
                },
            },
        },
    }


def service(name, port):
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": "shop", "labels": labels(name)},
        "spec": {"selector": {"app.kubernetes.io/name": name}, "ports": [{"name": "http", "port": port, "targetPort": "http"}]},
    }


def kubernetes():
    config = {**SHARED, **ROUTER, **KUBERNETES_TELEMETRY}
    for name, port, own in SUBGRAPHS:
        config[f"{name.upper()}_LISTEN"] = f"0.0.0.0:{port}"
        config.update({k: v for k, v in own.items() if k != "CARTS_REDIS_URL" or True})
    secret = {s: "change-me" for s in SECRETS + [ROUTER_SECRET]}
    for name, _, _ in SUBGRAPHS:
        secret[f"{name.upper()}_DATABASE_URL"] = f"postgres://shop:change-me@postgres.example:5432/{name}"
        if name != "accounts":
            # `shop accounts register-client --name <name> --scope service` prints them.
            secret[f"{name.upper()}_CLIENT_ID"] = "change-me"
            secret[f"{name.upper()}_CLIENT_SECRET"] = "change-me"
    documents = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "shop", "namespace": "shop"}, "data": config},
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "shop", "namespace": "shop"}, "type": "Opaque", "stringData": secret},
    ]
    for name, port, _ in SUBGRAPHS:
        documents.append(deployment(name, port, [name], 2, "100m", "128Mi"))
        documents.append(service(name, port))
    documents.append(deployment("router", ROUTER_PORT, ["router"], 3, "250m", "128Mi", ROUTER_METRICS_PORT))
    documents.append(service("router", ROUTER_PORT))
    documents.append({
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "router", "namespace": "shop"},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "router"},
            "minReplicas": 3, "maxReplicas": 12,
            "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}}}],
        },
    })
    for name in ["router"] + [n for n, _, _ in SUBGRAPHS]:
        documents.append({
            "apiVersion": "policy/v1",
            "kind": "PodDisruptionBudget",
            "metadata": {"name": name, "namespace": "shop"},
            "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app.kubernetes.io/name": name}}},
        })
    return documents


def yaml_text(documents, header):
    # JSON is YAML: one document per `---`, written without a YAML library.
    return header + "".join("---\n" + json.dumps(document, indent=2) + "\n" for document in documents)


def outputs():
    """Every file this writes, by path, with its text."""
    generated = "# Generated by deploy/generate.py; edit that and run it again.\n"
    init = "-- One database per subgraph (each owns its data).\n" + "".join(
        f"CREATE DATABASE {name};\n" for name, _, _ in SUBGRAPHS
    )
    return {
        os.path.join(HERE, "compose.yaml"): yaml_text([compose()], generated),
        os.path.join(HERE, "kubernetes", "shop.yaml"): yaml_text(kubernetes(), generated),
        os.path.join(HERE, "postgres-init.sql"): init,
    }


if __name__ == "__main__":
    # `--check`: change nothing, fail naming the files that are not what this writes now.
    stale = []
    for path, text in outputs().items():
        if "--check" in sys.argv[1:]:
            with open(path) as current:
                if current.read() != text:
                    stale.append(os.path.relpath(path, os.path.join(HERE, "..")))
        else:
            with open(path, "w") as out:
                out.write(text)
    if stale:
        sys.exit("not what deploy/generate.py writes now (run it): " + ", ".join(stale))
