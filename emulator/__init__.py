"""Loopback emulator of the Azure APIs the portal talks to.

Run it with ``python -m emulator serve --state DIR [--admin]``.  It is a separate
process: the portal never imports it and it imports nothing from the portal.  One
HTTPS port (local CA in ``DIR/ca.pem``) serves:

* ``emailapi``  ACS Email data plane (``/emails:send``, ``/emails/operations/{id}``)
* ``arm``       ARM ``Microsoft.Communication`` (2025-09-01), LROs and paging
* ``monitor``   Log Analytics query API and metrics ``getBatch`` (``logstore``)
* ``graph``     Entra token endpoint and Graph ``applications`` secrets
* ``admin``     ``/_emulator/`` test controls (only with ``--admin``)

plus ``smtp_relay`` (SMTP with STARTTLS + AUTH) and ``dns_server`` (authoritative
DNS for domain verification).  ``pipeline`` is the shared send path; ``eventgrid``
pushes delivery/engagement events to registered webhooks; ``store`` keeps state in
memory with write-behind to ``DIR/state.sqlite3``.

Emulator behaviour where Azure's is undocumented (each is also commented at its
code): a repeated ``Operation-Id`` returns the existing operation and is counted,
never sent twice; HMAC ``x-ms-date`` skew > 15 min (emulated clock) is refused;
error codes ``InvalidRecipientCount`` (>50 recipients), ``MessageTooLarge`` (413,
>10 MB), ``DomainNotLinked``, ``InvalidSenderDomain`` (Domain/SPF/DKIM/DKIM2 not all
Verified), ``InvalidSenderUserName``; HMAC failures answer 401 ``Denied``; the DMARC
record value ``v=DMARC1; p=none;``; client secrets are capped at 24 months; the
legacy ``resource|appId|tenantId`` SMTP username is accepted; rate limits apply per
communication service (Azure: per subscription) and their windows are in memory (a
restart forgets them); linking an unverified domain is allowed (sending from it is
not).
"""

from __future__ import annotations
