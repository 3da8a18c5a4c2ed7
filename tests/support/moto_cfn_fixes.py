"""Corrections of moto 5.2.1's CloudFormation resource handlers toward AWS's documented
behaviour, for the export round trip (tests/emulator_export.rs): a stack deployed from an
exported or shipped template must leave behind what AWS would, so that `flowkeeper plan`
can be asked whether it matches the config. Imported by moto_launcher.py, which calls
``patch()`` once before serving. Each fix names what moto does and what AWS documents:

  (i) AWS::S3::Bucket: moto applies only BucketEncryption and Tags. AWS also applies
      PublicAccessBlockConfiguration, OwnershipControls and LifecycleConfiguration
      (aws-resource-s3-bucket.html); they are applied here through the same backend calls
      PutPublicAccessBlock, PutBucketOwnershipControls and PutBucketLifecycleConfiguration use.
  (j) AWS::S3::BucketPolicy: moto has no model (it skips the resource with a warning and the
      stack still completes, without the policy). Added: PutBucketPolicy with the document.
  (k) AWS::IAM::Role Policies[].PolicyDocument: moto stores the parsed object, so
      GetRolePolicy answers its Python repr; AWS stores (and returns, URL-encoded) JSON.
  (l) AWS::EC2::FlowLog DestinationOptions: moto drops them; AWS creates the flow log with
      them (aws-properties-ec2-flowlog-destinationoptions.html). Passed on to the launcher's
      CreateFlowLogs (its fix b), booleans given as "true"/"false" strings read as CloudFormation does.
  (m) AWS::Logs::LogGroup KmsKeyId: moto reads the API's ``kmsKeyId`` spelling only, so the
      template's key is lost; AWS associates the key (aws-resource-logs-loggroup.html).
"""

import json

from moto.cloudformation import parsing
from moto.core.common_models import CloudFormationModel
from moto.ec2.models import ec2_backends
from moto.ec2.models.flow_logs import FlowLogs
from moto.iam.models import Role
from moto.logs.models import LogGroup
from moto.s3.models import FakeBucket, s3_backends
from moto.utilities.utils import get_partition


def _json(doc):
    # A YAML 1.1 reader (moto's) turns an unquoted Version: 2012-10-17 into a date; AWS
    # reads it as the string.
    return json.dumps(doc, default=lambda d: d.isoformat())


def _bool(v):
    # CloudFormation converts "true"/"false" parameter strings to the boolean a property wants.
    if isinstance(v, str):
        return v.lower() == "true"
    return bool(v)


def _lifecycle_rule(r):
    """A CloudFormation lifecycle rule in the API's shape (what PutBucketLifecycleConfiguration
    parses from its XML)."""
    out = {"ID": r.get("Id"), "Status": r.get("Status", "Enabled")}
    if "Prefix" in r:
        out["Prefix"] = r["Prefix"]
    else:
        out["Filter"] = {"Prefix": (r.get("Filter") or {}).get("Prefix", "")}
    if "ExpirationInDays" in r:
        out["Expiration"] = {"Days": int(r["ExpirationInDays"])}
    transitions = [
        {"Days": int(t["TransitionInDays"]), "StorageClass": t["StorageClass"]}
        for t in r.get("Transitions", [])
        if "TransitionInDays" in t
    ]
    if transitions:
        out["Transition"] = transitions
    return out


