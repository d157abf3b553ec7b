"""``python -m emulator serve ...`` / ``python -m emulator simulate ...``."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    usage = "usage: python -m emulator {serve,simulate} [options]"
    if not argv or argv[0] in ("-h", "--help"):
        print(usage)  # noqa: T201
        return 0 if argv else 2
    cmd, rest = argv[0], argv[1:]
    if cmd == "serve":
        from .server import main as serve_main

        return serve_main(rest)
    if cmd == "simulate":
        from .simulate import main as simulate_main

        return simulate_main(rest)
    print(usage, file=sys.stderr)  # noqa: T201
    return 2


if __name__ == "__main__":
    sys.exit(main())
