"""Rate limiter shared by every worker and campaign of one ACS resource (Redis).

Token buckets, refilled continuously, checked and debited atomically by one Lua
script: the resource's per-minute bucket, its per-hour bucket and optionally the
campaign's own cap. All buckets must allow a send. Each bucket holds 10% of its
window's limit and refills the other 90% over the window, so burst plus refill
never exceed the quota in any window of that length (ACS counts sliding
windows): a campaign slows down before ACS has to throttle it.

A 429 with ``Retry-After`` sets a resource-wide "cool down until" key; every
``acquire`` for that resource grants nothing until it has passed, whichever
worker or campaign asks.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass

import redis
from django.conf import settings

# Share of a window's limit a bucket may hold (its burst); the rest refills.
BURST_FRACTION = 0.1
KEY_PREFIX = "kk:rl"

# KEYS[1] = cooldown key, KEYS[2..] = buckets.
# ARGV[1] = tokens wanted, then per bucket: capacity, refill per second.
# Returns {granted, wait seconds as a string}.
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local wanted = tonumber(ARGV[1])
local until_ts = tonumber(redis.call('GET', KEYS[1]) or '0')
if until_ts > now then
  return {0, tostring(until_ts - now)}
end
local grant = wanted
local levels = {}
for i = 2, #KEYS do
  local cap = tonumber(ARGV[2 * i - 2])
  local rate = tonumber(ARGV[2 * i - 1])
  local state = redis.call('HMGET', KEYS[i], 'tokens', 'ts')
  local tokens = tonumber(state[1])
  local ts = tonumber(state[2])
  if tokens == nil or ts == nil then
    tokens = cap
    ts = now
  end
  tokens = math.min(cap, tokens + math.max(0, now - ts) * rate)
  levels[i] = tokens
  local whole = math.floor(tokens)
  if whole < grant then grant = whole end
end
if grant < 0 then grant = 0 end
local wait = 0
for i = 2, #KEYS do
  local cap = tonumber(ARGV[2 * i - 2])
  local rate = tonumber(ARGV[2 * i - 1])
  local left = levels[i] - grant
  redis.call('HSET', KEYS[i], 'tokens', tostring(left), 'ts', tostring(now))
  redis.call('EXPIRE', KEYS[i], math.ceil(cap / rate) + 60)
  if grant == 0 and left < 1 then
    local need = (1 - left) / rate
    if need > wait then wait = need end
  end
end
return {grant, tostring(wait)}
"""

# Give back tokens that were granted but not used (capped at capacity).
_RELEASE = """
for i = 1, #KEYS do
  local cap = tonumber(ARGV[i + 1])
  local tokens = tonumber(redis.call('HGET', KEYS[i], 'tokens'))
  if tokens ~= nil then
    redis.call('HSET', KEYS[i], 'tokens',
      tostring(math.min(cap, tokens + tonumber(ARGV[1]))))
  end
end
return 1
"""

# Move the cooldown forward (never backward) to now + ARGV[1] seconds.
_COOLDOWN = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local target = now + tonumber(ARGV[1])
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if target > current then
  redis.call('SET', KEYS[1], tostring(target), 'PX',
    math.ceil(tonumber(ARGV[1]) * 1000) + 1000)
end
return tostring(math.max(target, current) - now)
"""


@functools.cache
def connection() -> redis.Redis:
    return redis.Redis.from_url(settings.CAMPAIGN_REDIS_URL)


@functools.cache
def _scripts() -> tuple[object, object, object]:
    r = connection()
    return (
        r.register_script(_ACQUIRE),
        r.register_script(_RELEASE),
        r.register_script(_COOLDOWN),
    )


def reset_connection() -> None:
    """Forget the client (tests that change ``CAMPAIGN_REDIS_URL`` call this)."""
    connection.cache_clear()
    _scripts.cache_clear()


@dataclass(frozen=True)
class Bucket:
    key: str
    limit: int  # messages per window
    window_seconds: int

    @property
    def capacity(self) -> float:
        return max(1.0, self.limit * BURST_FRACTION)

    @property
    def refill_per_second(self) -> float:
        return max(self.limit - self.capacity, 1e-6) / self.window_seconds


def _resource_hash(resource_id: str) -> str:
    return hashlib.sha256(resource_id.lower().encode()).hexdigest()[:24]


@dataclass(frozen=True)
class Limiter:
    """The buckets one campaign's sends draw from.

    ``resource_id`` keys the shared buckets and the cooldown (all campaigns and
    workers of that ACS resource); ``campaign_key`` the optional per-campaign cap.
    """

    resource_id: str
    per_minute: int
    per_hour: int
    campaign_key: str = ""
    campaign_per_minute: int | None = None

    @property
    def cooldown_key(self) -> str:
        return f"{KEY_PREFIX}:{_resource_hash(self.resource_id)}:cooldown"

    @property
    def buckets(self) -> list[Bucket]:
        base = f"{KEY_PREFIX}:{_resource_hash(self.resource_id)}"
        found = [
            Bucket(f"{base}:m:{self.per_minute}", self.per_minute, 60),
            Bucket(f"{base}:h:{self.per_hour}", self.per_hour, 3600),
        ]
        if self.campaign_key and self.campaign_per_minute:
            found.append(
                Bucket(
                    f"{KEY_PREFIX}:c:{self.campaign_key}:{self.campaign_per_minute}",
                    self.campaign_per_minute,
                    60,
                )
            )
        return found

    def acquire(self, wanted: int) -> tuple[int, float]:
        """Take up to ``wanted`` send tokens; returns (granted, wait_seconds).

        ``granted`` may be less than asked (what the tightest bucket holds). When
        it is 0, ``wait_seconds`` says when a token will be there (or when the
        cooldown ends).
        """
        acquire, _release, _cooldown = _scripts()
        buckets = self.buckets
        args: list[float | int] = [int(wanted)]
        for bucket in buckets:
            args += [bucket.capacity, bucket.refill_per_second]
        granted, wait = acquire(  # type: ignore[operator]
            keys=[self.cooldown_key, *(b.key for b in buckets)], args=args
        )
        return int(granted), float(wait)

    def release(self, unused: int) -> None:
        """Give back tokens acquired but not used (e.g. fewer rows were left)."""
        if unused <= 0:
            return
        _acquire, release, _cooldown = _scripts()
        buckets = self.buckets
        args: list[float | int] = [int(unused)]
        for bucket in buckets:
            args.append(bucket.capacity)
        release(keys=[b.key for b in buckets], args=args)  # type: ignore[operator]

    def cool_down(self, seconds: float) -> float:
        """Hold every sender of the resource back for ``seconds`` (a 429's
        Retry-After); returns the seconds left of the (possibly longer) cooldown."""
        _acquire, _release, cooldown = _scripts()
        left = cooldown(  # type: ignore[operator]
            keys=[self.cooldown_key], args=[max(0.0, float(seconds))]
        )
        return float(left)

    def cooldown_left(self) -> float:
        raw = connection().get(self.cooldown_key)
        if raw is None:
            return 0.0
        seconds, micros = connection().time()
        return max(0.0, float(raw) - (seconds + micros / 1_000_000))
