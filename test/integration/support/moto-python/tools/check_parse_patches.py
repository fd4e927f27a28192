"""Checks that tessera_moto_parse_patches.py changes none of moto's answers (test/integration/moto-patches.test.ts).

Runs a few calls of each protocol family (query, REST-XML, JSON: every request goes through the
dispatch patches) and a DynamoDB scenario of expressions (UpdateItem with the same expressions again and again, conditions that pass
and fail, refused expressions, PutItem and DeleteItem conditions, transactions with Update and
ConditionCheck) twice, from a fresh moto (in-process, `mock_aws`) with its random source seeded alike:
1. with moto's own code (both sets of patches bypassed),
2. with both sets and TESSERA_MOTO_VERIFY=1, so each remembered result is also computed by moto's
   code and compared (a difference raises PatchMismatch, moto answers 500).
Then the answers of the two runs are compared (status, content type, body bytes; timestamps and
unseeded ids masked as check_patches.py does), two planted wrong memos (an AST remembered for
the wrong expression, a wrong method list) must be caught, and the module loaded again as if moto
were another version must apply nothing.
Prints one JSON object; exits 1 on any difference.

Usage: python check_parse_patches.py
"""

from __future__ import annotations

import json
import os
import re
import sys
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import check_patches as first  # noqa: E402  (sets TESSERA_MOTO_VERIFY=1, the environment, moto-python/ on sys.path)
import tessera_moto_parse_patches as parse  # noqa: E402
from check_patches import ClientError, boto3, call, masked, mock_aws, mock_random  # noqa: E402

UPDATE = "SET #s = :s, #v = if_not_exists(#v, :zero) + :one, lease = :lease REMOVE failure"
RETURN_VALUES = ("NONE", "ALL_OLD", "UPDATED_OLD", "UPDATED_NEW", "ALL_NEW")


def update_kinds(return_values: str) -> dict:
    """An UpdateItem of the KINDS item (a top-level and a nested attribute changed) asking for `return_values`."""
    return {"TableName": "tenants", "Key": {"tenantId": {"S": "kinds"}}, "UpdateExpression": "SET flag = :f, m.s = :s", "ReturnValues": return_values,
            "ExpressionAttributeValues": {":f": {"BOOL": return_values == "NONE"}, ":s": {"S": return_values}}}


#: An item with every attribute value kind but binaries: empty string, map and list, nested maps and lists, sets, NULL, BOOL.
KINDS = {"tenantId": {"S": "kinds"}, "m": {"M": {"s": {"S": ""}, "n": {"N": "-1.5"}, "l": {"L": [{"BOOL": False}, {"NULL": True}, {"M": {}}, {"L": []}, {"M": {"x": {"BOOL": True}}}]}}},
         "ss": {"SS": ["a", "b"]}, "ns": {"NS": ["1", "2.5"]}, "empty": {"S": ""}, "flag": {"BOOL": True}}


