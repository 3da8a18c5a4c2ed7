"""Run moto's multi-service server for flowkeeper's integration tests.

Usage: python3 tests/support/moto_launcher.py [--host 127.0.0.1] [--port 0]
                                              [--stock-flow-log-conflicts]

The socket is bound before anything is printed (port 0 = a free port chosen by
the OS); then exactly one line ``LISTENING <port>`` goes to stdout, and the
server runs until its stdin reaches EOF (the test process holding the pipe
died or closed it) or it gets SIGTERM.

Before serving, moto 5.2.1 is patched where it differs from AWS's documented
behaviour, and nowhere else:

  a. CreateFlowLogs to S3 accepts ``arn:aws:s3:::bucket/folder/``: the bucket
     is the part of the ARN's resource before the first '/'.
  b. CreateFlowLogs keeps ``DestinationOptions`` and DescribeFlowLogs returns
     them for S3 flow logs (defaults plain-text / false / false).
  c. FlowLogAlreadyExists only for a flow log with the same configuration and
     destination, not for any second flow log on the same destination.
     ``--stock-flow-log-conflicts`` keeps moto's own rule (any second flow log
     of a resource to the same destination is refused), which AWS's message "an
     existing Flow Log with the same configuration and log destination" may also
     mean: code that replaces flow logs is tested under both.
  d. DescribeVpcs, DescribeSubnets, DescribeNetworkInterfaces and
     DescribeFlowLogs honour MaxResults / NextToken.
  e. CreateFlowLogs to S3 finds the bucket in any account (bucket names are
     global; a central log-archive bucket belongs to another account).
  f. With IAM enforcement on (/moto-api/reset-auth), signatures are checked over
     the raw request body, as AWS does, not over moto's re-encoding of it.
  g. A denied STS/IAM call answers in the query protocol's error layout.
  h. An S3 request with ``x-amz-expected-bucket-owner`` (ExpectedBucketOwner)
     on a bucket another account owns fails with 403 AccessDenied.
  i. VPC sharing (AWS RAM shares a VPC's subnets with another account): moto has
     no cross-account view of shared subnets, so a test shares a VPC with
     ``POST /flowkeeper-test/share-vpc`` {"owner", "participant", "region",
     "vpc_id"}; the participant's DescribeVpcs and DescribeSubnets (whole
     listings, without ids or filters) then include that VPC and its subnets with
     the owner's OwnerId, as AWS shows them to a participant.
  j. A bucket policy is evaluated on object requests (PutObject, GetObject) as
     AWS does: a statement applies only when its principal and its conditions
     match. moto ignores the principal and counts a statement whose conditions
     it cannot satisfy as an explicit deny, whatever its Effect, so any bucket
     with a conditioned statement (flowkeeper's, AWS's documented delivery
     policy) refused every object read and write.

CloudFormation resource handlers are corrected in moto_cfn_fixes.py (its
docstring lists them), for the export round trip; Athena's GetQueryResults
paging in moto_athena_fixes.py, for analyze --engine athena.

Test hooks (not corrections: AWS has no such calls; they stand in for the passage
of time, which a test must not wait for). POST a JSON body to:

  /flowkeeper-test/backdate-object     {"bucket", "key", "last_modified"}
      sets the S3 object's Last-Modified (every version), as if it had been
      delivered then;
  /flowkeeper-test/backdate-flow-log   {"account", "region", "flow_log_id",
                                        "creation_time"}
      sets a flow log's CreationTime, as if it had been created then.

Times are RFC 3339 (``2026-12-01T20:00:00Z``). Answers 200 ``ok`` or 404 with
what was not found.
"""

import argparse
import base64
import logging
import os
import signal
import sys
import threading

from moto.core.responses import ActionResult
from moto.ec2.exceptions import FlowLogAlreadyExists, InvalidNextToken
from moto.ec2.models import validate_resource_ids
from moto.ec2.models.flow_logs import FlowLogs, FlowLogsBackend
from moto.ec2.responses.elastic_network_interfaces import ElasticNetworkInterfaces
from moto.ec2.responses.flow_logs import FlowLogs as FlowLogsResponse
from moto.ec2.responses.subnets import Subnets
from moto.ec2.responses.vpcs import VPCs
from moto.ec2.utils import random_flow_log_id
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import make_server

