# Parses deploy/compose.yaml and deploy/kubernetes/luaactors.yaml and cross-checks their seed
# discovery settings (DeployManifestsTests runs it). Prints one line per check; exits 1 on the first failure.
import sys
import yaml

root = sys.argv[1]

compose = yaml.safe_load(open(f"{root}/deploy/compose.yaml"))
for name, service in compose["services"].items():
    env = service["environment"]
    assert "LUAACTORS_SEEDS" not in env, f"{name}: static seeds beside discovery"
    assert env["LUAACTORS_DISCOVERY"] == "config", f"{name}: not config discovery"
    own = f"{env['LUAACTORS_HOSTNAME']}:{env['LUAACTORS_MANAGEMENT_PORT']}"
    assert own in env["LUAACTORS_DISCOVERY_ENDPOINTS"].split(","), f"{name}: its own endpoint {own} is not listed"
    assert service["hostname"] == env["LUAACTORS_HOSTNAME"], f"{name}: hostname differs from LUAACTORS_HOSTNAME"
print(f"compose: {len(compose['services'])} nodes, config discovery, each node's endpoint listed")

docs = [d for d in yaml.safe_load_all(open(f"{root}/deploy/kubernetes/luaactors.yaml")) if d]
kinds = {(d["kind"], d["metadata"]["name"]): d for d in docs}
sts = kinds[("StatefulSet", "luaactors")]
pod = sts["spec"]["template"]
container = pod["spec"]["containers"][0]
env = {e["name"]: e.get("value", e.get("valueFrom")) for e in container["env"]}
ports = {p["name"]: p["containerPort"] for p in container["ports"]}
assert "LUAACTORS_SEEDS" not in env, "static seeds beside discovery"
assert env["LUAACTORS_DISCOVERY"] == "kubernetes"
assert env["LUAACTORS_HOSTNAME"] == {"fieldRef": {"fieldPath": "status.podIP"}}, "hostname is not the pod IP discovery reports"
assert ports["management"] == int(env["LUAACTORS_MANAGEMENT_PORT"]), "no container port named management on the management port"
assert pod["metadata"]["labels"]["app"] == env["LUAACTORS_DISCOVERY_SERVICE"], "pod label app differs from the discovery service"
assert sts["spec"]["podManagementPolicy"] == "Parallel"
assert int(env["LUAACTORS_REQUIRED_CONTACT_POINTS"]) <= sts["spec"]["replicas"]
account = pod["spec"]["serviceAccountName"]
role = next(d for d in docs if d["kind"] == "Role")
binding = next(d for d in docs if d["kind"] == "RoleBinding")
assert ("ServiceAccount", account) in kinds
assert binding["roleRef"]["name"] == role["metadata"]["name"] and binding["subjects"][0]["name"] == account
assert any("pods" in r["resources"] and "list" in r["verbs"] for r in role["rules"]), "the role cannot list pods"
assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
headless = kinds[("Service", sts["spec"]["serviceName"])]
assert headless["spec"]["clusterIP"] == "None"
print(f"kubernetes: {', '.join(k for k, _ in kinds)}; discovery by app={env['LUAACTORS_DISCOVERY_SERVICE']}, RBAC lists pods, probes /healthz /readyz")