def expressions(calls: list) -> None:
    ddb = boto3.client("dynamodb", region_name="us-east-1")

    def record(response_dict: Any = None, operation_model: Any = None, **_: Any) -> None:
        if response_dict is not None:
            headers = response_dict.get("headers", {})
            calls.append(("dynamodb", operation_model.name, response_dict.get("status_code"), headers.get("content-type"), response_dict.get("body", b"")))

    ddb.meta.events.register("before-parse", record)
    call(calls, ddb.create_table, TableName="tenants", BillingMode="PAY_PER_REQUEST",
         KeySchema=[{"AttributeName": "tenantId", "KeyType": "HASH"}], AttributeDefinitions=[{"AttributeName": "tenantId", "AttributeType": "S"}])
    names = {"#s": "status", "#v": "version"}
    for n in range(4):
        call(calls, ddb.put_item, TableName="tenants", Item={"tenantId": {"S": f"t{n}"}, "status": {"S": "NEW"}, "failure": {"S": "x"}},
             ConditionExpression="attribute_not_exists(tenantId)")
        call(calls, ddb.put_item, TableName="tenants", Item={"tenantId": {"S": f"t{n}"}}, ConditionExpression="attribute_not_exists(tenantId)")  # refused: exists
    for round_ in range(3):  # the same expressions again: remembered ASTs and reused condition parses
        for n in range(4):
            for status in ("PROVISIONING", "ACTIVE"):
                call(calls, ddb.update_item, TableName="tenants", Key={"tenantId": {"S": f"t{n}"}}, UpdateExpression=UPDATE,
                     ConditionExpression="#s <> :s AND (attribute_not_exists(lease) OR lease.holder = :me)",
                     ExpressionAttributeNames=names, ReturnValues="ALL_NEW",
                     ExpressionAttributeValues={":s": {"S": status}, ":zero": {"N": "0"}, ":one": {"N": str(round_ + 1)}, ":lease": {"M": {"holder": {"S": "me"}}}, ":me": {"S": "me"}})
            call(calls, ddb.update_item, TableName="tenants", Key={"tenantId": {"S": f"t{n}"}}, UpdateExpression="ADD hits :one SET tags = list_append(if_not_exists(tags, :empty), :t)",
                 ExpressionAttributeValues={":one": {"N": "1"}, ":empty": {"L": []}, ":t": {"L": [{"S": f"r{round_}"}]}}, ReturnValues="UPDATED_NEW")
            call(calls, ddb.update_item, TableName="tenants", Key={"tenantId": {"S": f"t{n}"}}, UpdateExpression="SET #s = :s",  # condition fails
                 ConditionExpression="#s = :other", ExpressionAttributeNames={"#s": "status"}, ExpressionAttributeValues={":s": {"S": "X"}, ":other": {"S": "NEVER"}},
                 ReturnValuesOnConditionCheckFailure="ALL_OLD")
        # refused expressions (errors are never remembered)
        call(calls, ddb.update_item, TableName="tenants", Key={"tenantId": {"S": "t0"}}, UpdateExpression="SET = :s", ExpressionAttributeValues={":s": {"S": "X"}})
        call(calls, ddb.update_item, TableName="tenants", Key={"tenantId": {"S": "t0"}}, UpdateExpression="SET a = :missing")
        call(calls, ddb.update_item, TableName="tenants", Key={"tenantId": {"S": "t0"}}, UpdateExpression="SET tenantId = :s", ExpressionAttributeValues={":s": {"S": "X"}})
        # refused by the clause counts and the overlapping paths (patch_update_clause_lists), and one that passes both
        for refused, refused_names in (("SET a = :s, b = :s, a = :s", None), ("SET a.b = :s, c = :s, a = :s", None), ("SET #a = :s, b = :s REMOVE #a", {"#a": "a"}),
                               ("SET a = :s ADD n :one SET b = :s", None), ("ADD n :one, m :one DELETE tags :set ADD o :one", None), ("REMOVE a REMOVE b", None),
                               ("SET a = :s, b = :s ADD n :one, m :one REMOVE e, f", None)):
            values = {k: v for k, v in {":s": {"S": "X"}, ":one": {"N": "1"}, ":set": {"SS": ["x"]}}.items() if re.search(re.escape(k) + r"\b", refused)}
            call(calls, ddb.update_item, TableName="tenants", Key={"tenantId": {"S": "t0"}}, UpdateExpression=refused,
                 **({"ExpressionAttributeValues": values} if values else {}), **({"ExpressionAttributeNames": refused_names} if refused_names else {}))
        call(calls, ddb.delete_item, TableName="tenants", Key={"tenantId": {"S": "t3"}}, ConditionExpression="#s = :s", ExpressionAttributeNames={"#s": "status"}, ExpressionAttributeValues={":s": {"S": "GONE"}})
        for cancel in (False, True):
            call(calls, ddb.transact_write_items, TransactItems=[
                {"Update": {"TableName": "tenants", "Key": {"tenantId": {"S": "t1"}}, "UpdateExpression": UPDATE, "ConditionExpression": "attribute_exists(tenantId)",
                            "ExpressionAttributeNames": names, "ExpressionAttributeValues": {":s": {"S": "T"}, ":zero": {"N": "0"}, ":one": {"N": "1"}, ":lease": {"NULL": True}}}},
                {"ConditionCheck": {"TableName": "tenants", "Key": {"tenantId": {"S": "t2"}}, "ConditionExpression": "#s = :s",
                                    "ExpressionAttributeNames": {"#s": "status"}, "ExpressionAttributeValues": {":s": {"S": "NEVER" if cancel else "ACTIVE"}}}},
            ])
        call(calls, ddb.get_item, TableName="tenants", Key={"tenantId": {"S": "t1"}})
    call(calls, ddb.scan, TableName="tenants", FilterExpression="#s = :s", ExpressionAttributeNames={"#s": "status"}, ExpressionAttributeValues={":s": {"S": "ACTIVE"}})
    # attribute values of every kind (patch_serializer_attribute_values builds them directly; binaries, at any depth, go to moto's code)
    call(calls, ddb.put_item, TableName="tenants", Item=KINDS)
    call(calls, ddb.put_item, TableName="tenants", Item={"tenantId": {"S": "binary"}, "deep": {"M": {"l": {"L": [{"S": "a"}, {"M": {"b": {"B": b"z"}}}]}}}, "bs": {"BS": [b"x", b"y"]}})
    for key in ("kinds", "binary"):
        call(calls, ddb.get_item, TableName="tenants", Key={"tenantId": {"S": key}})
    call(calls, ddb.update_item, TableName="tenants", Key={"tenantId": {"S": "kinds"}}, UpdateExpression="SET m.l = list_append(m.l, :l)",
         ExpressionAttributeValues={":l": {"L": [{"SS": ["c"]}]}}, ReturnValues="ALL_NEW")
    call(calls, ddb.query, TableName="tenants", KeyConditionExpression="tenantId = :k", ExpressionAttributeValues={":k": {"S": "kinds"}})
    # every ReturnValues of an UpdateItem (patch_update_item_unread_old_item skips the old item's tree for NONE and ALL_NEW only), and a new item
    for return_values in RETURN_VALUES:
        call(calls, ddb.update_item, **update_kinds(return_values))
    call(calls, ddb.update_item, TableName="tenants", Key={"tenantId": {"S": "fresh"}}, UpdateExpression="SET a = :a", ExpressionAttributeValues={":a": {"S": "x"}}, ReturnValues="ALL_NEW")


