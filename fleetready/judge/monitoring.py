"""What is wrong with a metrics fetch.

Rules (judging facts), used by the check and by its remediation."""

from fleetready.gather.facts_monitoring import Fetch


def finding(url: str, fetched: Fetch, where: str = "") -> str | None:
    """What is wrong with one fetch of the metrics endpoint, or None. From outside, why it did
    not answer (refused, timed out) tells a loopback binding from a filter."""
    if fetched["error"] is not None:
        return f"metrics endpoint {url} not answering" + (f"{where} ({fetched['error']})" if where else "")
    if fetched["status"] != 200:
        return f"metrics endpoint {url} answered HTTP {fetched['status']}{where}"
    if fetched["format_error"] is not None:
        return f"metrics endpoint {url}: not Prometheus text format ({fetched['format_error']}){where}"
    return None
