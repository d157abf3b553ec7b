"""ARM ``Microsoft.Communication`` (api-version 2025-09-01; other versions accepted).

Resource ids are stored lower-cased (ARM ids are case-insensitive) with the original
spelling kept in the resource body.  Long-running operations follow azure-facts §5.4:
PUT on tracked resources answers 201/200 + ``Azure-AsyncOperation``; the status URL
answers ``InProgress`` ``lro_inprogress_polls`` times, then ``Succeeded``; the SDK
then GETs the resource.  ``initiateVerification``/``cancelVerification`` answer 202 +
``Location`` + ``Azure-AsyncOperation``.  ``Retry-After`` is never 0.
"""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import re
import uuid
from typing import Any

import dns.asyncresolver
import dns.exception
import dns.resolver
from aiohttp import web

from .clock import iso
from .core import Emulator, new_guid
from .defaults import ARM_AUDIENCES
from .errors import error_response, json_response

log = logging.getLogger("emulator.arm")

PROVIDER = "Microsoft.Communication"

# canonical segment spelling, keyed by lower-case path segment
CANON = {
    "communicationservices": "communicationServices",
    "smtpusernames": "smtpUsernames",
    "emailservices": "emailServices",
    "domains": "domains",
    "senderusernames": "senderUsernames",
    "suppressionlists": "suppressionLists",
    "suppressionlistaddresses": "suppressionListAddresses",
}
# type chain (lower-case segments) -> ARM "type"
TYPES: dict[tuple[str, ...], str] = {
    ("communicationservices",): "Microsoft.Communication/CommunicationServices",
    ("communicationservices", "smtpusernames"): (
        "Microsoft.Communication/CommunicationServices/SmtpUsernames"
    ),
    ("emailservices",): "Microsoft.Communication/EmailServices",
    ("emailservices", "domains"): "Microsoft.Communication/EmailServices/Domains",
    ("emailservices", "domains", "senderusernames"): (
        "Microsoft.Communication/EmailServices/Domains/SenderUsernames"
    ),
    ("emailservices", "domains", "suppressionlists"): (
        "Microsoft.Communication/EmailServices/Domains/SuppressionLists"
    ),
    ("emailservices", "domains", "suppressionlists", "suppressionlistaddresses"): (
        "Microsoft.Communication/EmailServices/Domains/SuppressionLists/"
        "SuppressionListAddresses"
    ),
}
TRACKED = {("communicationservices",), ("emailservices",), ("emailservices", "domains")}
ACTIONS = {
    ("communicationservices",): {"listkeys", "regeneratekey", "linknotificationhub"},
    ("emailservices", "domains"): {"initiateverification", "cancelverification"},
}
VERIFICATION_TYPES = ("Domain", "SPF", "DKIM", "DKIM2", "DMARC")
SPF_VALUE = "v=spf1 include:spf.protection.outlook.com -all"
# emulator behaviour: the exact DMARC value ACS proposes is UNCONFIRMED
# (azure-facts §5.3); this is the minimal policy its docs describe.
DMARC_VALUE = "v=DMARC1; p=none;"
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,61}[A-Za-z0-9]?$")


class ArmError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def response(self) -> web.Response:
        return error_response(self.status, self.code, self.message)


def _not_found(rid: str, type_: str) -> ArmError:
    name = rid.rstrip("/").split("/")[-1]
    return ArmError(
        404,
        "ResourceNotFound",
        f"The Resource '{type_}/{name}' under resource group "
        f"'{_rg_of(rid)}' was not found. For more details please go to "
        "https://aka.ms/ARMResourceNotFoundFix",
    )


def _rg_of(rid: str) -> str:
    parts = rid.split("/")
    for i, p in enumerate(parts):
        if p.lower() == "resourcegroups" and i + 1 < len(parts):
            return parts[i + 1]
    return ""