def protocols(calls: list) -> None:
    """One or two calls per protocol family, recorded like check_patches.py's."""
    def client(service: str) -> Any:
        c = boto3.client(service, region_name="us-east-1")

        def record(response_dict: Any = None, operation_model: Any = None, **_: Any) -> None:
            if response_dict is not None:
                headers = response_dict.get("headers", {})
                calls.append((service, operation_model.name, response_dict.get("status_code"), headers.get("content-type") or headers.get("Content-Type"), response_dict.get("body", b"")))

        c.meta.events.register("before-parse", record)
        return c

    # query (STS), REST-XML (S3), JSON (SQS, Organizations; DynamoDB below). CloudFormation and EC2
    # are left out: their first call imports and builds backends (~1.3 s of CPU per run here).
    sts, s3, sqs, orgs = (client(s) for s in ("sts", "s3", "sqs", "organizations"))
    call(calls, sts.get_caller_identity)
    call(calls, s3.create_bucket, Bucket="tessera-check")
    call(calls, s3.list_buckets)
    call(calls, s3.get_object, Bucket="tessera-check", Key="missing")
    call(calls, sqs.create_queue, QueueName="events")
    call(calls, sqs.get_queue_attributes, QueueUrl="https://sqs.us-east-1.amazonaws.com/123456789012/missing", AttributeNames=["All"])
    call(calls, orgs.create_organization, FeatureSet="ALL")
    call(calls, orgs.list_roots)


#: patch_serializer_iso_timestamps: forms that must take moto's own path (another offset, a date alone, epoch
#: seconds, a space, out-of-range fields, ten fraction digits, a lower-case z, non-ASCII digits, a newline, RFC 822).
ODD_TIMESTAMPS = ("2020-01-01T00:00:00+05:30", "2020-01-01T00:00:00-08:00", "2020-01-01", "1700000000", "1700000000.5", "2020-01-01 00:00:00",
                  "2020-13-01T00:00:00Z", "2020-02-30T00:00:00Z", "0000-01-01T00:00:00Z", "2020-01-01T24:00:00Z", "2020-01-01T00:00:60Z",
                  "2020-01-01T00:00:00.1234567890Z", "2020-01-01T00:00:00z", "\uff12\uff10\uff12\uff10-01-01T00:00:00Z", "2020-01-01T00:00:00Z\n",
                  "Mon, 01 Jan 2020 00:00:00 GMT", "2020-01-01T00:00:00.Z", "not a time", "")
TIMESTAMP_FORMATS = ("iso8601", "iso8601_zeroed", "unixtimestamp", "rfc822")