import moto_athena_fixes
import moto_cfn_fixes

# (c) is an assumption about AWS; main() turns it off with --stock-flow-log-conflicts.
STOCK_FLOW_LOG_CONFLICTS = False

DEFAULT_LOG_FORMAT = (
    "${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} "
    "${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status}"
)


def _s3_destination_options(given):
    # AWS: DescribeFlowLogs returns DestinationOptions for S3 flow logs, with
    # FileFormat=plain-text, HiveCompatiblePartitions=false and
    # PerHourPartition=false unless the request said otherwise.
    given = given or {}
    return {
        "FileFormat": given.get("FileFormat", "plain-text"),
        "HiveCompatiblePartitions": bool(given.get("HiveCompatiblePartitions", False)),
        "PerHourPartition": bool(given.get("PerHourPartition", False)),
    }


def create_flow_logs(
    self,
    resource_type,
    resource_ids,
    traffic_type,
    deliver_logs_permission_arn,
    log_destination_type,
    log_destination,
    log_group_name,
    log_format,
    max_aggregation_interval,
    destination_options=None,
):
    """moto's FlowLogsBackend.create_flow_logs with fixes (a), (b) and (c)."""
    if max_aggregation_interval is None:
        max_aggregation_interval = 600
    if log_destination_type is None:
        log_destination_type = "cloud-watch-logs"
    if log_format is None:
        log_format = DEFAULT_LOG_FORMAT
    self._validate_request(
        log_group_name,
        log_destination,
        log_destination_type,
        max_aggregation_interval,
        deliver_logs_permission_arn,
    )
    # (b) only S3 flow logs carry DestinationOptions.
    if log_destination_type == "s3":
        destination_options = _s3_destination_options(destination_options)
    else:
        destination_options = None

    flow_logs_set, unsuccessful = [], []
    for resource_id in resource_ids:
        deliver_logs_status, deliver_logs_error_message = "SUCCESS", None
        if resource_type == "VPC":
            self.get_vpc(resource_id)
        elif resource_type == "Subnet":
            self.get_subnet(resource_id)
        elif resource_type == "NetworkInterface":
            self.get_network_interface(resource_id)

        if log_destination_type == "s3":
            from moto.s3.exceptions import MissingBucket
            from moto.s3.models import s3_backends

            # (a) AWS: the S3 ARN is arn:aws:s3:::bucket_name[/folder]; the
            # bucket is the resource part before the first '/'.
            bucket = log_destination.split(":", 5)[5].split("/", 1)[0]
            # (e) AWS: bucket names are global, so a flow log may deliver to a bucket
            # owned by another account (a central log archive). moto looks the bucket up
            # in the caller's account only; look in every account of the partition.
            found = False
            for account_backends in s3_backends.values():
                try:
                    account_backends[self.partition].get_bucket(bucket)
                    found = True
                    break
                except MissingBucket:
                    continue
            if not found:
                unsuccessful.append(
                    (resource_id, "400", f"LogDestination: {bucket} does not exist.")
                )
                continue
        elif log_destination_type == "cloud-watch-logs":
            from moto.logs.exceptions import ResourceNotFoundException
            from moto.logs.models import logs_backends

            # Unchanged from moto: a missing log group is accepted and later
            # reported as a FAILED delivery.
            try:
                logs_backends[self.account_id][self.region_name].list_tags_log_group(
                    log_group_name
                )
            except ResourceNotFoundException:
                deliver_logs_status, deliver_logs_error_message = "FAILED", "Access error"

        # (c) AWS rejects only "an existing Flow Log with the same configuration
        # and log destination"; a second flow log to the same destination with
        # different settings is allowed.
        config = (
            resource_id,
            log_destination_type,
            log_group_name,
            log_destination,
            traffic_type,
            log_format,
            max_aggregation_interval,
            deliver_logs_permission_arn,
            destination_options,
        )
        if STOCK_FLOW_LOG_CONFLICTS:
            # moto's own rule: one flow log per resource and destination.
            if any(
                (fl.resource_id, fl.log_group_name, fl.log_destination)
                == (resource_id, log_group_name, log_destination)
                for fl in self.describe_flow_logs()
            ):
                raise FlowLogAlreadyExists()
        elif any(
            (
                fl.resource_id,
                fl.log_destination_type,
                fl.log_group_name,
                fl.log_destination,
                fl.traffic_type,
                fl.log_format,
                fl.max_aggregation_interval,
                fl.deliver_logs_permission_arn,
                getattr(fl, "destination_options", None),
            )
            == config
            for fl in self.describe_flow_logs()
        ):
            raise FlowLogAlreadyExists()

        flow_log = FlowLogs(
            self,
            random_flow_log_id(),
            resource_id,
            traffic_type,
            log_destination,
            log_group_name,
            deliver_logs_permission_arn,
            max_aggregation_interval,
            log_destination_type,
            log_format,
            deliver_logs_status,
            deliver_logs_error_message,
        )
        # (b) serialized as DescribeFlowLogs' FlowLog.DestinationOptions.
        flow_log.destination_options = destination_options
        self.flow_logs[flow_log.id] = flow_log
        flow_logs_set.append(flow_log)
    return flow_logs_set, unsuccessful


