"""Delivery pagination and the 10 newest summaries (docs/architecture.md: "A request")."""

import time

import pytest

from conftest import SUMMARY_KEYS, detail_fields

TOTAL = 105


@pytest.fixture(scope="module")
def hook(svc):
    """One webhook with TOTAL deliveries; `data.seq` says in which order they were queued."""
    owner, key = svc.new_user()
    server_id = svc.new_server(owner)
    w = svc.create_webhook(key)
    panel = svc.service_key("panel-pagination")
    for seq in range(TOTAL):
        status, _, body = svc.post_event(panel, "server.started", server_id, data={"seq": seq})
        assert (status, body["deliveries"]) == (202, 1), body
        time.sleep(0.002)  # distinct createdAt milliseconds: "newest first" is then unambiguous
    return key, w["id"]


def page(svc, hook, query=""):
    key, webhook_id = hook
    return svc.request("GET", f"/webhooks/{webhook_id}/deliveries{query}", key=key)


def seqs(body):
    return [d["payload"]["data"]["seq"] for d in body["deliveries"]]


def test_defaults_are_limit_50_offset_0_newest_first(svc, hook):
    status, _, body = page(svc, hook)
    assert status == 200, body
    assert set(body) == {"deliveries", "total", "limit", "offset"}
    assert (body["total"], body["limit"], body["offset"]) == (TOTAL, 50, 0)
    assert seqs(body) == list(range(TOTAL - 1, TOTAL - 51, -1))


@pytest.mark.parametrize("limit,used", [("101", 100), ("1000", 100), ("100", 100), ("1", 1)])
def test_limit_clamps_to_100_and_is_echoed(svc, hook, limit, used):
    status, _, body = page(svc, hook, f"?limit={limit}")
    assert status == 200, body
    assert body["limit"] == used and len(body["deliveries"]) == used
    assert body["total"] == TOTAL


@pytest.mark.parametrize("query,param", [
    ("?limit=0", "limit"), ("?limit=-1", "limit"), ("?limit=abc", "limit"),
    ("?limit=1.5", "limit"), ("?offset=-1", "offset"),
    ("?offset=abc", "offset"), ("?offset=2.5", "offset"), ("?limit=0&offset=-1", None),
])
def test_bad_limit_or_offset_is_400(svc, hook, query, param):
    status, _, body = page(svc, hook, query)
    assert status == 400, body
    fields = detail_fields(body)
    if param:
        assert param in fields, body
    else:
        assert {"limit", "offset"} <= fields, body


def test_offset_past_the_end_is_empty_with_total(svc, hook):
    status, _, body = page(svc, hook, "?offset=500&limit=10")
    assert status == 200
    assert body == {"deliveries": [], "total": TOTAL, "limit": 10, "offset": 500}


def test_last_partial_page(svc, hook):
    status, _, body = page(svc, hook, "?limit=100&offset=100")
    assert status == 200
    assert seqs(body) == [4, 3, 2, 1, 0]
    assert (body["limit"], body["offset"], body["total"]) == (100, 100, TOTAL)


def test_pages_cover_everything_without_overlap(svc, hook):
    ids, order = [], []
    for offset in range(0, TOTAL + 20, 20):
        status, _, body = page(svc, hook, f"?limit=20&offset={offset}")
        assert status == 200 and body["offset"] == offset
        ids += [d["id"] for d in body["deliveries"]]
        order += seqs(body)
    assert len(ids) == len(set(ids)) == TOTAL
    assert order == list(range(TOTAL - 1, -1, -1))


def test_webhook_detail_has_ten_newest_summaries(svc, hook):
    key, webhook_id = hook
    w = svc.webhook(key, webhook_id)
    assert w["_count"] == {"deliveries": TOTAL}
    summaries = w["deliveries"]
    assert len(summaries) == 10
    for s in summaries:
        assert set(s) == SUMMARY_KEYS, sorted(s)
        assert s["event"] == "server.started"
    newest = page(svc, hook, "?limit=10")[2]["deliveries"]
    assert [s["id"] for s in summaries] == [d["id"] for d in newest]
    for s, d in zip(summaries, newest):
        assert s == {k: d[k] for k in SUMMARY_KEYS}
