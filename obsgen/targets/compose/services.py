"""The services of the local stack, as compose data (plain strings: escaping happens once, in ``document``)."""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from obsgen.plan import Plan
from obsgen.targets.compose import addresses, images, stack
from obsgen.targets.compose.addresses import (
    COLLECTOR,
    GATEWAY,
    GRAFANA,
    LOKI,
    PROMETHEUS,
    SAMPLER,
    TEMPO,
    TRAFFIC,
    collector_front,
    listen_port,
)
from obsgen.targets.compose.interpolation import variable

LOCALHOST = "127.0.0.1"
"""Published ports bind the loopback address only: Grafana runs with anonymous admin access."""

COLLECTOR_CONFIG = "/etc/otelcol/config.yaml"
TEMPO_CONFIG = "/etc/tempo/tempo.yaml"  # where the rendered tempo.yaml's "Run:" line expects it
PROMETHEUS_DIR = "/etc/prometheus"  # rule_files are relative to the config file's directory
GRAFANA_PROVISIONING = "/etc/grafana/provisioning"  # GF_PATHS_PROVISIONING of the image

_GRAFANA_EXPANSION = re.compile(r"\$(|__\w+)\{[^}]+\}")

TRAFFIC_PROFILE = "traffic"
CHECKOUT_VARIABLE = "OBSGEN_CHECKOUT"
SPEC_VARIABLE = "OBSGEN_SPEC"
ARGS_VARIABLE = "OBSGEN_TRAFFIC_ARGS"
DEFAULT_TRAFFIC_ARGS = "--duration 600"  # ten minutes of traffic (the command's default is a 10 s burst)
# generated/<spec>/ of a checkout: the checkout is two levels up
DEFAULT_CHECKOUT = "../.."

# Installs obsgen[traffic] from the mounted checkout (read-only, so it is copied first: pip builds a local
# project in place), waits for the Collector's health_check extension, then sends traffic (OTLP gRPC, the
# command's default protocol). $1: health URL, $2: OTLP URL. Fixed text: no spec value is spliced into the script.
TRAFFIC_SCRIPT = """set -e
mkdir -p /tmp/obsgen
tar -C /src --exclude=./.git --exclude=./.venv --exclude=./.tools --exclude=./generated \\
  --exclude=./tools/js/node_modules -cf - . | tar -C /tmp/obsgen -xf -
pip install --quiet --no-cache-dir --root-user-action=ignore '/tmp/obsgen[traffic]'
python -c 'import sys, time, urllib.request
for _ in range(120):
    try:
        urllib.request.urlopen(sys.argv[1], timeout=2)
        break
    except OSError:
        time.sleep(1)
else:
    sys.exit("the Collector never became healthy at " + sys.argv[1])' "$1"
# word splitting of OBSGEN_TRAFFIC_ARGS is meant: it holds further flags
exec obsgen traffic "/src/$OBSGEN_SPEC" --otlp "$2" $OBSGEN_TRAFFIC_ARGS
"""


def _bind(source: str, target: str) -> dict[str, object]:
    """A read-only bind mount in the long syntax (the short one splits on every ``:``)."""
    return {"type": "bind", "source": source, "target": target, "read_only": True}


def _rendered(path: str) -> str:
    """A rendered file or directory, relative to the compose file (which sits at the output's root)."""
    return f"./{path}"


# Host ports are the stack's usual ones whatever port a container listens on, so no spec can make two
# services publish the same one.
HOST_PORTS = {TEMPO: 3200, PROMETHEUS: 9090, LOKI: 3100, GRAFANA: 3000}


def _publish(port: int, host_port: int) -> dict[str, object]:
    return {"target": port, "published": str(host_port), "host_ip": LOCALHOST, "protocol": "tcp"}


def _wget_health(url: str, start_period: str) -> dict[str, object]:
    # busybox wget: the Tempo and Grafana images are Alpine-based, Prometheus' is busybox, Loki's is
    # distroless "debug" with busybox on PATH (tempo cmd/tempo/Dockerfile, loki cmd/loki/Dockerfile).
    return {"test": ["CMD", "wget", "-q", "-O", "/dev/null", url], "interval": "5s", "timeout": "3s",
            "retries": 30, "start_period": start_period}


def _healthy(*services: str) -> dict[str, object]:
    return {name: {"condition": "service_healthy"} for name in services}


def _network(plan: Plan, service: str) -> dict[str, object]:
    names = addresses.aliases(plan).get(service)
    return {"networks": {"default": {"aliases": names}}} if names else {}


