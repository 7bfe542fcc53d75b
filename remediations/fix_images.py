"""Preseed images (FR-IMG-01): pull what the check finds missing into the host's own engine.

From `images.registry` when the policy sets one (pull REGISTRY/path, then tag it with the
required name), else through the engine's own registry or mirror. At most PARALLEL pulls at
once on the host. A Deis host with its preseed script (/run/deis/bin/preseed) runs that
instead: it pulls exactly the images Deis itself will ask for. Only what is missing is pulled,
so applying twice pulls nothing the second time.
"""

import shlex

from fleetready.gather.facts_images import normalize
from fleetready.judge.images import finding, required_images

from .base import Fix, NotFixable, Step

PARALLEL = 4
DEIS_PRESEED = "/run/deis/bin/preseed"


def source_and_name(ref, registry):
    """(what to pull, the name to tag it with or None) for a required reference."""
    if not registry:
        return ref, None
    name, tag, digest = normalize(ref)
    path = name.split("/", 1)[1]  # without the registry: docker.io/library/alpine -> library/alpine
    if digest:
        return f"{registry}/{path}@{digest}", f"{name}:{tag}" if tag else None
    return f"{registry}/{path}:{tag}", f"{name}:{tag}"


class PreseedImages(Fix):
    name = "preseed-images"
    controls = ("FR-IMG-01",)
    facts = ("images",)

    def plan(self, ctx):
        missing = [ref for ref in required_images(ctx.policy, ctx.facts) if finding(ref, ctx.facts["images"])]
        if not missing:
            raise NotFixable("no missing image found in the facts")
        if (ctx.facts.values.get("deis") or {}).get("preseed_script"):
            return [Step(DEIS_PRESEED, "Deis host: its preseed script pulls the images Deis uses")]
        registry = ctx.policy["images"]["registry"]
        pairs = [source_and_name(ref, registry) for ref in missing]
        if not registry:
            refs = " ".join(shlex.quote(src) for src, _ in pairs)
            return [
                Step(
                    f"printf '%s\\n' {refs} | xargs -P {PARALLEL} -n 1 docker pull -q",
                    "pull the missing images through the engine's registry or mirror",
                )
            ]
        # "-" stands for "no tag": a digest-only reference is pulled as it is.
        args = " ".join(f"{shlex.quote(src)} {shlex.quote(dst or '-')}" for src, dst in pairs)
        pull_tag = 'docker pull -q "$0" && { [ "$1" = - ] || docker tag "$0" "$1"; }'
        return [
            Step(
                f"printf '%s %s\\n' {args} | xargs -P {PARALLEL} -n 2 sh -c {shlex.quote(pull_tag)}",
                f"pull the missing images from {registry} and tag them with the required names",
            )
        ]


FIX = PreseedImages()
