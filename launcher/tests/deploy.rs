//! The deployment files (`Dockerfile`, `deploy/compose.yaml`, `deploy/kubernetes/shop.yaml`)
//! as far as this machine can check them without Docker or a cluster: each document against
//! its published JSON schema (bundled in `deploy/schemas/`), and against the shop itself
//! (every process deployed, probes, replicas, resources, every subgraph routed).

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The documents of a generated YAML file: JSON documents separated by `---` lines.
fn documents(path: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(root().join(path)).unwrap();
    text.split("\n---\n")
        .skip(1)
        .map(|doc| serde_json::from_str(doc).unwrap_or_else(|e| panic!("{path}: {e}")))
        .collect()
}

fn schema(path: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(root().join(path)).unwrap()).unwrap()
}

fn assert_valid(schema: &Value, document: &Value, what: &str) {
    let validator = jsonschema::validator_for(schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(document)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect();
    assert!(errors.is_empty(), "{what}: {errors:#?}");
}

fn subgraph_names() -> Vec<&'static str> {
    shop::subgraphs().iter().map(|s| s.name()).collect()
}

#[test]
fn the_compose_file_follows_the_compose_spec_and_runs_every_process() {
    let compose = &documents("deploy/compose.yaml")[0];
    assert_valid(
        &schema("deploy/schemas/compose-spec.json"),
        compose,
        "compose.yaml",
    );
    let services = compose["services"].as_object().unwrap();
    for name in subgraph_names() {
        let service = &services[name];
        assert_eq!(service["command"][0], name, "{name} runs its own process");
        let port = shop::subgraphs()
            .iter()
            .find(|s| s.name() == name)
            .unwrap()
            .port();
        let listen = format!("{}_LISTEN", name.to_uppercase());
        assert_eq!(service["environment"][&listen], format!("0.0.0.0:{port}"));
        // Its GraphQL port serves only the router and other services.
        assert!(
            service["environment"]["ROUTER_SUBGRAPH_SECRET"]
                .as_str()
                .is_some_and(|v| v.contains(":?")),
            "{name} requires the router's secret"
        );
        assert!(
            service["healthcheck"]["test"]
                .to_string()
                .contains("/health"),
            "{name}"
        );
    }
    let router = &services["router"];
    assert_eq!(router["command"], json!(["router"]));
    assert!(router["environment"]["ROUTER_SUBGRAPH_SECRET"].is_string());
    // Metrics on their own listener, not the published port.
    assert_eq!(
        router["environment"]["ROUTER_METRICS_LISTEN"],
        "0.0.0.0:9090"
    );
    assert!(router["deploy"]["replicas"].as_u64().unwrap() >= 2);
    for needed in ["postgres", "redis", "meilisearch", "otel-collector"] {
        assert!(services.contains_key(needed), "{needed}");
    }
    // Every database the subgraphs connect to is created.
    let init = std::fs::read_to_string(root().join("deploy/postgres-init.sql")).unwrap();
    for name in subgraph_names() {
        assert!(init.contains(&format!("CREATE DATABASE {name};")), "{name}");
    }
}

#[test]
fn the_kubernetes_manifests_are_valid_and_run_every_process_twice_with_probes() {
    let bundle = schema("deploy/schemas/kubernetes-1.33-strict.json");
    let documents = documents("deploy/kubernetes/shop.yaml");
    for document in &documents {
        let kind = document["kind"].as_str().unwrap();
        let definition = bundle["kinds"][kind]
            .as_str()
            .unwrap_or_else(|| panic!("no schema bundled for {kind}"));
        let mut schema = bundle.clone();
        schema["$ref"] = json!(format!("#/$defs/{definition}"));
        let name = document["metadata"]["name"].as_str().unwrap();
        assert_valid(&schema, document, &format!("{kind} {name}"));
    }
    let find = |kind: &str, name: &str| {
        documents
            .iter()
            .find(|d| d["kind"] == kind && d["metadata"]["name"] == name)
            .unwrap_or_else(|| panic!("no {kind} {name}"))
    };
    for name in subgraph_names().into_iter().chain(["router"]) {
        let deployment = find("Deployment", name);
        assert!(
            deployment["spec"]["replicas"].as_u64().unwrap() >= 2,
            "{name}"
        );
        let container = &deployment["spec"]["template"]["spec"]["containers"][0];
        assert_eq!(container["args"][0], name);
        for probe in ["readinessProbe", "livenessProbe"] {
            assert_eq!(
                container[probe]["httpGet"]["path"], "/health",
                "{name} {probe}"
            );
        }
        assert!(
            container["resources"]["requests"]["cpu"].is_string(),
            "{name}"
        );
        assert!(
            container["resources"]["requests"]["memory"].is_string(),
            "{name}"
        );
        find("Service", name);
        find("PodDisruptionBudget", name);
    }
    find("HorizontalPodAutoscaler", "router");
    // The router reaches every subgraph of the supergraph, and every process listens on all
    // interfaces.
    let config = &find("ConfigMap", "shop")["data"];
    let supergraph = router::supergraph::Supergraph::parse(shop::SUPERGRAPH).unwrap();
    for name in supergraph.subgraph_urls.keys() {
        let key = format!("ROUTER_SUBGRAPH_{}_URL", name.to_uppercase());
        assert!(config[&key].is_string(), "{key}");
    }
    for name in subgraph_names() {
        let listen = &config[format!("{}_LISTEN", name.to_uppercase())];
        assert!(listen.as_str().unwrap().starts_with("0.0.0.0:"), "{name}");
    }
    // The router's secret reaches every process (the Secret is in every container's env), and
    // the router's Service publishes only its public port.
    assert!(find("Secret", "shop")["stringData"]["ROUTER_SUBGRAPH_SECRET"].is_string());
    let ports = &find("Service", "router")["spec"]["ports"];
    assert_eq!(ports.as_array().unwrap().len(), 1);
    assert_eq!(ports[0]["port"], 4000);
}

#[test]
fn the_dockerfile_copies_only_what_exists_and_runs_the_shop_binary() {
    let dockerfile = std::fs::read_to_string(root().join("Dockerfile")).unwrap();
    let copies: Vec<&str> = dockerfile
        .lines()
        .filter(|l| l.starts_with("COPY ") && !l.contains("--from="))
        .collect();
    assert!(copies.len() >= 3);
    for line in copies {
        let source = line.split_whitespace().nth(1).unwrap();
        assert!(root().join(source).exists(), "{line}: {source} is missing");
    }
    assert!(dockerfile.contains("cargo build --release --locked -p shop"));
    assert!(dockerfile.contains(r#"ENTRYPOINT ["shop"]"#));
}

/// The deployment files come from the one list of processes (`platform/topology`) through
/// `deploy/generate.py`: a port or a subgraph changed there and not regenerated fails here.
#[test]
fn the_deployment_files_are_what_the_generator_writes_from_the_topology() {
    let output = std::process::Command::new("python3")
        .arg(root().join("deploy/generate.py"))
        .arg("--check")
        .output()
        .expect("python3 runs deploy/generate.py");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
