"""Checks that tessera_moto_patches.py changes none of moto's answers (test/integration/moto-patches.test.ts).

Runs one scenario of AWS calls (boto3 against moto in-process, `mock_aws`) over the services and
protocols the suites use (DynamoDB items of every attribute type, transactions that commit and
that are cancelled, S3 objects and errors, STS, CloudFormation, EC2, IAM, KMS, SQS, API Gateway,
Organizations, EventBridge, Logs) twice, from a fresh moto with its random source seeded alike:
1. with moto's own code (the patches bypassed),
2. with the patches and TESSERA_MOTO_VERIFY=1, so every answer is also computed by moto's own code
   and compared (a difference raises PatchMismatch).
Then the HTTP answers of the two runs (status, content type, body bytes) are compared, with
timestamps and moto's unseeded UUIDs masked (a table with a stream included: its records carry the old images); and a broken memo
and an S3 listing that drops a version must be caught by the check.
Prints one JSON object; exits 1 on any difference.

Usage: python check_patches.py   (sitecustomize is not needed: the modules are imported from here)
"""

from __future__ import annotations

import json
import os
import re
import sys
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
os.environ["TESSERA_MOTO_VERIFY"] = "1"
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_SESSION_TOKEN"):
    os.environ.pop(name, None)
os.environ["AWS_ACCESS_KEY_ID"] = "testing"
os.environ["AWS_SECRET_ACCESS_KEY"] = "testing"

import boto3  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402
from moto import mock_aws  # noqa: E402
from moto.moto_api._internal import mock_random  # noqa: E402

import tessera_moto_patches as patches  # noqa: E402

TEMPLATE = json.dumps(
    {
        "Resources": {
            "Bucket": {"Type": "AWS::S3::Bucket", "Properties": {"Tags": [{"Key": "tenant", "Value": "acme"}]}},
            "Queue": {"Type": "AWS::SQS::Queue"},
            "Table": {
                "Type": "AWS::DynamoDB::Table",
                "Properties": {
                    "BillingMode": "PAY_PER_REQUEST",
                    "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                    "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
                },
            },
        },
        "Outputs": {"BucketName": {"Value": {"Ref": "Bucket"}}},
    }
)



def put_versions(s3: Any, bucket: str, bodies: tuple[bytes, ...]) -> None:
    """A versioned bucket whose key "k" has one version per body, the last one current."""
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    for body in bodies:
        s3.put_object(Bucket=bucket, Key="k", Body=body)

def tenant_item(n: int) -> dict[str, Any]:
    return {
        "pk": {"S": f"tenant#{n}"},
        "sk": {"S": "record"},
        "status": {"S": "ACTIVE"},
        "count": {"N": str(n)},
        "ratio": {"N": "0.25"},
        "blob": {"B": b"\x00\x01binary"},
        "tags": {"SS": ["a", "b"]},
        "nums": {"NS": ["1", "2.5"]},
        "blobs": {"BS": [b"x", b"y"]},
        "none": {"NULL": True},
        "flag": {"BOOL": False},
        "limits": {"M": {"rpm": {"N": "100"}, "models": {"L": [{"S": "gpt"}, {"M": {"id": {"S": "m1"}, "on": {"BOOL": True}}}]}}},
        "history": {"L": [{"M": {"at": {"S": "2026-01-01"}, "n": {"N": str(i)}}} for i in range(5)]},
        "empty": {"L": []},
        "emptyMap": {"M": {}},
    }


def call(calls: list, fn, **kwargs) -> Any:
    try:
        return fn(**kwargs)
    except ClientError as error:  # an error answer is an answer: recorded like the others
        return error.response