def _fix_bucket():
    original = FakeBucket.create_from_cloudformation_json.__func__

    def create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        bucket = original(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
        backend = s3_backends[account_id][get_partition(region_name)]
        props = cloudformation_json.get("Properties", {})
        # (i) the settings moto leaves out.
        pab = props.get("PublicAccessBlockConfiguration")
        if pab:
            backend.put_public_access_block(
                bucket.name, {k: _bool(v) for k, v in pab.items()}
            )
        rules = (props.get("OwnershipControls") or {}).get("Rules") or []
        if rules and rules[0].get("ObjectOwnership"):
            backend.put_bucket_ownership_controls(bucket.name, rules[0]["ObjectOwnership"])
        lifecycle = (props.get("LifecycleConfiguration") or {}).get("Rules")
        if lifecycle:
            backend.put_bucket_lifecycle_configuration(
                bucket.name, [_lifecycle_rule(r) for r in lifecycle]
            )
        return bucket

    FakeBucket.create_from_cloudformation_json = classmethod(create)


class FakeBucketPolicy(CloudFormationModel):
    """(j) AWS::S3::BucketPolicy: the bucket's whole policy, as PutBucketPolicy sets it."""

    # moto's model metaclass names a model's service after its module, at class creation.
    __module__ = "moto.s3.models"

    def __init__(self, bucket_name, document):
        self.bucket_name = bucket_name
        self.document = document

    @staticmethod
    def cloudformation_name_type():
        return ""

    @staticmethod
    def cloudformation_type():
        return "AWS::S3::BucketPolicy"

    @classmethod
    def has_cfn_attr(cls, attr):
        return False

    @property
    def physical_resource_id(self):
        return self.bucket_name

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
    ):
        props = cloudformation_json["Properties"]
        document = props["PolicyDocument"]
        if not isinstance(document, str):
            document = _json(document)
        backend = s3_backends[account_id][get_partition(region_name)]
        backend.put_bucket_policy(props["Bucket"], document.encode())
        return cls(props["Bucket"], document)

    def delete(self, account_id, region_name):
        s3_backends[account_id][get_partition(region_name)].delete_bucket_policy(
            self.bucket_name
        )


def _fix_role():
    original = Role.create_from_cloudformation_json.__func__

    def create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        # (k) inline policy documents stored as JSON text, as AWS stores them.
        props = cloudformation_json.get("Properties", {})
        for p in props.get("Policies", []):
            if not isinstance(p.get("PolicyDocument"), str):
                p["PolicyDocument"] = _json(p["PolicyDocument"])
        return original(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)

    Role.create_from_cloudformation_json = classmethod(create)


def _fix_flow_log():
    def create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        p = cloudformation_json["Properties"]
        options = p.get("DestinationOptions")
        if options is not None:
            # (l) kept, in the API's types.
            options = {
                "FileFormat": options.get("FileFormat", "plain-text"),
                "HiveCompatiblePartitions": _bool(options.get("HiveCompatiblePartitions", False)),
                "PerHourPartition": _bool(options.get("PerHourPartition", False)),
            }
        interval = p.get("MaxAggregationInterval")
        backend = ec2_backends[account_id][region_name]
        flow_logs, unsuccessful = backend.create_flow_logs(
            p.get("ResourceType"),
            [p.get("ResourceId")],
            p.get("TrafficType"),
            p.get("DeliverLogsPermissionArn"),
            p.get("LogDestinationType"),
            p.get("LogDestination"),
            p.get("LogGroupName"),
            p.get("LogFormat"),
            int(interval) if interval is not None else None,
            options,
        )
        if not flow_logs:
            raise ValueError(f"CreateFlowLogs failed: {unsuccessful}")
        for tag in p.get("Tags", []):
            flow_logs[0].add_tag(tag["Key"], tag["Value"])
        return flow_logs[0]

    FlowLogs.create_from_cloudformation_json = classmethod(create)


def _fix_log_group():
    original = LogGroup.create_from_cloudformation_json.__func__

    def create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        group = original(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
        # (m) the template's KmsKeyId associated with the group.
        key = cloudformation_json.get("Properties", {}).get("KmsKeyId")
        if key:
            group.kms_key_id = key
        return group

    LogGroup.create_from_cloudformation_json = classmethod(create)


def patch():
    _fix_bucket()
    _fix_role()
    _fix_flow_log()
    _fix_log_group()
    # FakeBucketPolicy is registered by being defined; the model map is cached.
    parsing.get_model_map.cache_clear()
    parsing.get_name_type_map.cache_clear()