def create_flow_logs_response(self):
    """moto's CreateFlowLogs handler, also passing DestinationOptions on (b)."""
    resource_ids = self._get_param("ResourceIds", [])
    validate_resource_ids(resource_ids)
    tags = self._parse_tag_specification().get("vpc-flow-log", {})
    self.error_on_dryrun()
    flow_logs, errors = self.ec2_backend.create_flow_logs(
        resource_type=self._get_param("ResourceType"),
        resource_ids=resource_ids,
        traffic_type=self._get_param("TrafficType"),
        deliver_logs_permission_arn=self._get_param("DeliverLogsPermissionArn"),
        log_destination_type=self._get_param("LogDestinationType"),
        log_destination=self._get_param("LogDestination"),
        log_group_name=self._get_param("LogGroupName"),
        log_format=self._get_param("LogFormat"),
        max_aggregation_interval=self._get_int_param("MaxAggregationInterval"),
        # Parsed by moto from DestinationOptions.FileFormat=... into a dict
        # with PascalCase keys and real booleans.
        destination_options=self._get_param("DestinationOptions"),
    )
    for fl in flow_logs:
        fl.add_tags(tags)
    unsuccessful = [
        {"ResourceId": rid, "Error": {"Code": code, "Message": msg}}
        for rid, code, msg in errors
    ]
    return ActionResult(
        {"FlowLogIds": [fl.id for fl in flow_logs], "Unsuccessful": unsuccessful}
    )


def paged(method, key, min_results):
    """(d) AWS pages these calls: items sorted by id for a stable order, at most MaxResults (clamped to
    min_results..1000) and a NextToken while more remain; passing the token
    back continues. Without MaxResults or NextToken everything is returned."""

    def wrapper(self):
        result = method(self)
        max_results = self._get_param("MaxResults")
        token = self._get_param("NextToken")
        if max_results is None and not token:
            return result
        items = sorted(result.result[key], key=lambda item: item.id)
        try:
            start = int(base64.urlsafe_b64decode(token).decode()) if token else 0
        except ValueError:
            start = -1
        if start < 0:
            raise InvalidNextToken(token)
        size = len(items) if max_results is None else min(max(int(max_results), min_results), 1000)
        body = dict(result.result)
        body[key] = items[start : start + size]
        if start + size < len(items):
            body["NextToken"] = base64.urlsafe_b64encode(str(start + size).encode()).decode()
        return ActionResult(body)

    return wrapper


