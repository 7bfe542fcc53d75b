# shellcheck shell=sh
# fr_images: one line per local image, its id, tags and digests as JSON (facts_images.py).
# Exit 3: the engine does not answer; 4: the images could not be listed.
fr_images() {
    # `docker version` first: an engine that is down must not look like an engine with no images.
    docker version --format '{{.Server.Version}}' >/dev/null || exit 3
    ids=$(docker image ls -q --no-trunc | sort -u) || exit 4
    # shellcheck disable=SC2086  # one word per id (sha256:HEX): all inspected at once
    [ -z "$ids" ] || docker image inspect --format '{{json .Id}} {{json .RepoTags}} {{json .RepoDigests}}' $ids
}