def collectors(plan: Plan) -> dict[str, dict[str, object]]:
    """The single Collector, or the gateway and the sampler tier.

    The contrib image is ``FROM scratch`` (opentelemetry-collector-releases
    distributions/otelcol-contrib/Dockerfile): no shell or HTTP client to run a health check with, so
    what depends on a Collector waits for it to start, and the traffic service polls its health_check.
    """
    collector = plan.spec.collector
    common: dict[str, object] = {
        "image": images.image(plan, images.COLLECTOR_REPOSITORY),
        "command": [f"--config={COLLECTOR_CONFIG}"],
        "environment": {"GOMEMLIMIT": stack.gomemlimit(plan)},
        "mem_limit": f"{collector.memory_limit_mib}m",
        "restart": "unless-stopped",
    }
    # The single collector and the samplers tail-sample: their limit is the plan's sampler limit, the one
    # their memory_limiter is sized from.
    sampling: dict[str, object] = {"environment": {"GOMEMLIMIT": stack.gomemlimit(plan, tail_sampling=True)},
                                   "mem_limit": f"{plan.sampler_memory.limit_mib}m"}
    backends = [TEMPO, PROMETHEUS]
    receive = {"ports": [_publish(stack.OTLP_GRPC_PORT, stack.OTLP_GRPC_PORT),
                         _publish(stack.OTLP_HTTP_PORT, stack.OTLP_HTTP_PORT)]}
    if collector.replicas <= 1:
        config = _rendered(f"{stack.COLLECTOR_DIRECTORY}/config.yaml")
        return {COLLECTOR: {**common, **sampling, "volumes": [_bind(config, COLLECTOR_CONFIG)], **receive,
                            **_network(plan, COLLECTOR), "depends_on": _healthy(*backends)}}
    gateway = _rendered(f"{stack.COLLECTOR_DIRECTORY}/gateway.yaml")
    sampler = _rendered(f"{stack.COLLECTOR_DIRECTORY}/sampler.yaml")
    return {
        # every replica answers to the sampler_service alias, so the gateway's dns resolver and
        # Prometheus' dns_sd job see one address per replica, as with a headless Kubernetes Service
        SAMPLER: {**common, **sampling, "volumes": [_bind(sampler, COLLECTOR_CONFIG)],
                  "deploy": {"replicas": collector.replicas},
                  **_network(plan, SAMPLER), "depends_on": _healthy(*backends)},
        GATEWAY: {**common, "volumes": [_bind(gateway, COLLECTOR_CONFIG)], **receive, **_network(plan, GATEWAY),
                  "depends_on": {SAMPLER: {"condition": "service_started"}, **_healthy(PROMETHEUS)}},
    }


def tempo(plan: Plan) -> dict[str, object]:
    """Tempo, monolithic (``-target=all``), reading the rendered tempo.yaml."""
    port = listen_port(plan, TEMPO)
    command = ["-target=all", f"-config.file={TEMPO_CONFIG}"]
    if stack.tempo_expand_env(plan):
        command.append("-config.expand-env=true")
    # /ready answers 200 once the ingester (2.x) or live store (3.x) has joined its ring
    return {
        "image": images.image(plan, images.TEMPO_REPOSITORY),
        "command": command,
        "volumes": [_bind(_rendered(stack.TEMPO_PATH), TEMPO_CONFIG)],
        "ports": [_publish(port, HOST_PORTS[TEMPO])],
        **_network(plan, TEMPO),
        "healthcheck": _wget_health(f"http://{LOCALHOST}:{port}/ready", "30s"),
        "restart": "unless-stopped",
    }


def prometheus(plan: Plan) -> dict[str, object]:
    """Prometheus with the rendered config and rules, and the flags its header asks for."""
    port = listen_port(plan, PROMETHEUS)
    config_dir = str(PurePosixPath(stack.PROMETHEUS_CONFIG_PATH).parent)
    config_name = PurePosixPath(stack.PROMETHEUS_CONFIG_PATH).name
    return {
        "image": images.image(plan, images.PROMETHEUS_REPOSITORY),
        # the image's own arguments (config, storage path) are replaced, so all are given
        "command": [f"--config.file={PROMETHEUS_DIR}/{config_name}", "--storage.tsdb.path=/prometheus",
                    f"--web.listen-address=0.0.0.0:{port}", *stack.prometheus_flags(plan)],
        "volumes": [_bind(_rendered(config_dir), PROMETHEUS_DIR)],
        "ports": [_publish(port, HOST_PORTS[PROMETHEUS])],
        **_network(plan, PROMETHEUS),
        "healthcheck": _wget_health(f"http://{LOCALHOST}:{port}/-/ready", "10s"),
        "restart": "unless-stopped",
    }