def sample_timestamps(count: int) -> list[str]:
    """The forms moto's models give the serializer, for `count` random instants of years 1-9999 (seeded),
    each written one way: milliseconds and Z (moto's usual), seconds and Z, nanoseconds and Z, an aware
    `isoformat()` (+00:00), a naive one, -00:00, a fraction of 1-9 random digits; then ODD_TIMESTAMPS."""
    import random
    from datetime import datetime, timedelta, timezone

    rng = random.Random(41)
    start, span = datetime(1, 1, 1), (datetime(9999, 12, 31, 23, 59, 59) - datetime(1, 1, 1)).total_seconds()
    out = ["2026-12-06T14:37:26.123Z", "2026-12-06T14:37:26Z", "2026-12-06T14:37:26.000Z", "2026-12-06T14:37:26.123456789Z", "1999-12-31T23:59:59.999999+00:00", "2000-02-29T12:00:00"]
    for n in range(count):
        instant = start + timedelta(seconds=rng.random() * span)
        if n % 5 == 0:
            instant = instant.replace(microsecond=0)
        base = instant.strftime("%Y-%m-%dT%H:%M:%S").rjust(19, "0")
        form = n % 7
        if form == 0:
            out.append(base + instant.strftime(".%f")[:4] + "Z")
        elif form == 1:
            out.append(base + "Z")
        elif form == 2:
            out.append(base + instant.strftime(".%f") + "000Z")
        elif form == 3:
            out.append(instant.replace(tzinfo=timezone.utc).isoformat().rjust(25, "0"))
        elif form == 4:
            out.append(instant.isoformat().rjust(19, "0"))
        elif form == 5:
            out.append(base + "-00:00")
        else:
            out.append(base + "." + "".join(rng.choice("0123456789") for _ in range(rng.randint(1, 9))) + rng.choice(("Z", "", "+00:00")))
    return out + list(ODD_TIMESTAMPS)


def timestamp_answers(values: list[str], bypass: bool) -> list:
    """Each value through moto's TimestampSerializer in each of its four formats: the string, or the exception's class and text."""
    from moto.core.serialize import TimestampSerializer

    serializer = TimestampSerializer("iso8601")
    out = []
    parse._bypass.on = bypass
    try:
        for value in values:
            for timestamp_format in TIMESTAMP_FORMATS:
                try:
                    out.append(serializer._convert_timestamp_to_str(value, timestamp_format))
                except Exception as error:  # noqa: BLE001 (the same failure either way is what is compared)
                    out.append((type(error).__name__, str(error)))
    finally:
        parse._bypass.on = False
    return out


def timestamp_check() -> dict[str, Any]:
    """patch_serializer_iso_timestamps: the same strings (and the same failures) with and without it, the fast path taken
    for the ISO forms (VERIFY compares each datetime too), none for the odd ones, and a wrong datetime caught."""
    values = sample_timestamps(2_000)
    before = parse.VERIFIED["timestamps"]
    ours, theirs = timestamp_answers(values, bypass=False), timestamp_answers(values, bypass=True)
    differences = [f"{values[i // len(TIMESTAMP_FORMATS)]!r} {TIMESTAMP_FORMATS[i % len(TIMESTAMP_FORMATS)]}: {a!r} != {b!r}" for i, (a, b) in enumerate(zip(ours, theirs)) if a != b]
    fast = parse.VERIFIED["timestamps"] - before
    odd_fast = sum(1 for value in ODD_TIMESTAMPS if parse._iso_utc_datetime(value, None) is not None)
    built = parse._iso_utc_datetime

    def without_microseconds(value: str, utc: Any) -> Any:
        found = built(value, utc)
        return found.replace(microsecond=0) if found is not None else None

    parse._iso_utc_datetime = without_microseconds
    try:
        wrong = timestamp_answers(values[:200], bypass=False)
    except parse.PatchMismatch:
        wrong = None
    finally:
        parse._iso_utc_datetime = built
    return {"values": len(values), "answers": len(ours), "differences": differences[:20], "fastPath": fast, "oddFastPath": odd_fast,
            "wrongCaught": wrong is None or wrong != theirs[:len(wrong)]}


