"""The licensed endpoint's door (IMDb API on AWS Data Exchange): the API key, the subscription's
ids, and an AWS SigV4 signature recomputed with botocore from the replay's test credentials.

The answers are AWS's: HTTP 403 with a JSON `message` and an `x-amzn-ErrorType` header.
"""

import hmac
import re
from dataclasses import dataclass

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

SERVICE, REGION = "dataexchange", "us-east-1"
AUTHORIZATION = re.compile(
    r"^AWS4-HMAC-SHA256 Credential=(?P<key>[^/]+)/(?P<date>\d{8})/(?P<region>[^/]+)/"
    r"(?P<service>[^/]+)/aws4_request, ?SignedHeaders=(?P<signed>[a-z0-9;-]+), ?"
    r"Signature=(?P<signature>[0-9a-f]{64})$"
)


@dataclass(frozen=True)
class License:
    """What the replay accepts on its licensed endpoint. Test values, not secrets: they open
    nothing but this offline replay."""

    api_key: str = "replay-api-key"
    access_key_id: str = "REPLAYACCESSKEYID"
    secret_access_key: str = "replay-secret-access-key"
    data_set_id: str = "replay-data-set"
    revision_id: str = "replay-revision"
    asset_id: str = "replay-asset"


def refusal(
    license: License, method: str, url: str, headers, body: bytes
) -> tuple[str, str] | None:
    """None when the request may pass; else (AWS error type, message)."""
    if headers.get("x-api-key") != license.api_key:
        return "ForbiddenException", "Forbidden: the x-api-key header is missing or not valid"
    for name, expected in (
        ("x-amzn-dataexchange-data-set-id", license.data_set_id),
        ("x-amzn-dataexchange-revision-id", license.revision_id),
        ("x-amzn-dataexchange-asset-id", license.asset_id),
    ):
        if headers.get(name) != expected:
            return "AccessDeniedException", f"{name} does not name an entitled asset"
    match = AUTHORIZATION.match(headers.get("Authorization") or "")
    if match is None:
        return "MissingAuthenticationTokenException", "Missing Authentication Token"
    if match["key"] != license.access_key_id:
        return (
            "UnrecognizedClientException",
            "The security token included in the request is invalid.",
        )
    if (match["service"], match["region"]) != (SERVICE, REGION):
        return "InvalidSignatureException", f"Credential should be scoped to {REGION}/{SERVICE}"
    stamp = headers.get("X-Amz-Date") or ""
    if not stamp.startswith(match["date"]):
        return "InvalidSignatureException", "X-Amz-Date does not match the credential scope"
    signed = match["signature"]
    names = match["signed"].split(";")
    request = AWSRequest(
        method=method, url=url, data=body, headers={n: headers.get(n, "") for n in names}
    )
    request.context["timestamp"] = stamp
    auth = SigV4Auth(Credentials(license.access_key_id, license.secret_access_key), SERVICE, REGION)
    expected = auth.signature(
        auth.string_to_sign(request, auth.canonical_request(request)), request
    )
    if not hmac.compare_digest(expected, signed):
        return "InvalidSignatureException", (
            "The request signature we calculated does not match the signature you provided. "
            "Check your AWS Secret Access Key and signing method."
        )
    return None
