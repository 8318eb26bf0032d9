"""The service's metrics as Prometheus itself reads them: `GET /metrics` through nginx, parsed
with prometheus_client's parser, for the tests that watch them move."""

from prometheus_client.parser import text_string_to_metric_families


class Metrics:
    """Parsed metrics: value(name, **labels) sums the samples that carry those labels (a label set
    not seen yet, such as a route and code never answered, is 0 only where `absent_is_zero`)."""

    def __init__(self, text):
        self.families = {f.name: f for f in text_string_to_metric_families(text)}

    def value(self, sample_name, absent_is_zero=False, **labels):
        total, found = 0.0, False
        for family in self.families.values():
            for sample in family.samples:
                if sample.name == sample_name and all(sample.labels.get(k) == v for k, v in labels.items()):
                    total += sample.value
                    found = True
        assert found or absent_is_zero, f"no sample {sample_name} {labels}"
        return total


def scrape(svc):
    status, headers, text = svc.request("GET", "/metrics")
    assert status == 200, (status, text)
    assert headers["Content-Type"].startswith("text/plain; version=0.0.4"), headers["Content-Type"]
    return Metrics(text)
