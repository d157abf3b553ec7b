"""Bulk notifications (campaigns): recipient lists, rendering, rate limiting and the
sending engine. See ``services`` for the entry points the pages call."""