def random_string_check() -> dict[str, Any]:
    """patch_moto_random_string: seeded, the same strings for every argument combination (and the generator left in the same
    state) with and without it; a draw with one bit too few is caught."""
    from moto.moto_api._internal import mock_random

    arguments = [(length, digits, lower) for length in (0, 1, 7, 20, 52, 100) for digits in (True, False) for lower in (False, True)]

    def drawn(bypass: bool) -> tuple:
        parse._bypass.on = bypass
        try:
            mock_random.seed(41)
            strings = [mock_random.get_random_string(length, digits, lower) for _ in range(40) for length, digits, lower in arguments]
            strings.append(mock_random.get_random_string())  # moto's defaults
            strings.append(mock_random.get_random_string(length=52))  # gen_amzn_requestid_long's
            return strings, mock_random.random()
        finally:
            parse._bypass.on = False

    before = parse.VERIFIED["randomStrings"]
    ours, theirs = drawn(False), drawn(True)
    verified = parse.VERIFIED["randomStrings"] - before
    real = parse._random_string
    parse._random_string = lambda getrandbits, pool, length: real(lambda k: getrandbits(k - 1), pool, length)
    try:
        wrong = drawn(False)
    except parse.PatchMismatch:
        wrong = None
    finally:
        parse._random_string = real
    return {"strings": len(ours[0]), "same": ours == theirs, "verified": verified, "wrongCaught": wrong is None or wrong != theirs}


def run(bypass: bool) -> list:
    calls: list = []
    mock_random.seed(17)
    first.patches._bypass.on = bypass
    parse._bypass.on = bypass
    try:
        with mock_aws():
            protocols(calls)
            expressions(calls)
    finally:
        first.patches._bypass.on = False
        parse._bypass.on = False
    return calls


def caught_by_verify(plant: Any, undo: Any, action: Any) -> bool:
    plant()
    try:
        with mock_aws():
            action()
    except parse.PatchMismatch:
        return True
    except ClientError as error:  # moto answers 500 for an exception it does not know
        return "PatchMismatch" in str(error) or error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 500
    finally:
        undo()
    return False


