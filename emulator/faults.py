"""Fault injection rules, set through the admin API.

A rule applies to one endpoint family ("email.send", "email.status", "arm", "logs",
"metrics", "graph", "token") and has a ``kind``:

* ``"429"`` (with ``retry_after`` seconds, default 1), ``"500"``, ``"503"``: an error
  response with an Azure-shaped body;
* ``"reset"``: the TCP connection is aborted without a response;
* ``"delay"``: the request is handled normally after ``delay_ms``;
* ``"drop"`` (email.send only): the send is accepted but the operation ends
  ``Failed`` with ``EmailDropped``.

Either ``count`` (the next N matching requests) or ``rate`` (probability 0..1 per
request, seeded for reproducibility) selects the requests it hits.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass, field
from typing import Any

ENDPOINTS = (
    "email.send",
    "email.status",
    "arm",
    "logs",
    "metrics",
    "graph",
    "token",
)
KINDS = ("429", "500", "503", "reset", "delay", "drop")


@dataclass
class FaultRule:
    endpoint: str
    kind: str
    count: int | None = None
    rate: float | None = None
    retry_after: int = 1
    delay_ms: int = 0
    hits: int = 0
    id: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Faults:
    rules: list[FaultRule] = field(default_factory=list)
    _rng: random.Random = field(default_factory=lambda: random.Random(1234))
    _next_id: int = 1

    def add(self, data: dict[str, Any]) -> FaultRule:
        endpoint = str(data.get("endpoint", ""))
        kind = str(data.get("kind", ""))
        if endpoint not in ENDPOINTS:
            raise ValueError(f"endpoint must be one of {ENDPOINTS}")
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}")
        count = data.get("count")
        rate = data.get("rate")
        if count is None and rate is None:
            count = 1
        if rate is not None and not 0 <= float(rate) <= 1:
            raise ValueError("rate must be between 0 and 1")
        rule = FaultRule(
            endpoint=endpoint,
            kind=kind,
            count=int(count) if count is not None else None,
            rate=float(rate) if rate is not None else None,
            retry_after=max(1, int(data.get("retry_after", 1))),
            delay_ms=int(data.get("delay_ms", 0)),
            id=self._next_id,
        )
        self._next_id += 1
        self.rules.append(rule)
        return rule

    def clear(self, endpoint: str | None = None) -> None:
        self.rules = [r for r in self.rules if endpoint and r.endpoint != endpoint]

    def take(
        self, endpoint: str, kinds: tuple[str, ...] | None = None
    ) -> FaultRule | None:
        """The rule that hits this request, if any (consumes one count)."""
        if not self.rules:
            return None
        for rule in self.rules:
            if rule.endpoint != endpoint:
                continue
            if kinds is not None and rule.kind not in kinds:
                continue
            if kinds is None and rule.kind == "drop":
                continue
            if rule.count is not None:
                if rule.count <= 0:
                    continue
                rule.count -= 1
                rule.hits += 1
                return rule
            if rule.rate is not None and self._rng.random() < rule.rate:
                rule.hits += 1
                return rule
        return None