def patch_moto():
    FlowLogsBackend.create_flow_logs = create_flow_logs
    FlowLogsResponse.create_flow_logs = create_flow_logs_response
    VPCs.describe_vpcs = paged(VPCs.describe_vpcs, "Vpcs", 5)
    Subnets.describe_subnets = paged(Subnets.describe_subnets, "Subnets", 5)
    ElasticNetworkInterfaces.describe_network_interfaces = paged(
        ElasticNetworkInterfaces.describe_network_interfaces, "NetworkInterfaces", 5
    )
    # DescribeFlowLogs' MaxResults has no documented minimum.
    FlowLogsResponse.describe_flow_logs = paged(
        FlowLogsResponse.describe_flow_logs, "FlowLogs", 1
    )


# (i) (participant, region) -> [(owner, vpc_id)] shared through the control endpoint.
SHARED_VPCS = {}


def _shared(backend):
    from moto.ec2.models import ec2_backends

    for owner, vpc_id in SHARED_VPCS.get((backend.account_id, backend.region_name), []):
        yield ec2_backends[owner][backend.region_name], vpc_id


def share_vpcs():
    """(i) A participant sees a shared VPC and its subnets, owned by the owner."""
    from moto.ec2.models.subnets import SubnetBackend
    from moto.ec2.models.vpcs import VPCBackend

    original_vpcs = VPCBackend.describe_vpcs
    original_subnets = SubnetBackend.describe_subnets

    def describe_vpcs(self, vpc_ids=None, filters=None):
        found = original_vpcs(self, vpc_ids=vpc_ids, filters=filters)
        if not vpc_ids and not filters:
            found = list(found) + [b.vpcs[v] for b, v in _shared(self)]
        return found

    def describe_subnets(self, subnet_ids=None, filters=None):
        found = original_subnets(self, subnet_ids, filters)
        if not subnet_ids and not filters:
            found = list(found) + [
                s
                for b, v in _shared(self)
                for s in original_subnets(b, None, {"vpc-id": [v]})
            ]
        return found

    VPCBackend.describe_vpcs = describe_vpcs
    SubnetBackend.describe_subnets = describe_subnets


def control_endpoint(app):
    """(i) ``POST /flowkeeper-test/share-vpc`` records a VPC shared with a participant."""
    import json

    def middleware(environ, start_response):
        if environ.get("PATH_INFO") == "/flowkeeper-test/share-vpc":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = json.loads(environ["wsgi.input"].read(length) or b"{}")
            key = (body["participant"], body["region"])
            SHARED_VPCS.setdefault(key, []).append((body["owner"], body["vpc_id"]))
            start_response("200 OK", [("Content-Type", "application/json")])
            return [b"{}"]
        return app(environ, start_response)

    return middleware


def exit_on_stdin_eof():
    while sys.stdin.buffer.read(65536):
        pass
    os._exit(0)


def fix_access_denied_layout():
    """(g) With IAM enforcement on, moto answers a denied STS or IAM call with
    ``<ErrorResponse><Errors><Error>`` (EC2's nesting); AWS's query-protocol
    services answer ``<ErrorResponse><Error><Code>AccessDenied</Code>...``, which
    is what SDKs parse the error code from."""
    from xmltodict import unparse

    from moto.core.exceptions import AccessDeniedError
    from moto.iam.access_control import IAMRequest

    original = IAMRequest._raise_access_denied

    def _raise_access_denied(self):
        if self._service not in ("sts", "iam"):
            return original(self)
        err = AccessDeniedError(user_arn=self._access_key.arn, action=self._action)
        error = {"Type": "Sender", "Code": "AccessDenied", "Message": err.message}
        err.description = unparse({"ErrorResponse": {"Error": error}}, full_document=True)
        raise err

    IAMRequest._raise_access_denied = _raise_access_denied