def main() -> int:
    report: dict[str, Any] = {"moto": parse.moto.__version__, "patchedFor": parse.PATCHED_FOR, "applied": list(parse.APPLIED)}
    theirs = run(bypass=True)
    before = dict(parse.VERIFIED)
    ours = run(bypass=False)
    report["answers"] = len(ours)
    report["errorAnswers"] = sum(1 for c in ours if c[2] >= 400)
    report["verified"] = {k: parse.VERIFIED[k] - before[k] for k in parse.VERIFIED}
    differences = first.answer_differences(ours, theirs)
    report["timestamps"] = timestamp_check()
    report["verified"]["timestamps"] = report["timestamps"]["fastPath"]
    report["randomStrings"] = random_string_check()
    report["verified"]["randomStrings"] = report["randomStrings"]["verified"]
    if not report["randomStrings"]["same"]:
        differences.append("moto's random strings differ with patch_moto_random_string")
    differences += report["timestamps"]["differences"]
    report["differences"] = differences

    # The checks must be able to fail: planted wrong memos are caught by the comparison.
    def update_twice() -> None:
        ddb = boto3.client("dynamodb", region_name="us-east-1")
        ddb.create_table(TableName="p", BillingMode="PAY_PER_REQUEST", KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}], AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}])
        ddb.update_item(TableName="p", Key={"k": {"S": "1"}}, UpdateExpression="SET a = :a", ExpressionAttributeValues={":a": {"S": "x"}})

    saved_asts = dict(parse.UPDATE_ASTS)
    from moto.dynamodb.parsing.expressions import UpdateExpressionParser

    wrong_ast = UpdateExpressionParser.make("SET b = :a")
    report["wrongAstCaught"] = caught_by_verify(lambda: parse.UPDATE_ASTS.__setitem__("SET a = :a", wrong_ast),
                                                lambda: (parse.UPDATE_ASTS.clear(), parse.UPDATE_ASTS.update(saved_asts)), update_twice)
    saved_names = dict(parse.METHOD_NAMES)
    report["wrongMethodsCaught"] = caught_by_verify(lambda: [parse.METHOD_NAMES.__setitem__(k, v + ("not_a_method",)) for k, v in list(parse.METHOD_NAMES.items())],
                                                    lambda: (parse.METHOD_NAMES.clear(), parse.METHOD_NAMES.update(saved_names)),
                                                    lambda: boto3.client("dynamodb", region_name="us-east-1").list_tables())
    # patch_update_validation: a clone that lost an action, and a traversal reading another
    # traverser's processing map, are caught (the update's own answer would differ or fail).
    from moto.dynamodb.parsing import ast_nodes

    clone, entries = parse._clone_ast, parse._processing_entries

    def lossy_clone(node: Any) -> Any:
        copied = clone(node)
        if isinstance(copied, ast_nodes.Node) and copied.children:
            copied.children = copied.children[:-1]
        return copied

    def swap(name: str, value: Any) -> Any:
        return lambda: setattr(parse, name, value)

    report["wrongCloneCaught"] = caught_by_verify(swap("_clone_ast", lossy_clone), swap("_clone_ast", clone), update_twice)
    # patch_update_clause_lists: a clause list that lost its last clause is caught.
    clause_list = parse._clause_list
    report["wrongClauseListCaught"] = caught_by_verify(swap("_clause_list", lambda *args: clause_list(*args)[:-1]), swap("_clause_list", clause_list), update_twice)
    # patch_serializer_attribute_values: a map that lost its last entry is caught by the whole-answer comparison.
    attribute_value = parse._attribute_value

    def lossy_attribute_value(value: Any) -> Any:
        out = attribute_value(value)
        if isinstance(out, dict) and "M" in out and out["M"]:
            out["M"].pop(list(out["M"])[-1])
        return out

    def put_and_get() -> None:
        ddb = boto3.client("dynamodb", region_name="us-east-1")
        ddb.create_table(TableName="p", BillingMode="PAY_PER_REQUEST", KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}], AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}])
        ddb.put_item(TableName="p", Item={"k": {"S": "1"}, "m": {"M": {"a": {"S": "x"}, "b": {"N": "1"}}}})
        ddb.get_item(TableName="p", Key={"k": {"S": "1"}})

    report["wrongAttributeValueCaught"] = caught_by_verify(swap("_attribute_value", lossy_attribute_value), swap("_attribute_value", attribute_value), put_and_get)
    # patch_update_item_unread_old_item: skipping the old item for every ReturnValues changes the answers that read it.
    def return_values_answers(bypass: bool) -> list:
        calls: list = []
        first.patches._bypass.on = bypass
        parse._bypass.on = bypass
        try:
            with mock_aws():
                ddb = boto3.client("dynamodb", region_name="us-east-1")
                ddb.create_table(TableName="tenants", BillingMode="PAY_PER_REQUEST", KeySchema=[{"AttributeName": "tenantId", "KeyType": "HASH"}],
                                 AttributeDefinitions=[{"AttributeName": "tenantId", "AttributeType": "S"}])
                ddb.put_item(TableName="tenants", Item=KINDS)
                calls = [ddb.update_item(**update_kinds(return_values)).get("Attributes") for return_values in RETURN_VALUES]
        finally:
            first.patches._bypass.on = False
            parse._bypass.on = False
        return calls

    unread = parse._UNREAD_RETURN_VALUES
    parse._UNREAD_RETURN_VALUES = RETURN_VALUES
    try:
        report["wrongUnreadCaught"] = return_values_answers(bypass=False) != return_values_answers(bypass=True)
    finally:
        parse._UNREAD_RETURN_VALUES = unread
    report["wrongTraversalCaught"] = caught_by_verify(swap("_processing_entries", lambda traverser: tuple(reversed(entries(traverser)))),
                                                      swap("_processing_entries", entries), update_twice)
    # The version guard: loaded again under another moto version, the module applies nothing.
    import importlib

    applied = len(parse.APPLIED) == len(parse.PATCHES)
    pinned = parse.moto.__version__
    parse.moto.__version__ = "9.9.9"
    try:
        report["appliedForOtherVersion"] = list(importlib.reload(parse).APPLIED)
    finally:
        parse.moto.__version__ = pinned
    print(json.dumps(report))
    ok = report["appliedForOtherVersion"] == [] and not differences and report["wrongAstCaught"] and report["wrongMethodsCaught"] and report["wrongCloneCaught"] and report["wrongTraversalCaught"] and report["wrongClauseListCaught"] and report["wrongAttributeValueCaught"] and report["wrongUnreadCaught"] and report["timestamps"]["wrongCaught"] and report["timestamps"]["oddFastPath"] == 0 and report["randomStrings"]["wrongCaught"] and all(v > 0 for v in report["verified"].values()) and applied
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
