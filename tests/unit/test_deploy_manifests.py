"""The deployment files, read: what `kubectl kustomize` renders for both layouts, the image's
Dockerfile and the compose file. (Images cannot be built or pulled here; the cluster test runs the
same processes on several simulated hosts.)"""

import re
import shutil
import subprocess

import pytest
import yaml

from config.settings import Settings
from tests.helpers import ROOT

DEPLOY = ROOT / "deploy"
TIERS = ["gateway", "supervisor", "researcher", "analyst", "writer"]
PORTS = {name: Settings(_env_file=None).agent_port(name) for name in TIERS}


def rendered(layout: str) -> list[dict]:
    assert shutil.which("kubectl"), "kubectl is expected on this machine (for `kubectl kustomize`)"
    done = subprocess.run(["kubectl", "kustomize", str(DEPLOY / layout)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return [doc for doc in yaml.safe_load_all(done.stdout) if doc]


def workloads(docs: list[dict]) -> dict[str, dict]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] in ("Deployment", "StatefulSet")}


def of_kind(docs: list[dict], kind: str) -> dict[str, dict]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


@pytest.mark.parametrize("layout", ["k8s", "k8s/external-redis"])
def test_every_container_has_probes_resources_and_runs_locked_down_as_non_root(layout):
    docs = rendered(layout)
    assert all(d["metadata"].get("namespace") == "chorus" for d in docs if d["kind"] != "Namespace")
    for name, workload in workloads(docs).items():
        pod = workload["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] > 0, name
        assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault", name
        for container in pod.get("initContainers", []) + pod["containers"]:
            where = f"{name}/{container['name']}"
            resources = container["resources"]
            assert {"cpu", "memory"} <= set(resources["requests"]) and {"cpu", "memory"} <= set(resources["limits"]), (
                where
            )
            locked = container["securityContext"]
            assert locked["allowPrivilegeEscalation"] is False and locked["readOnlyRootFilesystem"] is True, where
            assert locked["capabilities"]["drop"] == ["ALL"], where
            if container in pod["containers"]:
                assert container["readinessProbe"] and container["livenessProbe"], where


@pytest.mark.parametrize("layout", ["k8s", "k8s/external-redis"])
def test_each_tier_is_a_probed_deployment_behind_a_service_with_a_budget_and_settings_from_config(layout):
    docs = rendered(layout)
    deployments, services, budgets = (
        of_kind(docs, "Deployment"),
        of_kind(docs, "Service"),
        of_kind(docs, "PodDisruptionBudget"),
    )
    grace = int(Settings(_env_file=None).shutdown_grace_seconds)
    for tier in TIERS:
        pod = deployments[tier]["spec"]["template"]["spec"]
        container = pod["containers"][0]
        assert container["args"] == ["servers", tier]
        assert container["readinessProbe"]["httpGet"]["path"] == "/ready"
        assert container["livenessProbe"]["httpGet"]["path"] == "/health"
        assert container["ports"][0]["containerPort"] == PORTS[tier] == services[tier]["spec"]["ports"][0]["port"]
        assert services[tier]["spec"]["selector"] == deployments[tier]["spec"]["selector"]["matchLabels"]
        assert budgets[tier]["spec"]["selector"]["matchLabels"] == services[tier]["spec"]["selector"]
        sources = {next(iter(s)): next(iter(s.values()))["name"] for s in container["envFrom"]}
        assert sources == {"configMapRef": "chorus-settings", "secretRef": "chorus-secrets"}
        pause = container["lifecycle"]["preStop"]["sleep"]["seconds"]
        assert pod["terminationGracePeriodSeconds"] > grace + pause  # the drain fits before SIGKILL
    settings = of_kind(docs, "ConfigMap")["chorus-settings"]["data"]
    for tier in TIERS[1:]:  # each tier reaches the next through its Service
        assert settings[f"{tier.upper()}_URL"] == f"http://{tier}:{PORTS[tier]}"
    assert not any(re.search(r"KEY|TOKEN|PASSWORD", name) for name in settings)  # secrets stay in the Secret
    autoscaler = of_kind(docs, "HorizontalPodAutoscaler")["gateway"]
    assert autoscaler["spec"]["scaleTargetRef"]["name"] == "gateway" and autoscaler["spec"]["minReplicas"] >= 2
    Settings(_env_file=None, **{k.lower(): v for k, v in settings.items()})  # every setting is a valid one


def test_redis_comes_through_sentinel_by_default_and_from_a_url_in_the_external_layout():
    default, external = rendered("k8s"), rendered("k8s/external-redis")
    settings = of_kind(default, "ConfigMap")["chorus-settings"]["data"]
    assert settings["REDIS_SENTINELS"] == "redis-sentinel:26379" and settings["REDIS_WAIT_REPLICAS"] == "1"
    redis = workloads(default)["redis"]
    assert redis["spec"]["replicas"] == 3
    assert {c["name"] for c in redis["spec"]["template"]["spec"]["containers"]} == {"redis", "sentinel"}
    assert "redis-sentinel" in of_kind(default, "Service")
    assert "redis" not in workloads(external)
    moved = of_kind(external, "ConfigMap")["chorus-settings"]["data"]
    assert moved["REDIS_SENTINELS"] == "" and moved["REDIS_URL"].startswith("redis://")


def test_one_multi_stage_image_runs_every_tier_as_a_non_root_user():
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert len(re.findall(r"^FROM ", dockerfile, flags=re.MULTILINE)) >= 2
    user = re.findall(r"^USER (\S+)", dockerfile, flags=re.MULTILINE)
    assert user and not user[-1].startswith(("root", "0"))
    assert 'ENTRYPOINT ["python", "-m"]' in dockerfile
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    tiers = {name: s for name, s in compose["services"].items() if s.get("command", [""])[0] == "servers"}
    assert sorted(tiers) == sorted(TIERS)
    for name, service in tiers.items():
        assert service["user"] != "root" and service["read_only"] is True, name
        assert service["command"] == ["servers", name]