def enforce_expected_bucket_owner():
    """(h) AWS: "If the account ID that you provide does not match the actual
    owner of the bucket, the request fails with the HTTP status code 403
    Forbidden (access denied)." moto ignores the header; answer as AWS does, for
    bucket and object requests alike, before moto looks at anything else."""
    from moto.s3.models import s3_backends
    from moto.s3.responses import S3Response

    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code>'
        "<Message>Access Denied</Message><RequestId>flowkeeper-h</RequestId></Error>"
    )

    def wrap(original):
        def handler(self, request, full_url):
            expected = request.headers.get("x-amz-expected-bucket-owner")
            bucket = self.parse_bucket_name_from_url(request, full_url)
            owner = s3_backends.bucket_accounts.get(bucket) if bucket else None
            if expected and owner and owner[1] != expected:
                headers = {"content-type": "application/xml"}
                return 403, headers, "" if request.method == "HEAD" else body
            return original(self, request, full_url)

        return handler

    S3Response._bucket_response = wrap(S3Response._bucket_response)
    S3Response._key_response = wrap(S3Response._key_response)


# (j) The request context of the emulator's callers: the account's own IAM identities
# (never a service principal), over plain HTTP that stands in for the HTTPS every AWS
# client uses, so aws:SecureTransport is true.
CALLER_CONTEXT = {"aws:securetransport": "true"}


def _as_list(v):
    return v if isinstance(v, list) else [v]


def _condition_met(operator, key, expected):
    """One condition key of one operator against CALLER_CONTEXT (AWS's rules: a key the
    request lacks fails the positive operators and satisfies the negated ones, IfExists and
    Null; an operator this does not know does not match)."""
    import fnmatch

    base = operator.split(":")[-1]
    if_exists = base.endswith("IfExists")
    base = base[: -len("IfExists")] if if_exists else base
    actual = CALLER_CONTEXT.get(key.lower())
    expected = [str(e) for e in _as_list(expected)]
    if base == "Null":
        return (actual is None) == (expected[0].lower() == "true")
    negated = "Not" in base
    if actual is None:
        return if_exists or negated
    if base == "Bool":
        return actual.lower() in [e.lower() for e in expected]
    if base in ("StringEquals", "ArnEquals"):
        return actual in expected
    if base in ("StringNotEquals", "ArnNotEquals"):
        return actual not in expected
    if base == "StringEqualsIgnoreCase":
        return actual.lower() in [e.lower() for e in expected]
    if base in ("StringLike", "ArnLike"):
        return any(fnmatch.fnmatchcase(actual, e) for e in expected)
    if base in ("StringNotLike", "ArnNotLike"):
        return not any(fnmatch.fnmatchcase(actual, e) for e in expected)
    return False


def _applies_to_callers(statement):
    principal = statement.get("Principal", "*")
    if principal != "*" and not (isinstance(principal, dict) and principal.get("AWS") == "*"):
        return False
    return all(
        _condition_met(op, key, expected)
        for op, keys in (statement.get("Condition") or {}).items()
        for key, expected in keys.items()
    )


def evaluate_bucket_policy_conditions():
    """(j) FakeBucket.get_permission with principals and conditions evaluated; what applies
    is then matched on Action and Resource by moto's own statement code."""
    import json

    from moto.iam.access_control import IAMPolicyStatement, PermissionResult
    from moto.s3.models import FakeBucket

    original = FakeBucket.get_permission

    def get_permission(self, action, resource):
        if self.policy is None:
            return PermissionResult.NEUTRAL
        try:
            document = json.loads(self.policy.decode())
        except ValueError:
            return original(self, action, resource)
        permitted = False
        for statement in _as_list(document.get("Statement", [])):
            if not _applies_to_callers(statement):
                continue
            bare = {k: v for k, v in statement.items() if k not in ("Condition", "Principal")}
            result = IAMPolicyStatement(bare).is_action_permitted(action, resource)
            if result == PermissionResult.DENIED:
                return result
            permitted = permitted or result == PermissionResult.PERMITTED
        return PermissionResult.PERMITTED if permitted else PermissionResult.NEUTRAL

    FakeBucket.get_permission = get_permission


