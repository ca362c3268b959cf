"""The deploy files start no unauthenticated public port (issue 14 items 2 and 3).

Docker does not run here, so these read the files the way compose, kubectl and nginx would.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def _compose() -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())  # type: ignore[no-any-return]


def _k8s() -> list[dict[str, Any]]:
    return [
        doc for path in sorted((DEPLOY / "k8s").glob("*.yaml")) for doc in yaml.safe_load_all(path.read_text()) if doc
    ]


def test_compose_publishes_only_nginx_and_never_rays_dashboard() -> None:
    services = _compose()["services"]
    published = {name: svc["ports"] for name, svc in services.items() if svc.get("ports")}
    assert published == {"nginx": ["8080:80"]}
    head = " ".join(services["ray-head"]["command"])
    assert "--dashboard-host=127.0.0.1" in head
    assert "0.0.0.0" not in head


def test_no_deploy_file_binds_rays_dashboard_publicly_or_trusts_every_forwarder() -> None:
    for path in [*DEPLOY.rglob("*.yml"), *DEPLOY.rglob("*.yaml"), DEPLOY / "Dockerfile", DEPLOY / "nginx.conf"]:
        text = path.read_text()
        assert "--dashboard-host=0.0.0.0" not in text, path
        assert "8265" not in text or (path.name == "ray.yaml" and "port-forward" in text), path
        assert not re.search(r"forwarded.allow.ips\S*\s*[:=]?\s*['\"]?\*", text, re.IGNORECASE), path


def test_compose_requires_api_keys_and_trusts_only_nginx_for_forwarded_headers() -> None:
    compose = _compose()
    services = compose["services"]
    assert re.fullmatch(r"\$\{QA_API_KEYS:\?.+\}", services["api"]["environment"]["QA_API_KEYS"])
    nginx_ip = services["nginx"]["networks"]["default"]["ipv4_address"]
    assert services["api"]["environment"]["FORWARDED_ALLOW_IPS"] == nginx_ip
    subnet = compose["networks"]["default"]["ipam"]["config"][0]["subnet"]
    assert nginx_ip.rsplit(".", 1)[0] == subnet.rsplit(".", 1)[0]


def test_dockerfile_trusts_only_loopback_by_default() -> None:
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert "FORWARDED_ALLOW_IPS=127.0.0.1" in dockerfile
    assert "--forwarded-allow-ips" not in dockerfile


def test_k8s_ships_no_empty_secret_and_the_api_requires_it() -> None:
    docs = _k8s()
    assert not [d for d in docs if d["kind"] == "Secret"], "an applied Secret would blank the keys"
    api = next(d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"] == "seed-qa-api")
    container = api["spec"]["template"]["spec"]["containers"][0]
    secret_refs = [e["secretRef"] for e in container["envFrom"] if "secretRef" in e]
    assert secret_refs == [{"name": "seed-qa"}]  # not optional: no Secret, no pod
    env = {e["name"]: e["value"] for e in container["env"]}
    assert env["FORWARDED_ALLOW_IPS"] != "*"


def test_k8s_network_policy_lets_only_the_ingest_job_and_workers_reach_the_ray_head() -> None:
    docs = _k8s()
    labels = {
        d["metadata"]["name"]: d["spec"]["template"]["metadata"]["labels"]["app"]
        for d in docs
        if d["kind"] in {"Deployment", "Job"}
    }
    policies = [
        d
        for d in docs
        if d["kind"] == "NetworkPolicy" and d["spec"]["podSelector"]["matchLabels"] == {"app": "ray-head"}
    ]
    assert len(policies) == 1
    spec = policies[0]["spec"]
    assert spec["policyTypes"] == ["Ingress"]
    sources = [peer for rule in spec["ingress"] for peer in rule["from"]]
    assert all(set(peer) == {"podSelector"} for peer in sources), "no namespace or IP-block peers"
    allowed = {peer["podSelector"]["matchLabels"]["app"] for peer in sources}
    assert allowed == {labels["seed-qa-ingest"], labels["ray-worker"]}
    service = next(d for d in docs if d["kind"] == "Service" and d["metadata"]["name"] == "ray-head")
    assert 8265 not in {p["port"] for p in service["spec"]["ports"]}


def test_nginx_streams_both_sse_endpoints_unbuffered_and_sets_forwarded_for_itself() -> None:
    conf = (DEPLOY / "nginx.conf").read_text()
    for path in ("/api/chat", "/v1/chat/completions"):
        block = re.search(r"location " + re.escape(path) + r" \{(.*?)\n    \}", conf, re.DOTALL)
        assert block, path
        assert "proxy_buffering off;" in block.group(1), path
        assert "proxy_set_header X-Forwarded-For $remote_addr;" in block.group(1), path
    assert "$proxy_add_x_forwarded_for" not in conf