def scenario(calls: list) -> None:
    def client(service: str) -> Any:
        # dynamodbstreams: the endpoint moto's URL patterns know (botocore's default differs)
        endpoint = "https://streams.dynamodb.us-east-1.amazonaws.com" if service == "dynamodbstreams" else None
        c = boto3.client(service, region_name="us-east-1", endpoint_url=endpoint)

        def record(http_response: Any = None, response_dict: Any = None, operation_model: Any = None, **_: Any) -> None:
            if response_dict is not None:
                body = response_dict.get("body", b"")
                headers = response_dict.get("headers", {})
                calls.append((service, operation_model.name, response_dict.get("status_code"), headers.get("content-type") or headers.get("Content-Type"), body if isinstance(body, bytes) else b"<stream>"))

        c.meta.events.register("before-parse", record)
        return c

    ddb = client("dynamodb")
    call(calls, ddb.create_table, TableName="registry", BillingMode="PAY_PER_REQUEST",
         KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
         AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "S"}, {"AttributeName": "status", "AttributeType": "S"}],
         GlobalSecondaryIndexes=[{"IndexName": "byStatus", "KeySchema": [{"AttributeName": "status", "KeyType": "HASH"}], "Projection": {"ProjectionType": "ALL"}}])
    call(calls, ddb.create_table, TableName="slots", BillingMode="PAY_PER_REQUEST",
         KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}], AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])
    for n in range(6):
        call(calls, ddb.put_item, TableName="registry", Item=tenant_item(n))
        call(calls, ddb.put_item, TableName="slots", Item={"pk": {"S": f"slot{n}"}, "holder": {"NULL": True}})
    key = {"pk": {"S": "tenant#1"}, "sk": {"S": "record"}}
    call(calls, ddb.get_item, TableName="registry", Key=key)
    call(calls, ddb.get_item, TableName="registry", Key=key, ProjectionExpression="limits.models, #s", ExpressionAttributeNames={"#s": "status"})
    call(calls, ddb.get_item, TableName="registry", Key={"pk": {"S": "nobody"}, "sk": {"S": "record"}})
    for values in ("ALL_NEW", "UPDATED_OLD", "UPDATED_NEW", "ALL_OLD", "NONE"):
        call(calls, ddb.update_item, TableName="registry", Key=key, ReturnValues=values,
             UpdateExpression="SET #c = #c + :one, limits.rpm = :rpm, history = list_append(history, :h) ADD tags :t REMOVE #n",
             ExpressionAttributeNames={"#c": "count", "#n": "none"},
             ExpressionAttributeValues={":one": {"N": "1"}, ":rpm": {"N": "200"}, ":h": {"L": [{"S": "x"}]}, ":t": {"SS": ["c"]}})
    call(calls, ddb.update_item, TableName="registry", Key=key, ConditionExpression="#s = :x", ReturnValuesOnConditionCheckFailure="ALL_OLD",
         UpdateExpression="SET #s = :x", ExpressionAttributeNames={"#s": "status"}, ExpressionAttributeValues={":x": {"S": "GONE"}})
    call(calls, ddb.update_item, TableName="registry", Key=key, UpdateExpression="SET count = :x", ExpressionAttributeValues={":x": {"N": "1"}})  # reserved word: a validation error
    call(calls, ddb.query, TableName="registry", KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "tenant#2"}})
    call(calls, ddb.query, TableName="registry", IndexName="byStatus", KeyConditionExpression="#s = :s", ExpressionAttributeNames={"#s": "status"}, ExpressionAttributeValues={":s": {"S": "ACTIVE"}}, Limit=2)
    call(calls, ddb.scan, TableName="registry", FilterExpression="#c > :n", ExpressionAttributeNames={"#c": "count"}, ExpressionAttributeValues={":n": {"N": "2"}}, ReturnConsumedCapacity="TOTAL")
    call(calls, ddb.batch_get_item, RequestItems={"registry": {"Keys": [key, {"pk": {"S": "tenant#3"}, "sk": {"S": "record"}}]}})
    # a transaction that commits, one cancelled by a condition (rolled back), then the state after both
    call(calls, ddb.transact_write_items, TransactItems=[
        {"Update": {"TableName": "slots", "Key": {"pk": {"S": "slot1"}}, "UpdateExpression": "SET holder = :t", "ConditionExpression": "attribute_type(holder, :null)", "ExpressionAttributeValues": {":t": {"S": "tenant#1"}, ":null": {"S": "NULL"}}}},
        {"Put": {"TableName": "registry", "Item": {"pk": {"S": "step#1"}, "sk": {"S": "acquire"}, "at": {"N": "1"}}, "ConditionExpression": "attribute_not_exists(pk)"}},
        {"Delete": {"TableName": "slots", "Key": {"pk": {"S": "slot5"}}}},
    ])
    call(calls, ddb.transact_write_items, TransactItems=[
        {"Update": {"TableName": "slots", "Key": {"pk": {"S": "slot2"}}, "UpdateExpression": "SET holder = :t", "ExpressionAttributeValues": {":t": {"S": "tenant#2"}}}},
        {"Update": {"TableName": "registry", "Key": key, "UpdateExpression": "SET #c = :z", "ExpressionAttributeNames": {"#c": "count"}, "ExpressionAttributeValues": {":z": {"N": "0"}}}},
        {"Put": {"TableName": "registry", "Item": {"pk": {"S": "step#1"}, "sk": {"S": "acquire"}}, "ConditionExpression": "attribute_not_exists(pk)", "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}},
    ])
    call(calls, ddb.transact_write_items, TransactItems=[
        {"Update": {"TableName": "slots", "Key": {"pk": {"S": "slot3"}}, "UpdateExpression": "SET holder = :t", "ExpressionAttributeValues": {":t": {"S": "x"}}}},
        {"Update": {"TableName": "slots", "Key": {"pk": {"S": "slot3"}}, "UpdateExpression": "SET holder = :t", "ExpressionAttributeValues": {":t": {"S": "y"}}}},
    ])  # the same item twice: a validation error, rolled back
    call(calls, ddb.scan, TableName="slots")
    call(calls, ddb.scan, TableName="registry")
    # a table with a stream: update_item's old image goes into the stream record (moto's own copy)
    call(calls, ddb.create_table, TableName="events", BillingMode="PAY_PER_REQUEST", StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
         KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}], AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])
    call(calls, ddb.put_item, TableName="events", Item=tenant_item(9) | {"pk": {"S": "e1"}})
    call(calls, ddb.update_item, TableName="events", Key={"pk": {"S": "e1"}}, UpdateExpression="SET limits.rpm = :r, #s = :s", ExpressionAttributeNames={"#s": "status"}, ExpressionAttributeValues={":r": {"N": "5"}, ":s": {"S": "SUSPENDED"}})
    call(calls, ddb.transact_write_items, TransactItems=[{"Update": {"TableName": "events", "Key": {"pk": {"S": "e1"}}, "UpdateExpression": "SET #s = :s", "ExpressionAttributeNames": {"#s": "status"}, "ExpressionAttributeValues": {":s": {"S": "ACTIVE"}}}}])
    streams = client("dynamodbstreams")
    arn = call(calls, ddb.describe_table, TableName="events").get("Table", {}).get("LatestStreamArn", "x")
    shards = call(calls, streams.describe_stream, StreamArn=arn).get("StreamDescription", {}).get("Shards", [])
    if shards:
        iterator = call(calls, streams.get_shard_iterator, StreamArn=arn, ShardId=shards[0]["ShardId"], ShardIteratorType="TRIM_HORIZON").get("ShardIterator", "x")
        call(calls, streams.get_records, ShardIterator=iterator)
    call(calls, ddb.describe_table, TableName="registry")
    call(calls, ddb.list_tables)

    s3 = client("s3")
    call(calls, s3.create_bucket, Bucket="tessera-archive")
    call(calls, s3.put_bucket_versioning, Bucket="tessera-archive", VersioningConfiguration={"Status": "Enabled"})
    for n in range(3):
        call(calls, s3.put_object, Bucket="tessera-archive", Key=f"tenants/acme/{n}.json", Body=b"{}" * (n + 1), Metadata={"tenant": "acme"})
    call(calls, s3.delete_object, Bucket="tessera-archive", Key="tenants/acme/0.json")
    call(calls, s3.list_objects_v2, Bucket="tessera-archive", Prefix="tenants/")
    call(calls, s3.list_object_versions, Bucket="tessera-archive")
    # versions, delete markers and an object in parts, listed whole, by page (markers), by prefix and delimiter
    for n in range(3):
        call(calls, s3.put_object, Bucket="tessera-archive", Key=f"tenants/globex/{n}.json", Body=b"v1")
        call(calls, s3.put_object, Bucket="tessera-archive", Key=f"tenants/globex/{n}.json", Body=b"v2" * n)
    call(calls, s3.delete_object, Bucket="tessera-archive", Key="tenants/globex/1.json")
    upload = call(calls, s3.create_multipart_upload, Bucket="tessera-archive", Key="tenants/globex/big.bin")["UploadId"]
    parts = [{"PartNumber": n, "ETag": call(calls, s3.upload_part, Bucket="tessera-archive", Key="tenants/globex/big.bin", UploadId=upload, PartNumber=n, Body=bytes([n]) * (5 * 1024 * 1024 if n == 1 else 1000))["ETag"]} for n in (1, 2)]
    call(calls, s3.complete_multipart_upload, Bucket="tessera-archive", Key="tenants/globex/big.bin", UploadId=upload, MultipartUpload={"Parts": parts})
    page = call(calls, s3.list_object_versions, Bucket="tessera-archive", MaxKeys=4)
    while page.get("IsTruncated"):
        page = call(calls, s3.list_object_versions, Bucket="tessera-archive", MaxKeys=4, KeyMarker=page["NextKeyMarker"], VersionIdMarker=page["NextVersionIdMarker"])
    call(calls, s3.list_object_versions, Bucket="tessera-archive", Prefix="tenants/globex/")
    call(calls, s3.list_object_versions, Bucket="tessera-archive", Prefix="tenants/", Delimiter="/")
    call(calls, s3.list_object_versions, Bucket="tessera-archive", KeyMarker="tenants/globex/1.json")
    call(calls, s3.head_object, Bucket="tessera-archive", Key="tenants/acme/1.json")
    call(calls, s3.get_object, Bucket="tessera-archive", Key="missing")
    call(calls, s3.get_bucket_versioning, Bucket="tessera-archive")
    call(calls, s3.list_buckets)

    sts = client("sts")
    call(calls, sts.get_caller_identity)
    call(calls, sts.assume_role, RoleArn="arn:aws:iam::123456789012:role/OrganizationAccountAccessRole", RoleSessionName="tessera")

    iam = client("iam")
    call(calls, iam.create_role, RoleName="tenant-role", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}), Tags=[{"Key": "tenant", "Value": "acme"}])
    call(calls, iam.get_role, RoleName="tenant-role")
    call(calls, iam.list_roles)
    call(calls, iam.get_role, RoleName="missing")
    call(calls, iam.get_account_summary)

    cfn = client("cloudformation")
    call(calls, cfn.create_stack, StackName="tenant-acme", TemplateBody=TEMPLATE, Tags=[{"Key": "tenant", "Value": "acme"}])
    call(calls, cfn.describe_stacks, StackName="tenant-acme")
    call(calls, cfn.list_stack_resources, StackName="tenant-acme")
    call(calls, cfn.describe_stacks, StackName="missing")

    ec2 = client("ec2")
    call(calls, ec2.describe_vpcs)
    group = call(calls, ec2.create_security_group, GroupName="tenant", Description="tenant")
    call(calls, ec2.describe_security_groups, GroupIds=[group.get("GroupId", "sg-x")])

    kms = client("kms")
    created = call(calls, kms.create_key, Description="tenant key", KeySpec="SYMMETRIC_DEFAULT")
    key_id = created.get("KeyMetadata", {}).get("KeyId", "missing")
    call(calls, kms.describe_key, KeyId=key_id)
    call(calls, kms.list_aliases)
    call(calls, kms.describe_key, KeyId="alias/missing")

    sqs = client("sqs")
    queue = call(calls, sqs.create_queue, QueueName="dlq", Attributes={"MessageRetentionPeriod": "1209600"})
    call(calls, sqs.send_message, QueueUrl=queue.get("QueueUrl", "x"), MessageBody='{"a": "b \\"quoted\\"\\r\\n"}')
    call(calls, sqs.get_queue_attributes, QueueUrl=queue.get("QueueUrl", "x"), AttributeNames=["All"])

    apigw = client("apigateway")
    api = call(calls, apigw.create_rest_api, name="tessera")
    call(calls, apigw.create_usage_plan, name="starter", throttle={"rateLimit": 10.0, "burstLimit": 20}, quota={"limit": 1000, "period": "DAY"}, apiStages=[])
    call(calls, apigw.get_usage_plans)
    call(calls, apigw.get_resources, restApiId=api.get("id", "x"))

    org = client("organizations")
    call(calls, org.create_organization, FeatureSet="ALL")
    call(calls, org.describe_organization)
    call(calls, org.list_roots)

    events = client("events")
    call(calls, events.put_events, Entries=[{"Source": "tessera", "DetailType": "Tenant Onboarded", "Detail": "{}"}])
    logs = client("logs")
    call(calls, logs.create_log_group, logGroupName="/tessera/audit")
    call(calls, logs.describe_log_groups)


