"""Conformance tests: the real Azure SDKs against the emulator."""

from __future__ import annotations