class Arm:
    def __init__(self, emu: Emulator) -> None:
        self.emu = emu
        self._tasks: set[asyncio.Task[Any]] = set()

    # -- storage helpers ------------------------------------------------------------
    def get(self, rid: str) -> dict[str, Any] | None:
        return self.emu.store.get("arm", rid.lower())

    def put(self, res: dict[str, Any]) -> None:
        self.emu.store.put("arm", res["id"].lower(), res)
        self.emu.store.flush()

    def children(self, parent_id: str, seg: str) -> list[dict[str, Any]]:
        prefix = f"{parent_id.lower()}/{seg.lower()}/"
        return [
            v
            for k, v in self.emu.store.all("arm").items()
            if k.startswith(prefix) and "/" not in k[len(prefix) :]
        ]

    def descendants(self, rid: str) -> list[str]:
        prefix = rid.lower() + "/"
        return [k for k in self.emu.store.all("arm") if k.startswith(prefix)]

    def find_by_type(self, chain: tuple[str, ...]) -> list[dict[str, Any]]:
        t = TYPES[chain].lower()
        return [v for v in self.emu.store.all("arm").values() if v["type"].lower() == t]

    # -- routing ----------------------------------------------------------------------
    def register(self, app: web.Application) -> None:
        app.router.add_route("*", "/subscriptions/{sub}/{tail:.*}", self.dispatch)
        app.router.add_get(
            "/providers/Microsoft.Communication/operations", self.operations
        )

    async def operations(self, request: web.Request) -> web.StreamResponse:
        claims = self.emu.check_bearer(request, ARM_AUDIENCES)
        if isinstance(claims, web.StreamResponse):
            return claims
        ops = []
        for res in ("CommunicationServices", "EmailServices", "EmailServices/Domains"):
            for verb in ("read", "write", "delete"):
                ops.append(
                    {
                        "name": f"Microsoft.Communication/{res}/{verb}",
                        "isDataAction": False,
                        "display": {
                            "provider": "Microsoft Communication",
                            "resource": res,
                            "operation": verb,
                            "description": f"{verb} {res}",
                        },
                        "origin": "user,system",
                    }
                )
        return json_response({"value": ops, "nextLink": None})

    async def dispatch(self, request: web.Request) -> web.StreamResponse:
        sub = request.match_info["sub"]
        tail = request.match_info["tail"]
        if "/providers/microsoft.communication" not in f"/{tail.lower()}":
            return error_response(
                404, "InvalidResourceNamespace", "The resource namespace is invalid."
            )
        claims = self.emu.check_bearer(request, ARM_AUDIENCES)
        if isinstance(claims, web.StreamResponse):
            return claims
        try:
            return await self._dispatch(request, sub, tail, claims)
        except ArmError as exc:
            return exc.response()

    async def _dispatch(
        self, request: web.Request, sub: str, tail: str, claims: dict[str, Any]
    ) -> web.StreamResponse:
        parts = [p for p in tail.split("/") if p]
        low = [p.lower() for p in parts]
        method = request.method
        # subscription-level provider routes
        if low[0] == "providers":
            rest = low[2:]
            if rest and rest[0] == "locations" and len(rest) == 4:
                if rest[2] == "operationstatuses":
                    return self.operation_status(request, parts[5])
                if rest[2] == "operationresults":
                    return self.operation_result(request, parts[5])
            if rest == ["checknameavailability"] and method == "POST":
                return await self.check_name(request)
            if rest == ["listverifiedexchangeonlinedomains"] and method == "POST":
                return json_response([])
            if len(rest) == 1 and rest[0] in ("communicationservices", "emailservices"):
                if method != "GET":
                    raise ArmError(405, "MethodNotAllowed", "Method not allowed.")
                prefix = f"/subscriptions/{sub}/".lower()
                items = [
                    v
                    for v in self.find_by_type((rest[0],))
                    if v["id"].lower().startswith(prefix)
                ]
                return self.page(request, items)
            raise ArmError(404, "NotFound", "The requested route was not found.")
        # /resourceGroups/{rg}/providers/Microsoft.Communication/...
        if len(low) < 4 or low[0] != "resourcegroups" or low[2] != "providers":
            raise ArmError(404, "NotFound", "The requested route was not found.")
        if low[3] != PROVIDER.lower():
            raise ArmError(
                404,
                "InvalidResourceNamespace",
                f"The resource namespace '{parts[3]}' is invalid.",
            )
        rg = parts[1]
        segs = parts[4:]
        if not segs:
            raise ArmError(404, "NotFound", "The requested route was not found.")
        base = f"/subscriptions/{sub}/resourceGroups/{rg}/providers/{PROVIDER}"
        action: str | None = None
        if len(segs) % 2 == 1:
            chain_try = tuple(s.lower() for s in segs[:-1:2])
            if len(segs) > 1 and segs[-1].lower() in ACTIONS.get(chain_try, set()):
                action = segs[-1].lower()
                segs = segs[:-1]
        chain = tuple(s.lower() for s in segs[0::2])
        if chain not in TYPES:
            raise ArmError(
                404,
                "InvalidResourceType",
                f"The resource type '{'/'.join(segs[0::2])}' could not be found in "
                f"the namespace '{PROVIDER}'.",
            )
        rid = base
        for i in range(0, len(segs) - 1, 2):
            rid += f"/{CANON[segs[i].lower()]}/{segs[i + 1]}"
        if len(segs) % 2 == 1:
            # collection: list
            if method != "GET":
                raise ArmError(405, "MethodNotAllowed", "Method not allowed.")
            if len(segs) > 1 and self.get(rid) is None:
                raise _not_found(rid, TYPES[chain[:-1]])
            if len(segs) == 1:
                items = self.children(base, CANON[chain[0]])
            else:
                items = self.children(rid, CANON[chain[-1]])
            return self.page(request, items)
        if action is not None:
            if method != "POST":
                raise ArmError(405, "MethodNotAllowed", "Method not allowed.")
            return await self.action(request, chain, rid, action)
        if method == "GET":
            res = self.get(rid)
            if res is None:
                raise _not_found(rid, TYPES[chain])
            return json_response(res)
        if method == "PUT":
            return await self.put_resource(request, chain, rid, claims)
        if method == "PATCH":
            return await self.patch_resource(request, chain, rid, claims)
        if method == "DELETE":
            return self.delete_resource(chain, rid)
        raise ArmError(405, "MethodNotAllowed", "Method not allowed.")

    # -- paging ---------------------------------------------------------------------
    def page(self, request: web.Request, items: list[dict[str, Any]]) -> web.Response:
        items = sorted(items, key=lambda r: r["id"].lower())
        try:
            size = int(request.query.get("$top") or self.emu.config["page_size"])
            skip = int(request.query.get("$skipToken") or 0)
        except ValueError as exc:
            raise ArmError(400, "InvalidParameter", "Invalid $top/$skipToken.") from exc
        size = max(1, size)
        chunk = items[skip : skip + size]
        next_link = None
        if skip + size < len(items):
            api = request.query.get("api-version", "2025-09-01")
            next_link = (
                f"{self.emu.base_url(request)}{request.path}?api-version={api}"
                f"&$skipToken={skip + size}"
            )
            if "$top" in request.query:
                next_link += f"&$top={size}"
        return json_response({"value": chunk, "nextLink": next_link})

    # -- body helpers ---------------------------------------------------------------
    @staticmethod
    async def body(request: web.Request) -> dict[str, Any]:
        raw = await request.read()
        if not raw:
            return {}
        try:
            data = json.loads(raw)
        except ValueError as exc:
            raise ArmError(
                400, "InvalidRequestContent", "The request content was invalid."
            ) from exc
        if not isinstance(data, dict):
            raise ArmError(
                400, "InvalidRequestContent", "The request content was invalid."
            )
        return data

    def system_data(
        self, claims: dict[str, Any], existing: dict[str, Any] | None
    ) -> dict[str, Any]:
        now = iso(self.emu.clock.now())
        who = claims.get("appid", "unknown")
        created = (existing or {}).get("systemData") or {
            "createdBy": who,
            "createdByType": "Application",
            "createdAt": now,
        }
        return {
            **created,
            "lastModifiedBy": who,
            "lastModifiedByType": "Application",
            "lastModifiedAt": now,
        }

    def parent_of(self, rid: str) -> str:
        return rid.rsplit("/", 2)[0]

    def require_parent(self, chain: tuple[str, ...], rid: str) -> dict[str, Any]:
        pid = self.parent_of(rid)
        parent = self.get(pid)
        if parent is None:
            raise ArmError(
                404,
                "ParentResourceNotFound",
                f"Can not perform requested operation on nested resource. Parent "
                f"resource '{pid.split('/')[-1]}' not found.",
            )
        return parent

    # -- LRO operations -----------------------------------------------------------
    def new_operation(
        self, request: web.Request, rid: str, *, kind: str, extra: dict[str, Any]
    ) -> tuple[dict[str, Any], dict[str, str]]:
        op_id = new_guid()
        sub = rid.split("/")[2]
        op = {
            "id": op_id,
            "resourceId": rid,
            "kind": kind,
            "status": "InProgress",
            "pollsLeft": int(self.emu.config["lro_inprogress_polls"]),
            "pending": False,
            "startTime": iso(self.emu.clock.now()),
            **extra,
        }
        self.emu.store.put("armop", op_id, op)
        api = request.query.get("api-version", "2025-09-01")
        base = (
            f"{self.emu.base_url(request)}/subscriptions/{sub}/providers/{PROVIDER}"
            f"/locations/global"
        )
        headers = {
            "Azure-AsyncOperation": f"{base}/operationStatuses/{op_id}?api-version={api}",
            **self.emu.retry_after_headers(),
        }
        if kind == "verification":
            headers["Location"] = f"{base}/operationResults/{op_id}?api-version={api}"
        return op, headers

    def _op_state(self, op_id: str) -> dict[str, Any]:
        op = self.emu.store.get("armop", op_id)
        if op is None:
            raise ArmError(
                404, "OperationNotFound", f"The operation '{op_id}' was not found."
            )
        if op["status"] == "InProgress":
            if op["pollsLeft"] > 0:
                op["pollsLeft"] -= 1
            elif not op["pending"]:
                op["status"] = "Succeeded"
                op["endTime"] = iso(self.emu.clock.now())
            self.emu.store.put("armop", op_id, op)
        return op

    def operation_status(self, request: web.Request, op_id: str) -> web.Response:
        op = self._op_state(op_id)
        body = {
            "id": f"{request.path}",
            "name": op_id,
            "status": op["status"],
            "startTime": op["startTime"],
            "percentComplete": 100.0 if op["status"] != "InProgress" else 50.0,
        }
        if "endTime" in op:
            body["endTime"] = op["endTime"]
        if op.get("error"):
            body["error"] = op["error"]
        headers = {}
        if op["status"] == "InProgress":
            headers.update(self.emu.retry_after_headers())
        return json_response(body, headers=headers)

    def operation_result(self, request: web.Request, op_id: str) -> web.Response:
        op = self._op_state(op_id)
        if op["status"] == "InProgress":
            return web.Response(
                status=202,
                headers={
                    "Location": str(request.url.with_scheme(request.scheme)),
                    **self.emu.retry_after_headers(),
                },
            )
        if op["status"] == "Failed":
            err = op.get("error") or {"code": "Failed", "message": "failed"}
            return error_response(400, err["code"], err["message"])
        return web.Response(status=204)

    # -- check name -------------------------------------------------------------
    async def check_name(self, request: web.Request) -> web.Response:
        data = await self.body(request)
        name = str(data.get("name", ""))
        if not NAME_RE.match(name):
            return json_response(
                {
                    "nameAvailable": False,
                    "reason": "Invalid",
                    "message": "The name is invalid.",
                }
            )
        taken = any(
            r["name"].lower() == name.lower()
            for r in self.find_by_type(("communicationservices",))
        )
        if taken:
            return json_response(
                {
                    "nameAvailable": False,
                    "reason": "AlreadyExists",
                    "message": "The name is already taken.",
                }
            )
        return json_response({"nameAvailable": True, "reason": None, "message": None})

    # -- PUT ---------------------------------------------------------------------
    async def put_resource(
        self,
        request: web.Request,
        chain: tuple[str, ...],
        rid: str,
        claims: dict[str, Any],
    ) -> web.Response:
        data = await self.body(request)
        existing = self.get(rid)
        props_in = data.get("properties") or {}
        if not isinstance(props_in, dict):
            raise ArmError(
                400, "InvalidRequestContent", "properties must be an object."
            )
        name = rid.split("/")[-1]
        res: dict[str, Any] = {
            "id": rid,
            "name": name,
            "type": TYPES[chain],
            "systemData": self.system_data(claims, existing),
        }
        if chain in TRACKED:
            location = data.get("location") or (existing or {}).get("location")
            if not location:
                raise ArmError(
                    400,
                    "LocationRequired",
                    "The location property is required for this definition.",
                )
            res["location"] = location
            res["tags"] = data.get("tags") or {}
        old_props = copy.deepcopy((existing or {}).get("properties") or {})
        if chain == ("communicationservices",):
            props = self._comm_props(rid, name, props_in, old_props, existing)
        elif chain == ("emailservices",):
            dl = props_in.get("dataLocation") or old_props.get("dataLocation")
            if not dl:
                raise ArmError(
                    400, "InvalidParameter", "The dataLocation property is required."
                )
            props = {"provisioningState": "Succeeded", "dataLocation": dl}
        elif chain == ("emailservices", "domains"):
            parent = self.require_parent(chain, rid)
            props = self._domain_props(name, props_in, old_props, parent)
        else:
            parent = self.require_parent(chain, rid)
            props = self._proxy_props(chain, rid, props_in, parent)
        res["properties"] = props
        status = 200 if existing else 201
        if chain in TRACKED:
            if existing is None and chain == ("communicationservices",):
                self.emu.create_keys(rid)
            self.put(res)
            _, headers = self.new_operation(request, rid, kind="put", extra={})
            initial = copy.deepcopy(res)
            # The real service answers while still provisioning; the final GET
            # (after the status URL says Succeeded) shows "Succeeded".
            initial["properties"]["provisioningState"] = (
                "Accepted" if status == 201 else "Updating"
            )
            return json_response(initial, status=status, headers=headers)
        self.put(res)
        return json_response(res, status=status)

    def _check_linked_domains(self, domains: Any) -> list[str]:
        if not isinstance(domains, list):
            raise ArmError(400, "InvalidParameter", "linkedDomains must be a list.")
        out = []
        for d in domains:
            dom = self.get(str(d))
            if dom is None or dom["type"] != TYPES[("emailservices", "domains")]:
                raise ArmError(
                    400,
                    "InvalidLinkedDomain",
                    f"The linked domain '{d}' does not exist.",
                )
            out.append(dom["id"])
        return out

    def _comm_props(
        self,
        rid: str,
        name: str,
        props_in: dict[str, Any],
        old: dict[str, Any],
        existing: dict[str, Any] | None,
    ) -> dict[str, Any]:
        if existing is None:
            for other in self.find_by_type(("communicationservices",)):
                if other["name"].lower() == name.lower():
                    raise ArmError(
                        409,
                        "Conflict",
                        f"The name '{name}' is already in use by another "
                        "communication service (host names are global).",
                    )
        dl = props_in.get("dataLocation") or old.get("dataLocation")
        if not dl:
            raise ArmError(
                400, "InvalidParameter", "The dataLocation property is required."
            )
        linked = self._check_linked_domains(
            props_in.get("linkedDomains", old.get("linkedDomains", []))
        )
        return {
            "provisioningState": "Succeeded",
            "hostName": f"{name.lower()}.unitedstates.communication.azure.com",
            "dataLocation": dl,
            "notificationHubId": old.get("notificationHubId"),
            "version": "0.2.0",
            "immutableResourceId": old.get("immutableResourceId") or new_guid(),
            "linkedDomains": linked,
            "publicNetworkAccess": props_in.get(
                "publicNetworkAccess", old.get("publicNetworkAccess", "Enabled")
            ),
            "disableLocalAuth": bool(
                props_in.get("disableLocalAuth", old.get("disableLocalAuth", False))
            ),
        }

    def _domain_props(
        self,
        name: str,
        props_in: dict[str, Any],
        old: dict[str, Any],
        parent: dict[str, Any],
    ) -> dict[str, Any]:
        mgmt = props_in.get("domainManagement") or old.get("domainManagement")
        if mgmt not in (
            "AzureManaged",
            "CustomerManaged",
            "CustomerManagedInExchangeOnline",
        ):
            raise ArmError(
                400,
                "InvalidParameter",
                "domainManagement must be AzureManaged, CustomerManaged or "
                "CustomerManagedInExchangeOnline.",
            )
        if old and old.get("domainManagement") != mgmt:
            raise ArmError(
                409, "Conflict", "domainManagement cannot be changed after creation."
            )
        tracking = props_in.get(
            "userEngagementTracking", old.get("userEngagementTracking", "Disabled")
        )
        if mgmt == "AzureManaged":
            if name != "AzureManagedDomain":
                raise ArmError(
                    400,
                    "InvalidDomainName",
                    "The name of an Azure managed domain must be 'AzureManagedDomain'.",
                )
            if tracking == "Enabled":
                raise ArmError(
                    400,
                    "InvalidParameter",
                    "User engagement tracking cannot be enabled on Azure managed "
                    "domains.",
                )
            sender = old.get("fromSenderDomain") or f"{uuid.uuid4()}.azurecomm.net"
            states = {
                t: {"status": "Verified", "errorCode": ""} for t in VERIFICATION_TYPES
            }
            records: dict[str, Any] = old.get("verificationRecords") or {}
        else:
            sender = name
            records = old.get("verificationRecords") or self._records(name)
            states = old.get("verificationStates") or {
                t: {"status": "NotStarted", "errorCode": ""} for t in VERIFICATION_TYPES
            }
        return {
            "provisioningState": "Succeeded",
            "dataLocation": parent["properties"].get("dataLocation"),
            "fromSenderDomain": sender,
            "mailFromSenderDomain": sender,
            "domainManagement": mgmt,
            "verificationStates": states,
            "verificationRecords": records,
            "userEngagementTracking": tracking,
        }

    @staticmethod
    def _records(domain: str) -> dict[str, Any]:
        dkim = {
            sel: {
                "type": "CNAME",
                "name": f"{sel}-azurecomm-prod-net._domainkey",
                "value": f"{sel}-azurecomm-prod-net._domainkey.azurecomm.net",
                "ttl": 3600,
            }
            for sel in ("selector1", "selector2")
        }
        return {
            "Domain": {
                "type": "TXT",
                "name": domain,
                "value": f"ms-domain-verification={uuid.uuid4()}",
                "ttl": 3600,
            },
            "SPF": {"type": "TXT", "name": domain, "value": SPF_VALUE, "ttl": 3600},
            "DKIM": dkim["selector1"],
            "DKIM2": dkim["selector2"],
            "DMARC": {
                "type": "TXT",
                "name": "_dmarc",
                "value": DMARC_VALUE,
                "ttl": 3600,
            },
        }

    def _proxy_props(
        self,
        chain: tuple[str, ...],
        rid: str,
        props_in: dict[str, Any],
        parent: dict[str, Any],
    ) -> dict[str, Any]:
        now = iso(self.emu.clock.now())
        dl = parent.get("properties", {}).get("dataLocation")
        leaf = chain[-1]
        if leaf == "senderusernames":
            username = props_in.get("username")
            if not username:
                raise ArmError(400, "InvalidParameter", "The username is required.")
            return {
                "dataLocation": dl,
                "username": username,
                "displayName": props_in.get("displayName"),
                "provisioningState": "Succeeded",
            }
        if leaf == "smtpusernames":
            missing = [
                k
                for k in ("username", "entraApplicationId", "tenantId")
                if not props_in.get(k)
            ]
            if missing:
                raise ArmError(
                    400, "InvalidParameter", f"Missing required property {missing[0]}."
                )
            username = str(props_in["username"])
            if "@" in username:
                # smtp-authentication.md: an email-format username's domain must be
                # one of the resource's linked domains.
                domain = username.rsplit("@", 1)[1].lower()
                linked = {
                    (self.get(d) or {})
                    .get("properties", {})
                    .get("fromSenderDomain", "")
                    .lower()
                    for d in parent["properties"].get("linkedDomains", [])
                }
                if domain not in linked:
                    raise ArmError(
                        400,
                        "InvalidSmtpUsername",
                        "The domain of the username must be linked to the "
                        "communication service.",
                    )
            for other in self.children(self.parent_of(rid), "smtpUsernames"):
                if (
                    other["id"].lower() != rid.lower()
                    and other["properties"]["username"].lower() == username.lower()
                ):
                    raise ArmError(
                        409, "Conflict", f"The username '{username}' already exists."
                    )
            return {
                "username": username,
                "entraApplicationId": props_in["entraApplicationId"],
                "tenantId": props_in["tenantId"],
            }
        if leaf == "suppressionlists":
            old = (self.get(rid) or {}).get("properties", {})
            return {
                "listName": props_in.get("listName", old.get("listName", "")),
                "lastUpdatedTimeStamp": now,
                "createdTimeStamp": old.get("createdTimeStamp", now),
                "dataLocation": dl,
            }
        if leaf == "suppressionlistaddresses":
            if not props_in.get("email"):
                raise ArmError(400, "InvalidParameter", "The email is required.")
            return {
                "email": props_in["email"],
                "firstName": props_in.get("firstName"),
                "lastName": props_in.get("lastName"),
                "notes": props_in.get("notes"),
                "lastModified": now,
                "dataLocation": dl,
            }
        raise ArmError(400, "InvalidResourceType", "Unsupported resource type.")

    # -- PATCH -------------------------------------------------------------------
    async def patch_resource(
        self,
        request: web.Request,
        chain: tuple[str, ...],
        rid: str,
        claims: dict[str, Any],
    ) -> web.Response:
        if chain not in TRACKED:
            raise ArmError(405, "MethodNotAllowed", "PATCH is not supported.")
        res = self.get(rid)
        if res is None:
            raise _not_found(rid, TYPES[chain])
        data = await self.body(request)
        res = copy.deepcopy(res)
        if "tags" in data:
            res["tags"] = data["tags"] or {}
        props_in = data.get("properties") or {}
        props = res["properties"]
        if chain == ("communicationservices",):
            if "linkedDomains" in props_in:
                props["linkedDomains"] = self._check_linked_domains(
                    props_in["linkedDomains"]
                )
            for k in ("publicNetworkAccess", "disableLocalAuth"):
                if k in props_in:
                    props[k] = props_in[k]
            if "identity" in data:
                res["identity"] = data["identity"]
        elif (
            chain == ("emailservices", "domains")
            and "userEngagementTracking" in props_in
        ):
            if (
                props["domainManagement"] == "AzureManaged"
                and props_in["userEngagementTracking"] == "Enabled"
            ):
                raise ArmError(
                    400,
                    "InvalidParameter",
                    "User engagement tracking cannot be enabled on Azure managed "
                    "domains.",
                )
            props["userEngagementTracking"] = props_in["userEngagementTracking"]
        res["systemData"] = self.system_data(claims, res)
        self.put(res)
        # PATCH is synchronous here; for the LRO variants (domains/emailServices)
        # a 200 with provisioningState Succeeded ends the poller at once.
        return json_response(res)

    # -- DELETE ------------------------------------------------------------------
    def delete_resource(self, chain: tuple[str, ...], rid: str) -> web.Response:
        res = self.get(rid)
        if res is None:
            return web.Response(status=204)
        doomed = [rid.lower(), *self.descendants(rid)]
        domain_ids = {
            k
            for k in doomed
            if self.emu.store.get("arm", k)["type"]
            == TYPES[("emailservices", "domains")]
        }
        if domain_ids:
            for comm in self.find_by_type(("communicationservices",)):
                linked = {
                    d.lower() for d in comm["properties"].get("linkedDomains", [])
                }
                if linked & domain_ids:
                    raise ArmError(
                        409,
                        "Conflict",
                        f"The domain is linked to communication service "
                        f"'{comm['name']}'. Unlink it before deleting.",
                    )
        for k in doomed:
            self.emu.store.delete("arm", k)
        if chain == ("communicationservices",):
            self.emu.drop_keys(rid)
        self.emu.store.flush()
        return web.Response(status=200)

    # -- POST actions -----------------------------------------------------------
    async def action(
        self, request: web.Request, chain: tuple[str, ...], rid: str, action: str
    ) -> web.Response:
        res = self.get(rid)
        if res is None:
            raise _not_found(rid, TYPES[chain])
        if action == "listkeys":
            keys = self.emu.store.get("acskeys", rid.lower()) or self.emu.create_keys(
                rid
            )
            return json_response(self._keys_body(request, keys))
        if action == "regeneratekey":
            data = await self.body(request)
            kt = str(data.get("keyType", ""))
            if kt.lower() not in ("primary", "secondary"):
                raise ArmError(
                    400, "InvalidParameter", "keyType must be Primary or Secondary."
                )
            which = kt.lower()
            keys = self.emu.regenerate_key(rid, which)
            self.emu.store.flush()
            full = self._keys_body(request, keys)
            # As in the spec example, only the regenerated key is returned.
            return json_response(
                {
                    f"{which}Key": full[f"{which}Key"],
                    f"{which}ConnectionString": full[f"{which}ConnectionString"],
                }
            )
        if action == "linknotificationhub":
            data = await self.body(request)
            res["properties"]["notificationHubId"] = data.get("resourceId")
            self.put(res)
            return json_response({"resourceId": data.get("resourceId")})
        if action in ("initiateverification", "cancelverification"):
            data = await self.body(request)
            vt = data.get("verificationType")
            if vt not in VERIFICATION_TYPES:
                raise ArmError(
                    400,
                    "InvalidParameter",
                    f"verificationType must be one of {', '.join(VERIFICATION_TYPES)}.",
                )
            props = res["properties"]
            if props["domainManagement"] == "AzureManaged":
                raise ArmError(
                    400,
                    "InvalidParameter",
                    "Azure managed domains are verified already.",
                )
            cancel = action == "cancelverification"
            props["verificationStates"][vt] = {
                "status": "CancellationRequested"
                if cancel
                else "VerificationRequested",
                "errorCode": "",
            }
            self.put(res)
            op, headers = self.new_operation(
                request,
                rid,
                kind="verification",
                extra={"verificationType": vt, "pending": True},
            )
            task = asyncio.create_task(self._verify(op["id"], rid, vt, cancel))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            return web.Response(status=202, headers=headers)
        raise ArmError(404, "NotFound", "Unknown action.")

    def _keys_body(self, request: web.Request, keys: dict[str, str]) -> dict[str, str]:
        # The data-plane host is this emulator, as seen by the caller.
        endpoint = f"https://{request.host}/"
        return {
            "primaryKey": keys["primaryKey"],
            "secondaryKey": keys["secondaryKey"],
            "primaryConnectionString": (
                f"endpoint={endpoint};accesskey={keys['primaryKey']}"
            ),
            "secondaryConnectionString": (
                f"endpoint={endpoint};accesskey={keys['secondaryKey']}"
            ),
        }

    # -- verification -------------------------------------------------------------
    async def _verify(self, op_id: str, rid: str, vt: str, cancel: bool) -> None:
        try:
            if cancel:
                status, error = "NotStarted", ""
            else:
                res = self.get(rid)
                if res is None:
                    return
                record = res["properties"]["verificationRecords"][vt]
                ok, error = await self.dns_check(res["name"], vt, record)
                status = "Verified" if ok else "VerificationFailed"
            res = self.get(rid)
            if res is not None:
                res = copy.deepcopy(res)
                res["properties"]["verificationStates"][vt] = {
                    "status": status,
                    "errorCode": error,
                }
                self.put(res)
        except Exception:  # the LRO must still end
            log.exception("verification failed")
        finally:
            op = self.emu.store.get("armop", op_id)
            if op is not None:
                op["pending"] = False
                self.emu.store.put("armop", op_id, op)

    async def dns_check(
        self, domain: str, vt: str, record: dict[str, Any]
    ) -> tuple[bool, str]:
        """A real DNS query against the emulator's own DNS server."""
        resolver = dns.asyncresolver.Resolver(configure=False)
        resolver.nameservers = ["127.0.0.1"]
        resolver.port = self.emu.dns_port
        resolver.lifetime = 3.0
        name = record["name"]
        fqdn = name if name.lower().endswith(domain.lower()) else f"{name}.{domain}"
        rtype = record["type"]
        try:
            answer = await resolver.resolve(fqdn, rtype)
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            return False, f"{vt}RecordNotFound"
        except (dns.exception.DNSException, OSError):
            return False, "DnsLookupFailed"
        if rtype == "CNAME":
            targets = {r.target.to_text().rstrip(".").lower() for r in answer}
            if record["value"].rstrip(".").lower() in targets:
                return True, ""
            return False, f"{vt}RecordMismatch"
        texts = [b"".join(r.strings).decode("utf-8", "replace").strip() for r in answer]
        if vt == "Domain":
            return (
                record["value"] in texts,
                "" if record["value"] in texts else "DomainRecordMismatch",
            )
        if vt == "SPF":
            spf = [t for t in texts if t.lower().startswith("v=spf1")]
            if not spf:
                return False, "SPFRecordNotFound"
            if len(spf) > 1:
                return False, "MultipleSPFRecords"
            value = spf[0]
            # ACS requires "-all"; "~all" fails (email-domain-configuration-
            # troubleshooting.md).
            if "include:spf.protection.outlook.com" not in value.lower():
                return False, "SPFRecordMismatch"
            if not value.rstrip().endswith("-all"):
                return False, "SPFRecordSoftFail"
            return True, ""
        if vt == "DMARC":
            ok = any(t.upper().startswith("V=DMARC1") for t in texts)
            return ok, "" if ok else "DMARCRecordMismatch"
        return False, "UnsupportedVerificationType"

    # -- helpers used by the email pipeline -------------------------------------
    def comm_service(self, rid: str) -> dict[str, Any] | None:
        return self.get(rid)

    def linked_domains(self, comm: dict[str, Any]) -> list[dict[str, Any]]:
        out = []
        for d in comm.get("properties", {}).get("linkedDomains", []):
            dom = self.get(d)
            if dom is not None:
                out.append(dom)
        return out