TIMESTAMP = re.compile(rb"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?|\b1[6-9]\d{8}(?:\d{3}|\.\d+)?\b|[A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT")
UUID = re.compile(rb"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
SESSION_TOKEN = re.compile(rb"<SessionToken>[^<]*</SessionToken>")  # os.urandom in moto/sts/utils.py
STREAM_IDS = re.compile(rb'(ShardIterator": "|"eventID": ")[^"]*')  # os.urandom, uuid in moto/dynamodbstreams
# a stream record's size counts the digits of its clock-derived ApproximateCreationDateTime
STREAM_SIZE = re.compile(rb'"SizeBytes": \d+(?=, "StreamViewType")')
UPLOAD_ID = re.compile(rb"<UploadId>[^<]*</UploadId>")  # os.urandom in moto/s3/models.py FakeMultipart


def masked(body: bytes) -> bytes:
    """Timestamps (ISO 8601, RFC 822, epoch seconds or milliseconds), UUIDs, STS session tokens,
    DynamoDB stream iterators, event ids and record sizes, S3 multipart upload ids (moto takes them from the clock, `uuid` and
    `os.urandom`, which the seed does not reach; a record's size counts its timestamp's digits)."""
    return UPLOAD_ID.sub(b"<upload>", STREAM_SIZE.sub(b'"SizeBytes": <size>', STREAM_IDS.sub(rb"\1<id>", SESSION_TOKEN.sub(b"<token>", UUID.sub(b"<uuid>", TIMESTAMP.sub(b"<time>", body))))))


def answer_differences(ours: list, theirs: list) -> list[str]:
    """The answers of two runs of a scenario that differ (status, headers that matter, masked body), one line each."""
    found = []
    if len(ours) != len(theirs):
        found.append(f"{len(ours)} answers with the patches, {len(theirs)} without")
    for a, b in zip(ours, theirs):
        if a[:4] != b[:4] or masked(a[4]) != masked(b[4]):
            found.append(f"{a[0]} {a[1]}: {a[2]} {a[4][:300]!r} != {b[2]} {b[4][:300]!r}")
    return found


def kms_check() -> dict[str, Any]:
    """What patch_kms_lazy_private_key promises, through boto3 against moto in-process."""
    from cryptography.hazmat.primitives import serialization
    from moto.kms.models import kms_backends

    verified = patches.VERIFIED["kmsKeys"]
    out: dict[str, Any] = {"deferred": 0, "signaturesValid": 0, "publicKeys": {}}
    with mock_aws():
        kms = boto3.client("kms", region_name="us-east-1")
        backend = kms_backends["123456789012"]["us-east-1"]
        specs = [("SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT", None), ("RSA_2048", "SIGN_VERIFY", "RSASSA_PKCS1_V1_5_SHA_256"),
                 ("RSA_3072", "SIGN_VERIFY", "RSASSA_PSS_SHA_256"), ("ECC_NIST_P256", "SIGN_VERIFY", "ECDSA_SHA_256"),
                 ("ECC_NIST_P384", "SIGN_VERIFY", "ECDSA_SHA_384"), ("HMAC_256", "GENERATE_VERIFY_MAC", None)]
        for spec, usage, algorithm in specs:
            key_id = kms.create_key(KeySpec=spec, KeyUsage=usage)["KeyMetadata"]["KeyId"]
            out["deferred"] += "private_key" not in backend.keys[key_id].__dict__
            if algorithm:
                signature = kms.sign(KeyId=key_id, Message=b"tessera", SigningAlgorithm=algorithm)["Signature"]
                out["signaturesValid"] += kms.verify(KeyId=key_id, Message=b"tessera", Signature=signature, SigningAlgorithm=algorithm)["SignatureValid"]
                der = kms.get_public_key(KeyId=key_id)["PublicKey"]
                public = serialization.load_der_public_key(der)
                curve = getattr(public, "curve", None)
                out["publicKeys"][spec] = [public.key_size, getattr(curve, "name", None)]
        primary = kms.create_key(KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY", MultiRegion=True)["KeyMetadata"]["KeyId"]
        kms.replicate_key(KeyId=primary, ReplicaRegion="eu-west-1")
        replica_public = boto3.client("kms", region_name="eu-west-1").get_public_key(KeyId=primary)["PublicKey"]
        out["replicaSharesKey"] = replica_public == kms.get_public_key(KeyId=primary)["PublicKey"]
    out["verified"] = patches.VERIFIED["kmsKeys"] - verified
    return out


def cognito_check() -> dict[str, Any]:
    """What patch_cognito_pool_key_once promises: pools share one imported key, equal to moto's own import of the file."""
    from joserfc import jwk

    from moto.cognitoidp.models import cognitoidp_backends
    from moto.utilities.utils import load_resource

    verified = patches.VERIFIED["cognitoKeys"]
    with mock_aws():
        idp = boto3.client("cognito-idp", region_name="us-east-1")
        ids = [idp.create_user_pool(PoolName=name)["UserPool"]["Id"] for name in ("one", "two")]
        pools = [cognitoidp_backends["123456789012"]["us-east-1"].user_pools[i] for i in ids]
        own = jwk.RSAKey.import_key(load_resource("cognitoidp/resources/jwks-private.json")).as_dict(private=True)
        return {"shared": pools[0].json_web_key is pools[1].json_web_key, "sameKey": pools[0].json_web_key.as_dict(private=True) == own, "verified": patches.VERIFIED["cognitoKeys"] - verified}


def reset_check() -> dict[str, Any]:
    """What patch_reset_drops_backends promises: BackendDict.reset builds no backend again; a dropped
    backend read afterwards is built then, as moto's reset would have built it (compared with
    moto's own reset of the same backend: attribute names, AMIs, VPCs and subnets); a request after
    the reset gets a new backend, as before."""
    from moto.core.base_backend import BackendDict
    from moto.ec2.models import ec2_backends

    def shape(backend: Any) -> list:
        return [sorted(vars(backend)), len(backend.amis), len(backend.vpcs), len(backend.subnets.get("us-east-1a", {}))]

    out: dict[str, Any] = {}
    for bypass in (True, False):
        with mock_aws():
            boto3.client("ec2", region_name="us-east-1").describe_vpcs()
            backend = ec2_backends["123456789012"]["us-east-1"]
            patches._bypass.on = bypass
            try:
                BackendDict.reset()
            finally:
                patches._bypass.on = False
            deferred = patches._RESET_ARGS in object.__getattribute__(backend, "__dict__")
            rebuilds = patches.VERIFIED["resetRebuilds"]
            built = shape(backend)
            out["moto" if bypass else "patched"] = {"deferred": deferred, "shape": built, "rebuiltOnRead": patches.VERIFIED["resetRebuilds"] - rebuilds, "classBack": type(backend) is type(ec2_backends["123456789012"]["us-east-1"])}
            boto3.client("ec2", region_name="us-east-1").describe_vpcs()
            out["moto" if bypass else "patched"]["newBackend"] = ec2_backends["123456789012"]["us-east-1"] is not backend
    out["same"] = out["moto"]["shape"] == out["patched"]["shape"]
    return out


def run(bypass: bool) -> list:
    calls: list = []
    mock_random.seed(17)
    patches._bypass.on = bypass
    try:
        with mock_aws():
            scenario(calls)
    finally:
        patches._bypass.on = False
    return calls


def main() -> int:
    report: dict[str, Any] = {"moto": patches.moto.__version__, "patchedFor": patches.PATCHED_FOR, "applied": list(patches.APPLIED)}
    theirs = run(bypass=True)
    verified_before = patches.VERIFIED["answers"]
    ours = run(bypass=False)
    report["answers"] = len(ours)
    report["verifiedAnswers"] = patches.VERIFIED["answers"] - verified_before
    report["services"] = sorted({c[0] for c in ours})
    report["errorAnswers"] = sum(1 for c in ours if c[2] >= 400)
    differences = answer_differences(ours, theirs)
    report["differences"] = differences

    # The server's dispatcher: the backend of each host, remembered (patched) and asked of moto each time.
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    dispatcher = DomainDispatcherApplication(create_backend_app)
    hosts = ["dynamodb.us-east-1.amazonaws.com", "s3.amazonaws.com", "tessera-archive.s3.amazonaws.com", "sts.amazonaws.com",
             "cloudformation.eu-west-1.amazonaws.com", "ec2.us-east-1.amazonaws.com", "moto_api", "dynamodb", "localhost:5000", "nothing.example.com"]
    verified_hosts = patches.VERIFIED["hosts"]
    for _ in range(2):  # the second round answers from the memo and is verified against moto's code
        for host in hosts:
            ours_backend = dispatcher.get_backend_for_host(host)
            patches._bypass.on = True
            try:
                theirs_backend = dispatcher.get_backend_for_host(host)
            finally:
                patches._bypass.on = False
            if ours_backend != theirs_backend:
                differences.append(f"get_backend_for_host({host!r}): {ours_backend!r} != {theirs_backend!r}")
    report["hosts"] = len(hosts)
    report["verifiedRollbacks"] = patches.VERIFIED["rollbacks"]
    report["verifiedHosts"] = patches.VERIFIED["hosts"] - verified_hosts

    # KMS keys (patch_kms_lazy_private_key): no private key made by CreateKey; made on the first
    # Sign, Verify or GetPublicKey, of the spec's class and size (VERIFY: compared with moto's own
    # call), signatures verify, and a multi-Region replica shares its primary's key.
    report["kms"] = kms_check()
    report["reset"] = reset_check()
    report["cognito"] = cognito_check()

    # The check must be able to fail: a memo that answers wrongly is caught by the comparison.
    caught = False
    saved = {k: dict(v) for k, v in patches.NAME_MEMOS.items()}
    for memo in patches.NAME_MEMOS.values():
        for memo_key in memo:
            memo[memo_key] = ()
    try:
        with mock_aws():
            ddb = boto3.client("dynamodb", region_name="us-east-1")
            ddb.list_tables()
    except patches.PatchMismatch:
        caught = True
    except ClientError as error:  # moto answers 500 for an exception it does not know
        caught = "PatchMismatch" in str(error) or error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 500
    finally:
        patches.NAME_MEMOS.clear()
        patches.NAME_MEMOS.update(saved)
    report["brokenMemoCaught"] = caught

    # S3 listings (patch_s3_listing_copies): each compared with moto's own listing (VERIFY) in the
    # scenario; a stand-in list that drops a version must be caught.
    from moto.s3 import models as s3_models

    # versions whose ETag is not computed yet: the stand-ins compute it (moto's copies did), the stored keys keep none
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        put_versions(s3, "etagless", (b"one", b"two"))
        stored = s3_models.s3_backends["123456789012"]["aws"].buckets["etagless"].keys.getlist("k")
        for key in stored:
            key._etag = None
        etags = [v["ETag"] for v in s3.list_object_versions(Bucket="etagless")["Versions"]]
        report["etaglessListing"] = etags == ['"b8a9f715dbb64fd5c56e7783c6820a61"', '"f97c5d29941bfb1b2fdab0874906ab82"'] and all(key._etag is None for key in stored)
    report["verifiedListings"] = patches.VERIFIED["listings"]

    stand_in = s3_models.copy
    listing_copy = type(stand_in).deepcopy

    def dropping(x: Any, memo: Any = None, _nil: Any = []) -> Any:  # noqa: B006
        copied = listing_copy(x, memo, _nil)
        return copied[:-1] if memo is None and type(x) is list and len(x) > 1 and getattr(patches._s3_listing, "on", False) else copied

    stand_in.deepcopy = dropping
    listing_caught = False
    try:
        with mock_aws():
            s3 = boto3.client("s3", region_name="us-east-1")
            put_versions(s3, "planted", (b"1", b"2"))
            s3.list_object_versions(Bucket="planted")
    except patches.PatchMismatch:
        listing_caught = True
    except ClientError as error:
        listing_caught = "PatchMismatch" in str(error) or error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 500
    finally:
        del stand_in.deepcopy
    report["wrongListingCaught"] = listing_caught
    print(json.dumps(report))
    # Answers moto builds from templates (parts of S3, SQS, ...) do not pass through the serializer.
    ok = not differences and caught and listing_caught and report["etaglessListing"] and report["verifiedListings"] > 0 and report["verifiedAnswers"] > 0 and report["verifiedHosts"] > 0 and report["verifiedRollbacks"] > 0 and len(patches.APPLIED) > 0
    kms = report["kms"]
    ok = ok and kms["deferred"] == 6 and kms["signaturesValid"] == 4 and kms["verified"] >= 5 and kms["replicaSharesKey"]
    reset = report["reset"]
    ok = ok and reset["same"] and reset["patched"]["deferred"] and not reset["moto"]["deferred"] and reset["patched"]["newBackend"]
    ok = ok and report["cognito"]["shared"] and report["cognito"]["sameKey"]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
