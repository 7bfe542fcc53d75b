"""Which images a host's policy requires (Deis v1's get_image choice included) and what is wrong with one in its engine.

Rules (judging facts), used by the check and by its remediation."""

from collections.abc import Mapping
from typing import Any

from fleetready.gather.facts import Facts
from fleetready.gather.facts_deis import DeisFacts
from fleetready.gather.facts_images import ImagesFacts, normalize

STATEFUL_PREFIXES = ("/deis/store/", "/deis/database/")


def stateless(settings: DeisFacts) -> bool:
    return not any(key.startswith(STATEFUL_PREFIXES) for key in settings)


def deis_images(platform: Mapping[str, Any], settings: DeisFacts) -> dict[str, str]:
    """{component: image ref} as Deis v1's get_image chooses them."""
    release = settings.get("/deis/platform/version") or settings.get("release_file") or platform["default_release"]
    skip = set(platform["stateful_components"]) if stateless(settings) else set()
    return {
        c: settings.get(f"/deis/{c}/image") or f"deis/{c}:{release}" for c in platform["components"] if c not in skip
    }


def required_images(policy: Mapping[str, Any], facts: Facts) -> list[str]:
    images = policy["images"]
    platform = images.get("platform")
    if not platform:
        return list(images["required"])
    components = deis_images(platform, facts["deis"])
    # A required deis/<component> entry is the profile's default; get_image's choice wins.
    replaced = {normalize(f"deis/{c}")[0] for c in platform["components"]}
    return list(components.values()) + [r for r in images["required"] if normalize(r)[0] not in replaced]


def finding(ref: str, images: ImagesFacts) -> tuple[str, str] | None:
    """None when ref is in the engine, else (problem code, what is wrong with it): `missing`
    or `wrong_digest`."""
    name, tag, digest = normalize(ref)
    if tag:
        tagged = [i for i in images if f"{name}:{tag}" in i["tags"]]
        if not tagged:
            return "missing", f"{ref}: missing"
        candidates = tagged
    else:
        candidates = [
            i
            for i in images
            if any(d.startswith(name + "@") for d in i["digests"]) or any(t.startswith(name + ":") for t in i["tags"])
        ]
        if not candidates:
            return "missing", f"{ref}: missing"
    if digest and not any(f"{name}@{digest}" in i["digests"] for i in candidates):
        local = sorted({d.split("@")[1] for i in candidates for d in i["digests"] if d.startswith(name + "@")})
        return "wrong_digest", f"{ref}: wrong digest (local: {', '.join(local) or 'no registry digest'})"
    return None
