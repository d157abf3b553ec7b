"""Run the benchmarks and write ``bench/results.json``.

Every ``bench/bench_*.py`` module is imported by path and its ``run()`` called; each
returns a list of figures (dicts).  Arguments filter modules by substring of their
name (``python bench/run.py provisioning kql``); a filtered run replaces only the
figures it produced in an existing results file (matched by name) and keeps the rest.  A module that raises is reported as
failed and the others still run; the exit status is non-zero if any failed.

    python bench/run.py [FILTER ...]
"""

from __future__ import annotations

import importlib.util
import json
import math
import sys
import time
import traceback
from pathlib import Path
from types import ModuleType
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
RESULTS = BENCH_DIR / "results.json"
KEYS = (
    "name",
    "value",
    "unit",
    "baseline",
    "baseline_value",
    "target",
    "higher_is_better",
    "meets_target",
)
COLUMNS = (
    "name",
    "value",
    "unit",
    "baseline",
    "baseline_value",
    "target",
    "meets_target",
)


def discover(filters: list[str]) -> list[Path]:
    paths = sorted(BENCH_DIR.glob("bench_*.py"))
    if filters:
        paths = [p for p in paths if any(f in p.stem for f in filters)]
    return paths


def load(path: Path) -> ModuleType:
    name = f"bench_run_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _json_safe(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def normalise(row: dict[str, Any], module: str) -> dict[str, Any]:
    """Exactly the result keys; derive meets_target when the module left it out."""
    if "name" not in row or "value" not in row:
        raise ValueError(f"{module}: figure without name/value: {row!r}")
    out = {key: _json_safe(row.get(key)) for key in KEYS}
    if out["higher_is_better"] is None:
        out["higher_is_better"] = False
    if out["meets_target"] is None and out["target"] is not None:
        value, target = out["value"], out["target"]
        if isinstance(value, int | float) and isinstance(target, int | float):
            out["meets_target"] = (
                value >= target if out["higher_is_better"] else value <= target
            )
    extra = set(row) - set(KEYS)
    if extra:
        print(f"  note: {module}: dropped extra keys {sorted(extra)}")
    return out


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "NO"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def print_table(rows: list[dict[str, Any]]) -> None:
    cells = [[_cell(row[c]) for c in COLUMNS] for row in rows]
    widths = [
        max([len(c)] + [len(line[i]) for line in cells]) for i, c in enumerate(COLUMNS)
    ]
    print("  ".join(c.ljust(w) for c, w in zip(COLUMNS, widths, strict=True)).rstrip())
    print("  ".join("-" * w for w in widths))
    for line in cells:
        print("  ".join(v.ljust(w) for v, w in zip(line, widths, strict=True)).rstrip())


def main(argv: list[str]) -> int:
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    paths = discover(argv)
    if not paths:
        print(f"no benchmark matches {argv}")
        return 2
    rows: list[dict[str, Any]] = []
    failed: list[str] = []
    for path in paths:
        print(f"== {path.stem}")
        started = time.perf_counter()
        try:
            figures = load(path).run()
            if not isinstance(figures, list):
                raise TypeError(f"run() returned {type(figures).__name__}, not list")
            rows.extend(normalise(row, path.stem) for row in figures)
        except Exception:
            failed.append(path.stem)
            print(f"FAILED {path.stem}:")
            traceback.print_exc(file=sys.stdout)
        print(f"   ({time.perf_counter() - started:.0f}s)")
    print()
    if rows:
        print_table(rows)
    written = rows
    if argv and RESULTS.exists():
        fresh = {row["name"] for row in rows}
        try:
            kept = [
                r for r in json.loads(RESULTS.read_text()) if r["name"] not in fresh
            ]
        except (ValueError, TypeError, KeyError):
            kept = []
        written = kept + rows
    RESULTS.write_text(json.dumps(written, indent=2, ensure_ascii=False) + "\n")
    print(f"\nwrote {len(written)} figures to {RESULTS.relative_to(ROOT)}")
    if failed:
        print(f"failed: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
