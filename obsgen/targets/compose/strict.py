"""The rendered compose file read back and checked before it is written: what ``docker compose up`` would
only find out when it starts (compose-go's loader accepts all of these; tools/composecheck and the tests
check the rest with it).
"""

from __future__ import annotations

from obsgen.check.strict import StrictError


def _image_problem(image: object) -> str | None:
    if not isinstance(image, str) or not image:
        return "no image"
    name = image.rsplit("/", 1)[-1]
    if "@" in name:
        return None
    if ":" not in name:
        return f"image {image} has no tag (Docker pulls latest)"
    if name.endswith(":latest"):
        return f"image {image} is not pinned (latest)"
    return None


def check_compose(doc: object) -> list[StrictError]:
    """Images pinned, mounts read-only, ports on loopback, every dependency present and health-checked if waited on."""
    if not isinstance(doc, dict) or not isinstance(doc.get("services"), dict):
        return [StrictError("services", "no services mapping")]
    services: dict[str, object] = doc["services"]
    errors: list[StrictError] = []
    for name, service in services.items():
        where = f"services.{name}"
        if not isinstance(service, dict):
            errors.append(StrictError(where, "not a mapping"))
            continue
        problem = _image_problem(service.get("image"))
        if problem:
            errors.append(StrictError(f"{where}.image", problem))
        for i, volume in enumerate(service.get("volumes", [])):
            if not (isinstance(volume, dict) and volume.get("type") == "bind" and volume.get("read_only") is True):
                errors.append(StrictError(f"{where}.volumes[{i}]", "every mount is a read-only bind mount"))
        for i, port in enumerate(service.get("ports", [])):
            if not (isinstance(port, dict) and port.get("host_ip") == "127.0.0.1"):
                errors.append(StrictError(f"{where}.ports[{i}]", "published ports bind 127.0.0.1 only"))
        for other, condition in (service.get("depends_on") or {}).items():
            target = services.get(other)
            if not isinstance(target, dict):
                errors.append(StrictError(f"{where}.depends_on.{other}", "depends on a service that does not exist"))
            elif condition.get("condition") == "service_healthy" and "healthcheck" not in target:
                # Compose would wait in vain and fail: docker/compose pkg/compose/convergence.go,
                # "container %s has no healthcheck configured"
                errors.append(StrictError(f"{where}.depends_on.{other}", f"waits for {other} to be healthy, "
                                          "which has no healthcheck"))
    return errors