def loki(plan: Plan) -> dict[str, object]:
    """Loki with the image's own single-process config (obsgen renders none): the logs datasource's target."""
    port = listen_port(plan, LOKI)
    command = ["-config.file=/etc/loki/local-config.yaml"]
    if port != addresses.LOKI_DEFAULT_PORT:
        command.append(f"-server.http-listen-port={port}")
    return {
        "image": images.LOKI_IMAGE,
        "command": command,
        "ports": [_publish(port, HOST_PORTS[LOKI])],
        **_network(plan, LOKI),
        "healthcheck": _wget_health(f"http://{LOCALHOST}:{port}/ready", "30s"),
        "restart": "unless-stopped",
    }


HOME_DASHBOARD_SETTING = "GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"


def home_dashboard(plan: Plan) -> str | None:
    r"""Grafana's home-dashboard path (the overview), or None when Grafana could not read it literally.

    Grafana expands ${...} and $__name{...} in every setting and has no escape for them (grafana
    pkg/setting/expanders.go, `\$(|__\w+){([^}]+)}`): a path that holds one keeps Grafana's own home page.
    """
    home = f"{plan.spec.backends.grafana.dashboards_path}/{stack.overview_dashboard(plan)}"
    return None if _GRAFANA_EXPANSION.search(home) else home


def grafana(plan: Plan) -> dict[str, object]:
    """Grafana on localhost:3000, anonymous admin, the rendered datasources and dashboards provisioned."""
    dashboards_path = plan.spec.backends.grafana.dashboards_path
    port = listen_port(plan, GRAFANA)
    needs = [TEMPO, PROMETHEUS] + ([LOKI] if plan.spec.backends.loki is not None else [])
    environment = {
        "GF_AUTH_ANONYMOUS_ENABLED": "true",
        "GF_AUTH_ANONYMOUS_ORG_ROLE": "Admin",
        "GF_AUTH_DISABLE_LOGIN_FORM": "true",
    }
    home = home_dashboard(plan)
    if home is not None:
        environment[HOME_DASHBOARD_SETTING] = home
    return {
        "image": images.image(plan, images.GRAFANA_REPOSITORY),
        "environment": environment,
        "volumes": [
            _bind(_rendered(str(PurePosixPath(stack.DATASOURCES_PATH).parent)),
                  f"{GRAFANA_PROVISIONING}/datasources"),
            _bind(_rendered(str(PurePosixPath(stack.DASHBOARD_PROVIDER_PATH).parent)),
                  f"{GRAFANA_PROVISIONING}/dashboards"),
            _bind(_rendered(stack.DASHBOARDS_DIR), dashboards_path),
        ],
        "ports": [_publish(port, HOST_PORTS[GRAFANA])],
        **_network(plan, GRAFANA),
        "depends_on": _healthy(*needs),
        "healthcheck": _wget_health(f"http://{LOCALHOST}:{port}/api/health", "20s"),
        "restart": "unless-stopped",
    }


def traffic(plan: Plan) -> dict[str, object]:
    """``obsgen traffic`` against the Collector, only with ``--profile traffic``.

    obsgen is not on PyPI: the service installs it from the checkout (``OBSGEN_CHECKOUT``, default the
    checkout this folder is ``generated/<spec>/`` of) and reads the spec from it (``OBSGEN_SPEC``);
    ``OBSGEN_TRAFFIC_ARGS`` holds further flags of ``obsgen traffic``.
    """
    front = collector_front(plan)
    return {
        "image": images.PYTHON_IMAGE,
        "profiles": [TRAFFIC_PROFILE],
        "command": ["sh", "-c", TRAFFIC_SCRIPT, "traffic",
                    f"http://{front}:{stack.collector_health_port()}/",
                    f"http://{front}:{stack.OTLP_GRPC_PORT}"],
        "environment": {SPEC_VARIABLE: variable(SPEC_VARIABLE, f"specs/{plan.spec_file}"),
                        ARGS_VARIABLE: variable(ARGS_VARIABLE, DEFAULT_TRAFFIC_ARGS)},
        "volumes": [{"type": "bind", "source": variable(CHECKOUT_VARIABLE, DEFAULT_CHECKOUT), "target": "/src",
                     "read_only": True}],
        "depends_on": {front: {"condition": "service_started"}},
    }


def services(plan: Plan) -> dict[str, dict[str, object]]:
    """Every service, in start order."""
    out: dict[str, dict[str, object]] = {TEMPO: tempo(plan), PROMETHEUS: prometheus(plan)}
    if plan.spec.backends.loki is not None:
        out[LOKI] = loki(plan)
    out.update(collectors(plan))
    out[GRAFANA] = grafana(plan)
    out[TRAFFIC] = traffic(plan)
    return out
