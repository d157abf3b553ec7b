"""The shared Redis rate limiter under concurrency (real Redis, test database 12)."""

from __future__ import annotations

import threading
import time
import uuid

import pytest
from django.conf import settings as django_settings

from mailops.campaigns import ratelimit


@pytest.fixture
def limiter_redis(settings):
    base = django_settings.CAMPAIGN_REDIS_URL.rsplit("/", 1)[0]
    settings.CAMPAIGN_REDIS_URL = f"{base}/12"
    ratelimit.reset_connection()
    # Database 12 belongs to these tests: start from empty buckets.
    ratelimit.connection().flushdb()
    yield ratelimit.connection()
    ratelimit.reset_connection()


def _resource() -> str:
    return f"/subscriptions/x/communicationServices/acs-{uuid.uuid4().hex}"


def _hammer(limiter: ratelimit.Limiter, seconds: float, threads: int) -> int:
    granted = [0] * threads
    stop = time.monotonic() + seconds

    def worker(i: int) -> None:
        while time.monotonic() < stop:
            n, _wait = limiter.acquire(7)
            granted[i] += n
            if not n:
                time.sleep(0.005)

    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return sum(granted)


def test_concurrent_acquires_never_exceed_the_bucket(limiter_redis):
    # given: 600 per minute -> a burst of 60, then 9 per second
    limiter = ratelimit.Limiter(_resource(), per_minute=600, per_hour=1_000_000)
    started = time.monotonic()
    # when: 8 threads take tokens as fast as they can for 2 seconds
    total = _hammer(limiter, 2.0, 8)
    elapsed = time.monotonic() - started
    # then: never more than the burst plus the refill of the elapsed time
    assert 60 <= total <= 60 + 9 * elapsed + 1


def test_burst_plus_refill_stays_within_the_quota_of_a_window():
    bucket = ratelimit.Bucket("k", limit=30, window_seconds=60)
    # over any 60 s: capacity + 60 s of refill == the quota
    assert bucket.capacity + bucket.refill_per_second * 60 == pytest.approx(30)
    hour = ratelimit.Bucket("k", limit=2_000_000, window_seconds=3600)
    assert hour.capacity + hour.refill_per_second * 3600 == pytest.approx(2_000_000)


def test_every_bucket_must_allow(limiter_redis):
    # the hour bucket (100/h -> burst 10) is tighter than the minute one
    limiter = ratelimit.Limiter(_resource(), per_minute=6000, per_hour=100)
    granted, _wait = limiter.acquire(50)
    assert granted == 10
    granted, wait = limiter.acquire(50)
    assert granted == 0
    assert 0 < wait <= 1 / (90 / 3600) + 0.1


def test_campaign_cap_is_its_own_bucket(limiter_redis):
    resource = _resource()
    capped = ratelimit.Limiter(
        resource, 60_000, 10_000_000, campaign_key="t:1", campaign_per_minute=120
    )
    other = ratelimit.Limiter(resource, 60_000, 10_000_000, campaign_key="t:2")
    assert capped.acquire(100) == (12, 0.0)
    # the other campaign of the resource is not held back by that cap
    assert other.acquire(100)[0] == 100


def test_unused_tokens_go_back(limiter_redis):
    limiter = ratelimit.Limiter(_resource(), per_minute=600, per_hour=1_000_000)
    assert limiter.acquire(60)[0] == 60
    limiter.release(40)
    assert limiter.acquire(60)[0] == 40


def test_retry_after_cools_down_every_campaign_of_the_resource(limiter_redis):
    resource = _resource()
    first = ratelimit.Limiter(resource, 6000, 1_000_000, campaign_key="t:1")
    second = ratelimit.Limiter(resource, 6000, 1_000_000, campaign_key="t:2")
    elsewhere = ratelimit.Limiter(_resource(), 6000, 1_000_000)
    # when: one campaign's send got 429 with Retry-After: 2
    first.cool_down(2)
    # then: the other campaign of that resource waits too, another resource not
    granted, wait = second.acquire(10)
    assert granted == 0
    assert 1.5 < wait <= 2.0
    assert elsewhere.acquire(10)[0] == 10
    # a shorter Retry-After never shortens the cooldown
    assert first.cool_down(0.5) > 1.5
    assert 1.5 < second.cooldown_left() <= 2.0


def test_cooldown_is_shared_between_threads(limiter_redis):
    resource = _resource()
    limiter = ratelimit.Limiter(resource, 600_000, 10_000_000)
    limiter.cool_down(1)
    started = time.monotonic()
    firsts: list[float] = []

    def worker() -> None:
        while True:
            n, wait = ratelimit.Limiter(resource, 600_000, 10_000_000).acquire(1)
            if n:
                firsts.append(time.monotonic() - started)
                return
            time.sleep(min(wait, 0.05))

    pool = [threading.Thread(target=worker) for _ in range(4)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    assert len(firsts) == 4
    assert min(firsts) >= 0.9