def keep_raw_body(app):
    """(f) AWS verifies a SigV4 signature over the exact bytes sent. moto's server
    loses a form-encoded body once Werkzeug parses it (``request.data`` is empty;
    see the FIXME in moto/core/responses.py) and, with IAM enforcement on,
    re-encodes the parsed fields to check the signature. Its encoding differs from
    other SDKs' for characters such as ``$ { } :``, so valid requests (a
    CreateFlowLogs with a LogFormat) fail with AuthFailure. Keep the raw bytes and
    give them back to moto, as AWS uses them."""
    import io

    from moto.core.responses import BaseResponse

    original_setup = BaseResponse.setup_class

    def setup_class(self, request, full_url, headers, use_raw_body=False):
        original_setup(self, request, full_url, headers, use_raw_body)
        raw = getattr(request, "environ", {}).get("flowkeeper.raw_body")
        if not self.raw_body and raw:
            self.raw_body = raw

    BaseResponse.setup_class = setup_class

    def middleware(environ, start_response):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        if length:
            body = environ["wsgi.input"].read(length)
            environ["wsgi.input"] = io.BytesIO(body)
            environ["flowkeeper.raw_body"] = body
        return app(environ, start_response)

    return middleware


def _naive_utc(text):
    """RFC 3339 → the naive UTC datetime moto stores."""
    import datetime

    t = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return t.astimezone(datetime.timezone.utc).replace(tzinfo=None)


def _backdate_object(req):
    from moto.s3.models import s3_backends

    owner = s3_backends.bucket_accounts.get(req["bucket"])
    if not owner:
        return f"no bucket {req['bucket']}"
    bucket = s3_backends[owner[1]][owner[0]].buckets.get(req["bucket"])
    versions = bucket.keys.getlist(req["key"]) if bucket else []
    if not versions:
        return f"no object {req['key']} in {req['bucket']}"
    for version in versions:
        version.last_modified = _naive_utc(req["last_modified"])
    return None


def _backdate_flow_log(req):
    from moto.ec2.models import ec2_backends

    backend = ec2_backends[req["account"]][req["region"]]
    flow_log = backend.flow_logs.get(req["flow_log_id"])
    if flow_log is None:
        return f"no flow log {req['flow_log_id']} in {req['account']}/{req['region']}"
    flow_log.creation_time = _naive_utc(req["creation_time"])
    return None


TEST_HOOKS = {
    "/flowkeeper-test/backdate-object": _backdate_object,
    "/flowkeeper-test/backdate-flow-log": _backdate_flow_log,
}


def test_hooks(app):
    """The test hooks described at the top, in front of moto."""
    import json

    def middleware(environ, start_response):
        hook = TEST_HOOKS.get(environ.get("PATH_INFO", ""))
        if hook is None or environ.get("REQUEST_METHOD") != "POST":
            return app(environ, start_response)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        try:
            problem = hook(json.loads(environ["wsgi.input"].read(length) or b"{}"))
        except (KeyError, ValueError) as e:
            problem = f"bad request: {e!r}"
        status = "200 OK" if problem is None else "404 Not Found"
        body = (problem or "ok").encode()
        start_response(status, [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
        return [body]

    return middleware


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument(
        "--stock-flow-log-conflicts",
        action="store_true",
        help="keep moto's own FlowLogAlreadyExists rule instead of correction (c)",
    )
    args = parser.parse_args()
    global STOCK_FLOW_LOG_CONFLICTS
    STOCK_FLOW_LOG_CONFLICTS = args.stock_flow_log_conflicts

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    patch_moto()
    fix_access_denied_layout()
    enforce_expected_bucket_owner()
    share_vpcs()
    evaluate_bucket_policy_conditions()
    moto_cfn_fixes.patch()
    moto_athena_fixes.patch()
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))

    app = control_endpoint(
        test_hooks(keep_raw_body(DomainDispatcherApplication(create_backend_app)))
    )
    server = make_server(args.host, args.port, app, threaded=True)  # binds now
    threading.Thread(target=exit_on_stdin_eof, daemon=True).start()
    os.environ["MOTO_PORT"] = str(server.port)  # as moto_server sets it
    print(f"LISTENING {server.port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
