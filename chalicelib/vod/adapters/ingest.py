"""Adapters for sources that do not come through the upload routes: the guarded HTTP fetcher,
the sources queue sender, and S3 multipart operations (streamed writes, server-side copies,
presigned part uploads)."""

from __future__ import annotations

import http.client
import socket
import ssl
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from chalicelib.core.adapters.pinned import pinned_connection
from chalicelib.core.adapters.storage import S3Bucket
from chalicelib.core.domain import urlguard
from chalicelib.core.domain.errors import RepositoryUnavailable
from chalicelib.core.domain.objects import OCTET_STREAM, Slice, StoredPart
from chalicelib.vod.domain import ingest
from chalicelib.vod.domain.ingest import FetchFailed, IngestMessage

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

USER_AGENT = "Videoplane-Ingest/1"


class Download:
    """An open 200 response; read it in pieces and close it."""

    def __init__(self, connection: http.client.HTTPConnection, reply: http.client.HTTPResponse, url: str) -> None:
        self.connection = connection
        self.reply = reply
        self.url = url
        length = reply.getheader("Content-Length")
        self.length = int(length) if length and length.isdigit() else None

    def read(self, size: int) -> bytes:
        """Up to `size` bytes; fewer only at the end of the body."""
        chunks: list[bytes] = []
        wanted = size
        try:
            while wanted > 0:
                chunk = self.reply.read(wanted)
                if not chunk:
                    break
                chunks.append(chunk)
                wanted -= len(chunk)
        except (OSError, http.client.HTTPException) as exc:
            raise FetchFailed(f"Reading the source failed: {_reason(exc)}.") from exc
        return b"".join(chunks)

    def close(self) -> None:
        self.connection.close()


class GuardedFetcher:
    """GETs a URL through the SSRF guard. The first URL and every redirect's Location are checked
    and the connection goes to the checked address (the webhook sender's DNS pinning), so neither
    a redirect nor a rebinding name reaches a private or metadata address. Redirects are followed
    by hand, at most `max_redirects`."""

    def __init__(
        self,
        allow_loopback: bool = False,
        resolver: urlguard.Resolver | None = None,
        timeout: float = ingest.FETCH_TIMEOUT_SECONDS,
        max_redirects: int = ingest.MAX_REDIRECTS,
        context: ssl.SSLContext | None = None,
        denied_ports: frozenset[int] = frozenset(),
    ) -> None:
        self.allow_loopback = allow_loopback
        self.resolver = resolver
        self.denied_ports = denied_ports
        self.max_redirects = max_redirects
        # The same pinned connection the webhook deliveries use; its timeout covers connect and each read.
        self.timeout = timeout
        self.context = context or ssl.create_default_context()
        self.connect: Callable[[urlguard.Target], http.client.HTTPConnection] = self._pinned

    def _pinned(self, target: urlguard.Target) -> http.client.HTTPConnection:
        return pinned_connection(target, self.timeout, self.context)

    def open(self, url: str) -> Download:
        current = url
        for hop in range(self.max_redirects + 1):
            try:
                target = urlguard.check(
                    current, allow_loopback=self.allow_loopback, resolver=self.resolver, denied_ports=self.denied_ports
                )
            except urlguard.UrlForbidden as refused:
                raise ingest.refused_hop(hop, refused.detail) from refused
            connection = self.connect(target)
            try:
                connection.request(
                    "GET",
                    target.path,
                    headers={"Host": target.host_header, "User-Agent": USER_AGENT, "Accept-Encoding": "identity"},
                )
                reply = connection.getresponse()
            except (OSError, http.client.HTTPException) as exc:
                connection.close()
                raise FetchFailed(f"The source URL could not be reached: {_reason(exc)}.") from exc
            if reply.status in ingest.REDIRECT_STATUSES:
                location = reply.getheader("Location")
                connection.close()
                current = ingest.redirect_url(current, reply.status, location)
                continue
            if reply.status != 200:  # anything but the whole body (206, 204, ...) is a failure
                connection.close()
                raise FetchFailed(f"The source URL answered HTTP {reply.status}.")
            return Download(connection, reply, current)
        raise FetchFailed(f"The source URL redirected more than {self.max_redirects} times.")


def _reason(exc: BaseException) -> str:
    return "timed out" if isinstance(exc, TimeoutError | socket.timeout) else type(exc).__name__


class SqsIngestQueue:
    def __init__(self, client: SQSClient, url: str) -> None:
        self.client = client
        self.url = url

    def send(self, message: IngestMessage) -> None:
        try:
            self.client.send_message(QueueUrl=self.url, MessageBody=message.body())
        except ClientError as error:
            raise RepositoryUnavailable(detail="The ingest queue is unavailable; retry the request.") from error


class S3Multipart(S3Bucket):
    """Multipart writes to one bucket: streamed fetches, large copies, presigned direct uploads."""

    # -- streaming a body in ---------------------------------------------------------------

    def write_stream(
        self, key: str, read: Callable[[int], bytes], part_bytes: int, limit: int, metadata: dict[str, str]
    ) -> int:
        """Stores what `read` yields, one part in memory at a time; aborts on any failure, so no
        partial object ever appears (and no ObjectCreated notification fires)."""
        upload_id = self.create_multipart(key, metadata)
        try:
            parts: list[Any] = []
            total = 0
            while True:
                chunk = read(part_bytes)
                if not chunk:
                    break
                total += len(chunk)
                if total > limit:
                    raise FetchFailed(f"The source is larger than the {limit // ingest.GIB} GiB limit.")
                number = len(parts) + 1
                stored = self.client.upload_part(
                    Bucket=self.bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=chunk
                )
                parts.append({"PartNumber": number, "ETag": stored["ETag"]})
            if not parts:
                raise FetchFailed("The source is empty.")
            self.complete_multipart(key, upload_id, parts)
        except BaseException:
            self.abort_multipart(key, upload_id)
            raise
        return total

    # -- copying inside S3 -----------------------------------------------------------------

    def copy(self, source_key: str, key: str, size: int) -> None:
        """CopyObject up to 5 GB; UploadPartCopy in ranges above (CopyObject refuses more)."""
        source: Any = {"Bucket": self.bucket, "Key": source_key}
        if size <= ingest.MAX_SINGLE_COPY_BYTES:
            self.client.copy_object(Bucket=self.bucket, Key=key, CopySource=source)
            return
        self.concatenate(
            key, [Slice(source_key, start, end + 1) for start, end in ingest.copy_ranges(size)], OCTET_STREAM, {}
        )

    # -- direct uploads --------------------------------------------------------------------

    def presign_part(self, key: str, upload_id: str, number: int, expires_in: int) -> str:
        """A URL that PUTs one part without credentials, signed with this function's role (whose
        s3:PutObject it borrows), valid `expires_in` seconds or as long as the role's session."""
        return str(
            self.client.generate_presigned_url(
                "upload_part",
                Params={"Bucket": self.bucket, "Key": key, "UploadId": upload_id, "PartNumber": number},
                ExpiresIn=expires_in,
            )
        )

    def list_parts(self, key: str, upload_id: str) -> list[StoredPart] | None:
        """The parts S3 holds, or None when the upload is gone (completed or aborted)."""
        parts: list[StoredPart] = []
        marker = 0
        while True:
            try:
                response = self.client.list_parts(
                    Bucket=self.bucket, Key=key, UploadId=upload_id, PartNumberMarker=marker
                )
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") == "NoSuchUpload":
                    return None
                raise
            for part in response.get("Parts", []):
                parts.append(StoredPart(int(part["PartNumber"]), int(part["Size"]), str(part["ETag"])))
            if not response.get("IsTruncated"):
                return parts
            marker = int(response["NextPartNumberMarker"])
