"""CPU patches for the tests' moto server: the same answers, computed with less work.

Imported by sitecustomize.py at Python start in every moto server the tests run (moto-python/ on
PYTHONPATH). Each patch replaces one moto function with one that returns what moto's own returns
for the same inputs (its docstring says why) and is applied only to the moto version it was
written and checked against (`PATCHED_FOR`, the pin in requirements-dev.txt): any other version
runs moto's own code, untouched. `TESSERA_MOTO_PATCHES=off` turns them all off (for comparing
answers with and without, see tools/ in this directory). `APPLIED` names the patches in force.

Seventeen answers are changed on purpose (`CHANGED`; not CPU patches, not in `PATCHES`, not compared by
the tools), each where moto answers otherwise than AWS:
- only where the server's environment asks for it (`TESSERA_MOTO_NOT_IMPLEMENTED_STATUS=501`, set by
  the lifecycle harness: harness-moto.ts): an action moto does not implement answers HTTP 501
  instead of Flask's 500 page (answer_not_implemented);
- always: an account Organizations' CloseAccount closed is `State` PENDING_CLOSURE, not moto's
  SUSPENDED (an account AWS restricted), and closing it again answers AccountAlreadyClosedException
  (close_account_as_aws; tested in test/integration/moto-aws-answers.test.ts);
- always: Lambda's GetAccountSettings, which moto does not route (404), answered from moto's own
  concurrency model (answer_lambda_account_settings; tested there too);
- always: the Account Management API's EnableRegion and GetRegionOptStatus, which moto does not
  route (404): opt-in regions DISABLED in every account until enabled, then ENABLING for a poll or
  two, then ENABLED; and its PutAlternateContact and GetAlternateContact with an AccountId refused
  (AccessDeniedException) outside the management account or without trusted access, a
  PutAlternateContact field AWS refuses answered ValidationException (answer_account_regions; tested there too);
- always: a request signed for an opt-in region the calling account has not ENABLED is refused before
  the service sees it, per protocol as AWS (InvalidClientTokenId, UnrecognizedClientException, EC2's
  AuthFailure), where moto serves every region (refuse_disabled_regions; tested there too);
- always: CloudFormation's update of an IAM role whose RoleName or Path changed replaces the role (a
  new one, its dependents' attachments moved, the old deleted), not moto's UpdateRole of a role of the
  new name, which fails the stack update with NoSuchEntity (replace_renamed_roles; tested there too);
- always: a resource a CloudFormation stack update removed is forgotten by the stack, so that a later
  update adding it back creates it anew, where moto handed back the deleted one (nothing created, and
  the stack's deletion then failed on it: recreate_removed_resources; tested there too);
- always: Cognito's AdminCreateUser refuses a Username of more than 128 characters (or with whitespace or control
  characters) and ListUsers a Filter of more than 256, with InvalidParameterException, as AWS does; moto took both
  (refuse_cognito_parameters_as_aws; tested there too);
- always: SageMaker's CreateTrainingJob and CreateModel refuse, with ValidationException as AWS does, a
  TrainingImage or container Image of more than 255 characters, an S3Uri, S3OutputPath or ModelDataUrl of more than
  1024, a TrainingJobName or ModelName not of 1-63 letters, digits and hyphens, more than 100 HyperParameters (keys
  over 256, values over 2500 characters) or more than 50 Tags; moto took all of them (refuse_sagemaker_parameters_as_aws;
  tested there too);
- always: DynamoDB's PutItem, DeleteItem, Query, Scan and each TransactWriteItems action refuse an
  ExpressionAttributeValues entry no expression of theirs uses, and BatchWriteItem more than 25 requests or one key
  twice (put and delete, or two puts), with ValidationException as DynamoDB does; moto checked unused values in
  UpdateItem only and duplicates only among identical items (refuse_dynamodb_requests_as_aws; tested there too);
- always: an UpdateItem (alone or in a transaction) whose result passes 400 KB is refused and undone, one that stays
  within it taken; moto checked only assignments, against the item with the old value and the new, so an ADD to a
  string set grew past 400 KB and a SET replacing a large value was refused (refuse_dynamodb_item_growth_as_aws;
  tested there too);
- always: IAM's CreateRole and UpdateAssumeRolePolicy (MalformedPolicyDocument) and S3's PutBucketPolicy
  (MalformedPolicy) refuse a policy whose Principal.AWS names an IAM role or user that does not exist, as AWS does
  when it resolves the principal; moto took any ARN (refuse_missing_principals_as_aws; tested there too).
- always: a standard queue's messages sent with a MessageGroupId are delivered as an SQS fair queue delivers them (a
  noisy tenant's backlog after the other tenants' waiting messages); moto delivered the oldest first whatever the group
  (deliver_fair_queues_as_aws; tested there too).
- always: RDS's DescribeAccountAttributes, which moto does not implement, answered from moto's own RDS model: each
  AccountQuota AWS lists, `ManualSnapshots` Used the manual DB instance snapshots of the account and Region, Max AWS's
  default 100 (answer_rds_account_attributes; tested there too).
- always: RDS refuses a manual DB instance or cluster snapshot (CreateDBSnapshot, CopyDBSnapshot, a DeleteDBInstance
  final snapshot, CreateDBClusterSnapshot, CopyDBClusterSnapshot) once the account and Region hold that Max (100) with
  AWS's `SnapshotQuotaExceeded` "Cannot create more than 100 manual snapshots"; moto refused only past its own 1000
  (refuse_rds_snapshots_past_quota; tested there too).
- always: CloudFormation's AWS::RDS::DBInstance `VPCSecurityGroups` are the instance's VPC security groups; moto read
  `VpcSecurityGroupIds` and gave the instance the default VPC's default group (rds_security_groups_as_cloudformation;
  tested there too).

`TESSERA_MOTO_VERIFY=1` (checking, never on in a normal run) computes every patched result with
moto's own code as well (each serialized answer, each dispatcher backend, the items of each
rolled-back table, each S3 version listing) and raises `PatchMismatch` (moto answers 500) if the two differ; with
`TESSERA_MOTO_VERIFY_LOG=<file>` a difference is also appended to the file and the counts of
comparisons written next to it.
"""

from __future__ import annotations

import json
import os
import re
import threading
from typing import Any

import moto
from tessera_moto_verify import PatchMismatch, count, verify_failed  # noqa: F401 (PatchMismatch: this module's name for it, as before)

PATCHED_FOR = "5.2.5"
APPLIED: list[str] = []
CHANGED: list[str] = []  # applied changes of an answer (answer_not_implemented, close_account_as_aws, answer_lambda_account_settings, answer_account_regions, refuse_disabled_regions, replace_renamed_roles, recreate_removed_resources, ssm_parameter_tags_as_cloudformation, refuse_cognito_parameters_as_aws, refuse_sagemaker_parameters_as_aws, refuse_dynamodb_requests_as_aws, refuse_dynamodb_item_growth_as_aws, refuse_missing_principals_as_aws, deliver_fair_queues_as_aws, answer_rds_account_attributes, refuse_rds_snapshots_past_quota, rds_security_groups_as_cloudformation), apart from the CPU patches
VERIFY = os.environ.get("TESSERA_MOTO_VERIFY") == "1"
_bypass = threading.local()  # VERIFY: moto's own code on this thread while set
VERIFIED = {"answers": 0, "clock": 0, "hosts": 0, "rollbacks": 0, "kmsKeys": 0, "listings": 0, "resetRebuilds": 0, "cognitoKeys": 0}  # VERIFY: comparisons made (each equal, or PatchMismatch)
NAME_MEMOS: dict[tuple, dict] = {}  # patch_serializer_value_lookup: per tuple of alias providers


def _count(kind: str) -> None:
    """VERIFY: one more comparison (tessera_moto_verify.count)."""
    count(VERIFIED, kind, "counts")


def _verify_failed(name: str, ours: Any, theirs: Any) -> None:
    verify_failed(name, ours, theirs)


def _bounded(memo: dict, limit: int) -> dict:
    """A memo that outgrew `limit` entries starts again (keys are model objects and names, so a
    real run stays far below; this only bounds memory if something unexpected keys it)."""
    if len(memo) > limit:
        memo.clear()
    return memo


def patch_serializer_value_lookup() -> None:
    """moto's response serializer (moto/core/serialize.py) finds the value of every member of every
    output structure through `ResponseSerializer.get_value`: it builds an `AttributePickerContext`
    (with `".".join(self.path)`), and `XFormedAttributePicker` then instantiates each of the six
    alias providers (ExplicitAlias, ShapeNameAlias, NoAlias, ShapePrefixAlias, ClassPrefixAlias,
    ModelAlias) to list the attribute names to try (each alias and its `xform_name`), and tries them
    in order with `get_value` until one is present. A DynamoDB item answer does this for each of the
    ten members of `AttributeValue` for every attribute: about half of moto's CPU for a DynamoDB
    request in the lifecycle suites.

    The list of names depends only on: the member name (`key`), the member's shape object, that
    shape's `parent` (set by `_serialize_type_structure` just before), the value's class (its name,
    for ClassPrefixAlias) and the value's `Meta.serialization_aliases` (ExplicitAlias). This patch
    memoizes the list per (key, shape, parent, class), computed by moto's own
    `XFormedAttributePicker.get_possible_keys`, for values without a `Meta` attribute (those still
    go through moto's code, as does any picker other than moto's default XFormedAttributePicker with
    the default providers), then tries the names in the same order with moto's `get_value` (for a
    plain `dict`, `dict.get`, which is what moto's `obj[key]` with KeyError caught returns) and
    applies the service's response transformers exactly as `AttributePicker.__call__` does (the key
    path is built only when the service has transformers). Shapes come from moto's cached service
    models, so the memo holds a few thousand entries; keyed on the shape objects themselves (no id
    reuse).
    """
    from moto.core import serialize
    from moto.core.utils import MISSING, get_value

    original = serialize.ResponseSerializer.get_value
    picker_cls = serialize.XFormedAttributePicker
    default_providers = serialize.DEFAULT_ALIAS_PROVIDERS
    context_cls = serialize.AttributePickerContext
    no_parent = object()
    memos = NAME_MEMOS

    def possible_keys(picker: Any, memo: dict, value: Any, key: str, shape: Any) -> tuple | None:
        cls = value.__class__
        if cls is not dict and hasattr(value, "Meta"):
            return None
        parent = getattr(shape, "parent", no_parent)
        memo_key = (key, shape, parent, cls)
        names = memo.get(memo_key)
        if names is None:
            try:
                context = context_cls(obj=value, key=key, shape=shape)
                names = tuple((name, isinstance(name, str) and "." not in name) for name in picker.get_possible_keys(context))
            except Exception:
                return None
            _bounded(memo, 50_000)[memo_key] = names
        return names

    def get_value_patched(self: Any, value: Any, key: str, shape: Any) -> Any:
        picker = self._value_picker
        if type(picker) is not picker_cls or getattr(_bypass, "on", False):
            return original(self, value, key, shape)
        # The providers are read once per serializer (moto builds a serializer and its picker per
        # answer and never changes their providers); the memo is per list of providers.
        memo = self.__dict__.get("_tessera_names_memo")
        if memo is None:
            providers = tuple(picker.alias_providers)
            memo = self.__dict__["_tessera_names_memo"] = memos.setdefault(providers, {}) if providers == tuple(default_providers) else False
        if memo is False:
            return original(self, value, key, shape)
        names = possible_keys(picker, memo, value, key, shape)
        if names is None:
            return original(self, value, key, shape)
        found = None
        if value.__class__ is dict:
            for name, plain in names:
                found = value.get(name, MISSING) if plain else get_value(value, name, MISSING)
                if found is not MISSING:
                    break
            else:
                found = None
        else:
            for name, _ in names:
                found = get_value(value, name, MISSING)
                if found is not MISSING:
                    break
            else:
                found = None
        transformers = picker.response_transformers
        if transformers:
            key_path = f"{'.'.join(self.path)}.{key}"
            for transform_path, transform in transformers.items():
                if key_path.endswith(transform_path):
                    found = transform(found)
                    break
        return found

    serialize.ResponseSerializer.get_value = get_value_patched
    if VERIFY:
        _verify_serializer(serialize)


_CLOCK = re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?|\b1[6-9]\d{8}(?:\d{3}|\.\d+)?\b")


def _same_but_clock(ours: Any, theirs: Any, again: Any) -> bool:
    """`ours` equals moto's answer except in timestamps that moto's own code does not reproduce
    either (a value read from the clock while serializing, e.g. RDS `LatestRestorableTime`):
    status and headers equal, the body equal outside timestamps, and each timestamp equal to
    moto's first or second answer, or one where those two differ."""
    if ours["status_code"] != theirs["status_code"] or ours["headers"] != theirs["headers"]:
        return False
    bodies = [b if isinstance(b, str) else b.decode("latin-1") for b in (ours["body"], theirs["body"], again["body"])]
    if len({len(_CLOCK.findall(b)) for b in bodies}) != 1 or len({"\0".join(_CLOCK.split(b)) for b in bodies}) != 1:
        return False
    for mine, first, second in zip(*(_CLOCK.findall(b) for b in bodies)):
        if mine != first and mine != second and first == second:
            return False
    return True


def _verify_serializer(serialize: Any) -> None:
    """TESSERA_MOTO_VERIFY=1: every `serialize()` runs twice, moto's own code first, and the two
    answers (status, headers, body) must be equal. If they differ, moto's code runs once more: an
    answer equal to that one, or differing only in timestamps moto's own two answers do not agree
    on (values taken from the clock during serialization), counts as equal (`clock`). Event-stream
    answers (a one-shot iterator) are serialized once."""
    original_serialize = serialize.ResponseSerializer.serialize

    def theirs_of(self: Any, result: Any) -> Any:
        _bypass.on = True
        try:
            return original_serialize(self, result)
        finally:
            _bypass.on = False

    def serialize_checked(self: Any, result: Any) -> Any:
        if self.operation_model.has_event_stream_output and not self._is_error_result(result):
            return original_serialize(self, result)
        theirs = theirs_of(self, result)
        ours = original_serialize(self, result)
        _count("answers")
        if ours != theirs:
            again = theirs_of(self, result)
            if ours != again:
                if not _same_but_clock(ours, theirs, again):
                    _verify_failed(f"serialize {self.operation_model.name}", ours, theirs)
                _count("clock")
        return ours

    serialize.ResponseSerializer.serialize = serialize_checked


def patch_backend_for_host() -> None:
    """moto's server finds the backend of every request with
    `DomainDispatcherApplication.get_backend_for_host(host)` (moto/moto_server/werkzeug_app.py),
    which first checks `host in backends.list_of_moto_modules()`: a generator that lists moto's
    package directory and calls `os.path.isdir` on each of its ~150 entries, so about 150 `stat`
    calls per request for a host like `dynamodb.us-east-1.amazonaws.com` (not a module name), then
    matches the URL patterns of moto's backend index. The answer depends on the host, the
    directories of the installed moto package (fixed while the server runs: its modules are
    imported from there) and `self.backend_url_patterns` (set in `__init__` from moto's backend
    index). This patch remembers the backend found per host on each dispatcher; a host with no
    backend (None: moto prints a hint) is asked of moto's code every time.
    """
    from moto.moto_server import werkzeug_app

    dispatcher = werkzeug_app.DomainDispatcherApplication
    original = dispatcher.get_backend_for_host

    def get_backend_for_host_patched(self: Any, host: Any) -> Any:
        if getattr(_bypass, "on", False):
            return original(self, host)
        memo = self.__dict__.get("_tessera_backend_for_host")
        if memo is None:
            memo = self.__dict__["_tessera_backend_for_host"] = {}
        found = memo.get(host)
        if found is None:
            found = original(self, host)
            if found is not None:
                _bounded(memo, 10_000)[host] = found
        elif VERIFY:
            _bypass.on = True
            try:
                theirs = original(self, host)
            finally:
                _bypass.on = False
            _count("hosts")
            if theirs != found:
                _verify_failed(f"get_backend_for_host {host}", found, theirs)
        return found

    dispatcher.get_backend_for_host = get_backend_for_host_patched


_dynamodb_copy = threading.local()  # the two DynamoDB patches' state for the call in progress on this thread


def _dynamodb_copy_stand_in() -> Any:
    """Puts a stand-in for the `copy` module into moto.dynamodb.models (once) and returns it: the same
    functions, except `deepcopy` with no memo of
    - a table of the transaction in progress on this thread (patch_transact_rollback_copy): copied
      with the shared entries pre-entered in the memo;
    - an Item while `update_item` runs on a table without a stream (patch_update_item_stream_copy):
      the item itself.
    Only models/__init__.py calls `copy` through this name (its two `copy.deepcopy` calls: the
    transaction's tables, update_item's `orig_item`); other modules keep the real `copy`."""
    import copy as copy_module

    from moto.dynamodb import models
    from moto.dynamodb.models.dynamo_type import Item

    if isinstance(models.copy, type(copy_module)):

        class CopyModule:
            def __getattr__(self, name: str) -> Any:
                return getattr(copy_module, name)

            @staticmethod
            def deepcopy(x: Any, memo: Any = None, _nil: Any = []) -> Any:  # noqa: B006 (copy.deepcopy's own signature)
                if memo is None:
                    shared = getattr(_dynamodb_copy, "tables", None)
                    if shared:
                        entry = shared.get(id(x))
                        if entry is not None and entry[0] is x:
                            return copy_module.deepcopy(x, dict(entry[1]))
                    if getattr(_dynamodb_copy, "no_stream_update", False) and type(x) is Item:
                        return x
                return copy_module.deepcopy(x, memo, _nil)

        models.copy = CopyModule()
    return models.copy


def patch_transact_rollback_copy() -> None:
    """moto's DynamoDB `transact_write_items` (moto/dynamodb/models/__init__.py) first takes a
    `copy.deepcopy` of every table an operation names (a rollback copy, installed in place of the
    table if the transaction is cancelled, discarded otherwise): every item of the table, each
    attribute a DynamoType, on every transaction. With the registry, slot and usage tables of the
    suites that is most of a transaction's CPU (9 ms on average in identity-limits-dynamodb).

    The operations of a transaction reach items only through the table's `items` dict, keyed by the
    hash key's DynamoType (Put: the item's hash key attribute; Update, Delete, ConditionCheck: the
    `Key`'s; moto's lookups are `items[DynamoType(...)]`, so by DynamoType equality), and only
    Update changes an item in place (Put replaces the dict entry, Delete pops it). This patch
    computes, read-only, the set of hash keys each table's operations name (tables resolved as
    moto's `get_table` does, by name or ARN) and makes moto's rollback copy share, instead of
    copying, the entries of the `items` dict whose hash key is not among them (the key object and
    the Item, or for a table with a range key the dict of its items): `copy.deepcopy(table, memo)`
    with those objects pre-entered in the memo, through a stand-in for the `copy` module in moto's
    module that does this only for the tables of the transaction in progress on this thread.
    Everything else in the copy is copied as before. The rollback copy therefore holds equal values
    (the shared entries are objects no operation of the transaction can reach), and the only
    other holder of the shared objects is the replaced table, which nothing references once it is
    replaced; tables with a stream (whose shard holds the table) and transactions whose keys cannot
    be read (malformed, a missing key attribute: moto's own code raises its error) take moto's full
    copy.
    """
    import copy as copy_module

    from moto.dynamodb import models
    from moto.dynamodb.models.dynamo_type import DynamoType

    backend_cls = models.DynamoDBBackend
    original = backend_cls.transact_write_items
    def untouched_entries(self: Any, transact_items: Any) -> dict | None:
        named: dict[int, tuple[Any, set]] = {}
        for item in transact_items:
            if not isinstance(item, dict) or len(item) != 1:
                return None
            op_type, op = next(iter(item.items()))
            if op_type not in ("ConditionCheck", "Put", "Delete", "Update") or not isinstance(op, dict):
                return None
            table = self.get_table(op["TableName"])
            if table.stream_shard is not None:
                return None
            source = op["Item"] if op_type == "Put" else op["Key"]
            hash_value = DynamoType(source[table.hash_key_attr])
            named.setdefault(id(table), (table, set()))[1].add(hash_value)
        shared = {}
        for table_id, (table, hashes) in named.items():
            entries = {}
            for hash_key, entry in dict.items(table.items):
                if hash_key not in hashes:
                    entries[id(hash_key)] = hash_key
                    entries[id(entry)] = entry
            shared[table_id] = (table, entries)
        return shared

    def transact_write_items_patched(self: Any, transact_items: Any) -> Any:
        if getattr(_bypass, "on", False):
            return original(self, transact_items)
        try:
            shared = untouched_entries(self, transact_items)
        except Exception:
            shared = None
        if not shared:
            return original(self, transact_items)
        full = {name: (table, copy_module.deepcopy(table)) for name, table in self.tables.items() if id(table) in shared} if VERIFY else {}
        _dynamodb_copy.tables = shared
        try:
            return original(self, transact_items)
        finally:
            _dynamodb_copy.tables = None
            for name, (table, copied) in full.items():
                restored = self.tables.get(name)
                if restored is not table and restored is not None:  # rolled back: moto's full copy holds the same items
                    _count("rollbacks")
                    if dict(restored.items) != dict(copied.items):
                        _verify_failed(f"transact_write_items rollback of {name}", dict(restored.items), dict(copied.items))

    _dynamodb_copy_stand_in()
    backend_cls.transact_write_items = transact_write_items_patched


def patch_update_item_stream_copy() -> None:
    """moto's DynamoDB `update_item` (moto/dynamodb/models/__init__.py) starts with
    `orig_item = copy.deepcopy(item)` (the whole item, every attribute a DynamoType) and reads
    `orig_item` in one place only: `if table.stream_shard is not None: table.stream_shard.add(orig_item,
    item)`, the stream record's old image. On a table without a stream the copy is never read. This
    patch makes that `copy.deepcopy` return the item itself while `update_item` runs on a table whose
    `stream_shard` is None (checked before the call, by moto's own `get_table`; update_item does not
    change a table's stream); with a stream, or a table that cannot be found (moto raises its error),
    moto's code runs unchanged. Nothing else in update_item deep-copies through this module.
    Saves one deep copy of the item per UpdateItem and per Update of a transaction (the tenant
    record in the lifecycle suites: tens of attributes with nested maps).
    """
    from moto.dynamodb import models

    backend_cls = models.DynamoDBBackend
    original = backend_cls.update_item

    def update_item_patched(self: Any, table_name: Any, *args: Any, **kwargs: Any) -> Any:
        if getattr(_bypass, "on", False):
            return original(self, table_name, *args, **kwargs)
        try:
            no_stream = self.get_table(table_name).stream_shard is None
        except Exception:
            no_stream = False
        previous = getattr(_dynamodb_copy, "no_stream_update", False)
        _dynamodb_copy.no_stream_update = no_stream
        try:
            return original(self, table_name, *args, **kwargs)
        finally:
            _dynamodb_copy.no_stream_update = previous

    _dynamodb_copy_stand_in()
    backend_cls.update_item = update_item_patched


def patch_kms_lazy_private_key() -> None:
    """moto's KMS `Key.__init__` (moto/kms/models.py) generates the key's asymmetric private key
    (`generate_private_key(key_spec)`, moto/kms/utils.py: an RSA-2048 key for SYMMETRIC_DEFAULT,
    HMAC and RSA_2048 keys, RSA-3072/4096 or an EC key for those specs) for every key it creates,
    although only Sign, Verify and GetPublicKey read it (`key.private_key`, models.py; the
    dashboard's data.json reads every attribute, and leaves this one out: not JSON). An RSA-2048
    key costs 20-100 ms of CPU; every tenant blueprint creates KMS keys and nothing in the suites
    signs with them (6.7% of moto's CPU in lifecycle.test.ts).

    This patch creates the same key on the first read of `private_key` instead: the class gets a
    descriptor that calls moto's `generate_private_key(self.key_spec)` (key_spec is set in
    `__init__` and never changed by moto), under a lock (two threads of a threaded server reading
    it first at once get the same key), and stores it in the instance's `__dict__`, where every
    later read finds it, as before. Generation reads OpenSSL's random source only, never moto's
    (`mock_random`), so the ids moto draws after it are the same. `replicate_key` shallow-copies the
    key (`copy`: the replica shares the primary's private key object); the patch reads the
    primary's key first, so the replica shares it as before.
    With `TESSERA_MOTO_VERIFY=1` each key generated is checked to be of the class and size (RSA
    modulus bits, EC curve) moto's own call gives for the key's spec.
    """
    import threading as threading_module

    from moto.kms import models, utils

    key_cls = models.Key
    generate = utils.generate_private_key
    absent = object()
    lock = threading_module.Lock()

    def shape_of(private_key: Any) -> tuple:
        inner = private_key.private_key
        curve = getattr(inner, "curve", None)
        return (type(private_key).__name__, inner.key_size, getattr(curve, "name", None))

    class LazyPrivateKey:
        def __get__(self, key: Any, owner: Any = None) -> Any:
            if key is None:
                return self
            with lock:
                found = key.__dict__.get("private_key", absent)
                if found is absent:
                    found = key.__dict__["private_key"] = generate(key.key_spec)
                    if VERIFY:
                        _count("kmsKeys")
                        theirs = generate(key.key_spec)
                        if shape_of(found) != shape_of(theirs):
                            _verify_failed(f"kms private key of {key.key_spec}", shape_of(found), shape_of(theirs))
            return found

    original_init = key_cls.__init__
    original_replicate = models.KmsBackend.replicate_key

    def init_patched(self: Any, *args: Any, **kwargs: Any) -> None:
        if getattr(_bypass, "on", False):
            return original_init(self, *args, **kwargs)
        deferred.on = True
        try:
            original_init(self, *args, **kwargs)
        finally:
            deferred.on = False
        if self.__dict__.get("private_key", absent) is _DEFERRED:
            del self.__dict__["private_key"]

    def generate_in_models(key_spec: str) -> Any:
        return _DEFERRED if getattr(deferred, "on", False) else generate(key_spec)

    def replicate_key_patched(self: Any, key_id: str, replica_region: str) -> Any:
        key = self.keys.get(key_id)
        if key is not None:
            key.private_key  # noqa: B018 - generated now, so that the replica shares it
        return original_replicate(self, key_id, replica_region)

    deferred = threading_module.local()
    models.generate_private_key = generate_in_models
    key_cls.__init__ = init_patched
    key_cls.private_key = LazyPrivateKey()
    models.KmsBackend.replicate_key = replicate_key_patched


_DEFERRED = object()  # patch_kms_lazy_private_key: the value __init__ stores, removed before anyone reads it


_s3_listing = threading.local()  # patch_s3_listing_copies: on while list_object_versions runs on this thread


def _listed_class(base: type) -> type:
    """A class whose instances stand for one stored `base` (FakeKey or FakeDeleteMarker) in a listing:
    `base`'s properties, evaluated on the stand-in; any other attribute read from the stored object;
    attributes set on the stand-in (moto's `is_latest`, FakeKey.etag's cache) its own; and
    `isinstance(x, base)` true (``__class__``). Not a subclass of `base`: moto's BaseModel would track
    every instance and register the class as a model (/moto-api/data.json)."""
    namespace: dict[str, Any] = {name: value for name, value in vars(base).items() if isinstance(value, property)}

    def __getattr__(self: Any, name: str) -> Any:  # noqa: N807
        return getattr(self.__dict__["stored"], name)

    namespace["__getattr__"] = __getattr__
    namespace["__class__"] = property(lambda self: base)
    namespace["__doc__"] = f"A stored {base.__name__} as ListObjectVersions lists it (patch_s3_listing_copies)."
    return type(f"Listed{base.__name__}", (), namespace)


def patch_cognito_pool_key_once() -> None:
    """moto's `CognitoIdpUserPool.__init__` (moto/cognitoidp/models.py) reads moto's one private JWK
    (`load_resource("cognitoidp/resources/jwks-private.json")`) and imports it
    (`jwk.RSAKey.import_key`) for every user pool it creates: the same key for every pool of every
    account (jwks-public.json, what a pool's /.well-known/jwks.json serves, is its public half). The
    file holds n, e and d only, so each import recovers the primes (`rsa_recover_prime_factors`) and
    builds the private key: ~80 ms of CPU a pool (doctor-moto.test.ts creates 17).

    This patch imports each distinct key document once per process (memo keyed on its JSON with
    sorted keys, under a lock) and gives every pool that key object. joserfc's `RSAKey` is not
    changed by use (the pool signs its tokens with `jwt.encode(headers, payload, key)`, which reads
    it), so pools sharing one sign exactly as pools holding copies. Only the `jwk` name of moto's
    cognitoidp models module is replaced (by a stand-in whose `RSAKey.import_key` is memoized and
    whose other attributes are joserfc's `jwk` module's).
    With `TESSERA_MOTO_VERIFY=1` each memoized answer is compared with a fresh import
    (`as_dict(private=True)`: the same key).
    """
    from joserfc import jwk as joserfc_jwk

    from moto.cognitoidp import models

    memo: dict[str, Any] = {}
    lock = threading.Lock()
    rsa_key = joserfc_jwk.RSAKey

    class RSAKeyOnce:
        @staticmethod
        def import_key(data: Any, *args: Any, **kwargs: Any) -> Any:
            if args or kwargs or not isinstance(data, dict) or getattr(_bypass, "on", False):
                return rsa_key.import_key(data, *args, **kwargs)
            key = json.dumps(data, sort_keys=True)
            with lock:
                found = memo.get(key)
                if found is None:
                    found = memo[key] = rsa_key.import_key(data)
            if VERIFY:
                _count("cognitoKeys")
                theirs = rsa_key.import_key(data).as_dict(private=True)
                if found.as_dict(private=True) != theirs:
                    _verify_failed("cognito pool key", found.as_dict(private=True), theirs)
            return found

        def __getattr__(self, name: str) -> Any:
            return getattr(rsa_key, name)

    class JwkOnce:
        RSAKey = RSAKeyOnce()

        def __getattr__(self, name: str) -> Any:
            return getattr(joserfc_jwk, name)

    models.jwk = JwkOnce()


def patch_reset_drops_backends() -> None:
    """moto's `BackendDict.reset` (moto/core/base_backend.py; what POST /moto-api/reset and the end
    of a `mock_aws` run call) calls `reset()` on every region's backend of every service in use,
    then clears every BackendDict: the next request of a service builds its backends afresh. Each
    backend's `reset()` (`BaseBackend.reset`: `self.__dict__ = {}`, then `self.__init__(region,
    account)`; S3's and Batch's first dispose of their files and threads, then call it) builds the
    whole backend again, and the dict drops it right after. For EC2 that is the default VPC, its
    subnets and ~1,300 AMIs with a volume and a snapshot each, per account and region: 26% of moto's
    CPU in doctor-moto.test.ts, whose 17 resets rebuilt 37 EC2 backends nobody read again.

    This patch makes that rebuild wait for its first reader: inside `BackendDict.reset` only,
    `BaseBackend.reset` empties the backend's `__dict__` (as moto's does) and gives the instance a
    subclass of its own class whose attribute get, set and delete first put the class back and run
    `__init__(region, account)` (under a lock), then do what was asked. A backend that someone still
    holds and touches is therefore the one moto's reset made, built when touched instead of at the
    reset; one nobody touches (in the suites: every one, see `VERIFIED["resetRebuilds"]`) is never
    built. What a reset disposes of (S3's files, Batch's jobs) is disposed of as before. Classes with
    their own `__getattribute__`, `__getattr__`, `__setattr__` or `__delattr__` are reset as moto
    does. Not kept: the random ids a rebuild would draw from moto's `mock_random` at the reset (a
    server's ids are random either way; a seeded recording draws them when the backend is built).
    """
    from moto.core.base_backend import BackendDict, BaseBackend

    original_reset = BaseBackend.reset
    original_dict_reset = BackendDict.reset.__func__  # type: ignore[attr-defined]
    dropping = threading.local()
    lock = threading.RLock()
    lazy_classes: dict[type, type] = {}
    plain = (object.__getattribute__, object.__setattr__, object.__delattr__)

    def rebuild(backend: Any, cls: type) -> None:
        with lock:
            state = object.__getattribute__(backend, "__dict__")
            args = state.pop(_RESET_ARGS, None)
            if args is None:  # rebuilt by another thread meanwhile
                return
            object.__setattr__(backend, "__class__", cls)
            if VERIFY:
                _count("resetRebuilds")
            cls.__init__(backend, *args)

    def lazy_class(cls: type) -> type:
        found = lazy_classes.get(cls)
        if found is None:

            def get(self: Any, name: str) -> Any:
                rebuild(self, cls)
                return getattr(self, name)

            def set_(self: Any, name: str, value: Any) -> None:
                rebuild(self, cls)
                setattr(self, name, value)

            def delete(self: Any, name: str) -> None:
                rebuild(self, cls)
                delattr(self, name)

            found = lazy_classes[cls] = type(cls.__name__, (cls,), {"__getattribute__": get, "__setattr__": set_, "__delattr__": delete, "__module__": cls.__module__, "__qualname__": cls.__qualname__})
        return found

    def reset_patched(self: Any) -> None:
        cls = type(self)
        if not getattr(dropping, "on", False) or getattr(_bypass, "on", False) or (cls.__getattribute__, cls.__setattr__, cls.__delattr__) != plain or hasattr(cls, "__getattr__"):
            return original_reset(self)
        region_name = self.region_name
        account_id = self.account_id
        self.__dict__ = {_RESET_ARGS: (region_name, account_id)}
        self.__class__ = lazy_class(cls)

    def dict_reset_patched(cls: Any) -> None:
        dropping.on = True
        try:
            original_dict_reset(cls)
        finally:
            dropping.on = False

    BaseBackend.reset = reset_patched  # type: ignore[method-assign]
    BackendDict.reset = classmethod(dict_reset_patched)  # type: ignore[method-assign,assignment]


_RESET_ARGS = "_tessera_reset_args"  # patch_reset_drops_backends: (region, account) of a backend not rebuilt yet


def patch_s3_listing_copies() -> None:
    """moto's S3 `list_object_versions` (moto/s3/models.py S3Backend) starts with
    `copy.deepcopy(version_key)` of the version list of every key in the bucket, whatever the page,
    prefix or marker asked for: each FakeKey copied with its value (`__getstate__` reads the whole
    value, `__setstate__` writes it into a new SpooledTemporaryFile, on disk past moto's 8 MB buffer)
    and its multipart's parts, each delete marker with the key it marks. The copies exist so that the
    listing can set `is_latest` on them without touching the stored versions; the listing reads, from
    each, `name`, `last_modified`, `version_id`, `is_latest` and `isinstance(version, FakeKey)`, and
    S3Response.list_object_versions (its only caller) `name`, `version_id`, `is_latest`,
    `last_modified_ISO8601`, `etag`, `size`, `storage_class`. In offboarding-export (1,000 objects,
    their versions and delete markers, a 50 MB object in parts) each ListObjectVersions page copied
    the whole bucket, 50 MB included.

    While `list_object_versions` runs on this thread, `copy.deepcopy` in moto.s3.models (a stand-in
    for the module there: that call is the only `copy.deepcopy` the listing makes) returns, for a
    list, a list of stand-ins (`_listed_class`): each reads the stored version's attributes and
    evaluates FakeKey's or FakeDeleteMarker's properties on itself, so `is_latest`, and `etag`'s cache
    when a version has none yet, are set on the stand-in as they were on the copy; everything read
    has the value the copy had (the copy was taken at the start of the same call). `TESSERA_MOTO_VERIFY=1`
    runs moto's own listing as well and compares every field the response reads.

    One difference, outside the S3 API: moto's copies were model instances (BaseModel tracks every
    instance until reset), so /moto-api/data.json listed them as FakeKeys and kept them, values
    included, until reset; the stand-ins are not tracked.
    """
    import copy as copy_module

    from moto.s3 import models

    listed = {models.FakeKey: _listed_class(models.FakeKey), models.FakeDeleteMarker: _listed_class(models.FakeDeleteMarker)}

    def etag(self: Any) -> str:
        """FakeKey.etag on the stand-in: the stored `_etag`, or (none yet) the MD5 of the value, kept
        on the stand-in as moto kept it on its copy; the value read under the stored key's lock (moto's
        copy had a buffer of its own; the stored buffer may be read by another request meanwhile)."""
        if self._etag is None:
            self._etag = models.md5_hash(self.stored.value).hexdigest()
        return f'"{self._etag}"'

    listed[models.FakeKey].etag = property(etag)

    def stand_in(stored: Any) -> Any:
        cls = listed.get(type(stored))
        if cls is None:  # a subclass or anything else: moto's copy
            return copy_module.deepcopy(stored)
        instance = object.__new__(cls)
        instance.__dict__["stored"] = stored
        return instance

    class CopyModule:
        """moto.s3.models' `copy`: the real module's functions, and `deepcopy` of a version list
        while list_object_versions runs on this thread (patch_s3_listing_copies)."""

        copy = staticmethod(copy_module.copy)

        def __getattr__(self, name: str) -> Any:
            return getattr(copy_module, name)

        @staticmethod
        def deepcopy(x: Any, memo: Any = None, _nil: Any = []) -> Any:  # noqa: B006 (copy.deepcopy's own signature)
            if memo is None and type(x) is list and getattr(_s3_listing, "on", False):
                return [stand_in(v) for v in x]
            return copy_module.deepcopy(x, memo, _nil)

    if isinstance(models.copy, type(copy_module)):
        models.copy = CopyModule()
    backend_cls = models.S3Backend
    original = backend_cls.list_object_versions

    def fields(result: Any) -> Any:
        versions, prefixes, markers, next_key, next_version = result
        key = lambda v: (v.__class__.__name__, v.name, v.version_id, getattr(v, "is_latest", False), v.last_modified_ISO8601, v.last_modified)  # noqa: E731
        return (
            [key(v) + (v.etag, v.size, v.storage_class) for v in versions],
            sorted(prefixes),
            [key(m) for m in markers],
            next_key,
            next_version,
        )

    def list_object_versions_patched(self: Any, *args: Any, **kwargs: Any) -> Any:
        if getattr(_bypass, "on", False):
            return original(self, *args, **kwargs)
        _s3_listing.on = True
        try:
            ours = original(self, *args, **kwargs)
        finally:
            _s3_listing.on = False
        if VERIFY:
            _bypass.on = True
            try:
                theirs = original(self, *args, **kwargs)
            finally:
                _bypass.on = False
            _count("listings")
            if fields(ours) != fields(theirs):
                _verify_failed("s3 list_object_versions", fields(ours), fields(theirs))
        return ours

    list_object_versions_patched.__wrapped__ = original  # type: ignore[attr-defined]
    backend_cls.list_object_versions = list_object_versions_patched


PATCHES = (patch_serializer_value_lookup, patch_backend_for_host, patch_transact_rollback_copy, patch_update_item_stream_copy, patch_kms_lazy_private_key, patch_s3_listing_copies, patch_reset_drops_backends, patch_cognito_pool_key_once)

NOT_IMPLEMENTED = re.compile(r"^The \w+ action has not been implemented$")


def answer_not_implemented() -> None:
    """An action moto does not implement (`BaseResponse.call_action` raises `NotImplementedError(
    "The <action> action has not been implemented")`; moto 5.2.5: RDS DescribeAccountAttributes (answered since
    answer_rds_account_attributes), Service Quotas' GetAWSDefaultServiceQuota, ListServiceQuotas, ListAWSDefaultServiceQuotas, which
    the lifecycle's quota check calls) reaches Flask as an exception: moto logs its traceback and
    answers a 500 HTML page. The AWS SDK takes a 500 for a transient failure and sends the request
    twice more, with backoff (`attempts: 3` on the error): in lifecycle.test.ts about 1,000 of its
    6,300 requests were these retries, each costing moto a traceback. AWS implements these actions;
    nothing in moto will ever answer them, so a retry is pure waste.

    With `TESSERA_MOTO_NOT_IMPLEMENTED_STATUS=501` in the server's environment (read per request:
    a zygote-forked server gets its environment after import) such an answer is HTTP 501 Not
    Implemented with the exception's message as a plain-text body, which the SDK does not retry (a
    server error, not a transient one) and cannot parse, as it could not parse the HTML page: the
    caller sees a deserialization error once instead of three times. Any other exception, and every
    answer without the variable, is moto's own.
    """
    from moto.core import utils

    original = utils.convert_to_flask_response.__call__

    def call_patched(self: Any, args: Any = None, **kwargs: Any) -> Any:
        try:
            return original(self, args, **kwargs)
        except NotImplementedError as e:
            if os.environ.get("TESSERA_MOTO_NOT_IMPLEMENTED_STATUS") != "501" or not NOT_IMPLEMENTED.match(str(e)):
                raise
            from flask import Response

            return Response(str(e), status=501, content_type="text/plain")

    call_patched.__wrapped__ = original  # type: ignore[attr-defined]
    utils.convert_to_flask_response.__call__ = call_patched


CLOSING_STATES = ("PENDING_CLOSURE", "CLOSED")  # close_account_as_aws: State of an account closed or closing


def close_account_as_aws() -> None:
    """Organizations' CloseAccount as AWS answers it (AWS Organizations API Reference, CloseAccount and
    the Account data type; Organizations User Guide, "Monitor the state of your AWS accounts").

    moto 5.2.5 (`FakeAccount.close`, moto/organizations/models.py; its own TODO says AWS passes
    through PENDING_CLOSURE) sets both `State` and `Status` to SUSPENDED at once. In AWS `State`
    SUSPENDED is an account AWS restricted, not one closed: an account whose closure was requested
    is `State` PENDING_CLOSURE (CLOSED once AWS finished, for the 90 days it stays listed), and the
    older `Status` field is PENDING_CLOSURE while the request is in progress, SUSPENDED once closed.
    Code that reads `State` (lambdas/lifecycle/account-closure.ts) took moto's closed account for a
    suspended one.

    After this patch, CloseAccount leaves the account `State` PENDING_CLOSURE and `Status`
    PENDING_CLOSURE (what DescribeAccount, ListAccounts and ListAccountsForParent answer in the
    minutes after a CloseAccount; moto has no clock to move it on to CLOSED/SUSPENDED), and a
    CloseAccount of an account already closing or closed (`State` PENDING_CLOSURE or CLOSED, or moto's
    own `Status` SUSPENDED) answers AccountAlreadyClosedException, as AWS does (moto 5.2.5 checks
    `Status` SUSPENDED only, so an account closing would be closed again). Everything else of moto's
    Organizations is unchanged. Not a CPU patch: an answer changed on purpose (`CHANGED`), tested in
    test/integration/moto-aws-answers.test.ts.
    """
    from moto.organizations import models
    from moto.organizations.exceptions import AccountAlreadyClosedException

    account_cls = models.FakeAccount
    original = account_cls.close

    def close_patched(self: Any) -> None:
        if self.state in CLOSING_STATES or self.status in ("PENDING_CLOSURE", "SUSPENDED"):
            raise AccountAlreadyClosedException
        self.state = "PENDING_CLOSURE"
        self.status = "PENDING_CLOSURE"

    close_patched.__wrapped__ = original  # type: ignore[attr-defined]
    account_cls.close = close_patched


LAMBDA_DEFAULT_CONCURRENCY = 1000  # answer_lambda_account_settings: AWS Lambda's default "Concurrent executions" quota per Region


def answer_lambda_account_settings() -> None:
    """Lambda's GetAccountSettings (`GET /2016-08-19/account-settings/`; AWS Lambda API Reference,
    GetAccountSettings and AccountLimit), which moto 5.2.5 does not route: the request reaches no
    view and moto answers 404, so `tessera doctor`'s `lambda-concurrency` line could not be read.

    After this patch, the Lambda backend of the request's account and Region answers it from the
    same model moto's own `put_function_concurrency` enforces: `ConcurrentExecutions` is
    `MOTO_LAMBDA_CONCURRENCY_QUOTA` when the server's environment sets it (read per request), else
    AWS's default of 1000, and `UnreservedConcurrentExecutions` is that minus the
    `ReservedConcurrentExecutions` of every function (latest versions, as moto sums them). The code
    size limits are AWS's documented ones (75 GB total, 250 MB unzipped, 50 MB zipped), and
    `AccountUsage` counts the functions (their code size is not summed: 0). Nothing else of moto's
    Lambda is changed. Not a CPU patch: an answer added on purpose (`CHANGED`), tested in
    test/integration/moto-aws-answers.test.ts.
    """
    import json
    from moto.awslambda import urls
    from moto.awslambda.responses import LambdaResponse

    urls.url_paths[r"{0}/(?P<api_version>[^/]+)/account-settings/?$"] = LambdaResponse.dispatch

    def get_account_settings(self: Any) -> Any:
        quota = int(os.environ.get("MOTO_LAMBDA_CONCURRENCY_QUOTA") or LAMBDA_DEFAULT_CONCURRENCY)
        functions = list(self.backend.list_functions())
        reserved = sum(int(f.reserved_concurrency) for f in functions if f.reserved_concurrency)
        return 200, {}, json.dumps({
            "AccountLimit": {
                "TotalCodeSize": 80530636800, "CodeSizeUnzipped": 262144000, "CodeSizeZipped": 52428800,
                "ConcurrentExecutions": quota, "UnreservedConcurrentExecutions": quota - reserved,
            },
            "AccountUsage": {"TotalCodeSize": 0, "FunctionCount": len(functions)},
        })

    LambdaResponse.get_account_settings = get_account_settings


# answer_account_regions: the opt-in regions of the aws partition (lib/config/region.ts CDK_OPT_IN_REGIONS), DISABLED in an
# account until enabled; every other region is ENABLED_BY_DEFAULT.
OPT_IN_REGIONS = frozenset((
    "af-south-1", "ap-east-1", "ap-east-2", "ap-south-2", "ap-southeast-3", "ap-southeast-4", "ap-southeast-5", "ap-southeast-6",
    "ap-southeast-7", "ca-west-1", "eu-central-2", "eu-south-1", "eu-south-2", "il-central-1", "me-central-1", "me-south-1",
    "me-west-1", "mx-central-1",
))
ENABLING_POLLS = 2  # answer_account_regions: GetRegionOptStatus answers ENABLING this many times after an EnableRegion, then ENABLED


def answer_account_regions() -> None:
    """The Account Management API's EnableRegion, DisableRegion and GetRegionOptStatus (AWS Account Management API
    Reference: EnableRegion, GetRegionOptStatus, RegionOptStatus), which moto 5.2.5 does not implement
    (moto/account has the alternate contacts only: the request reaches no route and moto answers 404).
    The lifecycle's *Enable regions* (lambdas/lifecycle/enable-regions.ts) calls both for each account
    tier's opt-in regions in a tenant account the onboarding created.

    After this patch, per target account (`AccountId`, or the caller's): an opt-in region
    (`OPT_IN_REGIONS`) is DISABLED until enabled, any other ENABLED_BY_DEFAULT, as in a new AWS
    account; EnableRegion of a DISABLED region makes it ENABLING, and GetRegionOptStatus answers
    ENABLING for `MOTO_ACCOUNT_ENABLING_POLLS` calls (read per request; default `ENABLING_POLLS`, 2;
    AWS takes minutes to hours, moto has no clock), then ENABLED; EnableRegion of a region ENABLING
    or enabled changes nothing; DisableRegion of an ENABLED region makes it DISABLING for as many polls, then
    DISABLED (the tests' way to disable a tenant account's region, as someone might in AWS); a region name that is not a
    region answers ValidationException. With an
    `AccountId`, as AWS: AccessDeniedException unless the caller is the management account of an
    organization the account is a member of and the organization enabled trusted access for
    account.amazonaws.com (organizations_context). PutAlternateContact and GetAlternateContact, which moto
    serves for any `AccountId`, get the same organizations context (AWS: API Reference, PutAlternateContact,
    `AccountId`), and PutAlternateContact AWS's field rules (lengths and patterns of the AlternateContact data
    type: ValidationException), which moto does not check; what they store and answer is moto's.
    Nothing else of moto's Account API is changed. Not a CPU patch: an answer added on purpose
    (`CHANGED`), tested in test/integration/moto-aws-answers.test.ts.
    """
    import json
    import re as _re
    from moto.account import urls
    from moto.account.models import AccountBackend, account_backends
    from moto.account.responses import AccountResponse
    from moto.core.exceptions import JsonRESTError

    urls.url_paths["{0}/enableRegion$"] = AccountResponse.dispatch
    urls.url_paths["{0}/getRegionOptStatus$"] = AccountResponse.dispatch
    urls.url_paths["{0}/disableRegion$"] = AccountResponse.dispatch

    def regions_of(self: AccountBackend) -> dict:
        if not hasattr(self, "_region_opt"):
            self._region_opt = {}  # region -> [status, ENABLING polls left]
        return self._region_opt

    def organizations_context(self: AccountResponse, action: str) -> None:
        # With an AccountId (the organizations context): "the caller must be an identity in the organization's management
        # account or a delegated administrator account. The specified account ID must also be a member account in the same
        # organization. The organization must have all features enabled, and the organization must have trusted access
        # enabled for the Account Management service" (API Reference, EnableRegion and GetRegionOptStatus, AccountId).
        # AWS answers AccessDeniedException otherwise; no delegated administrator is emulated.
        from moto.organizations.models import organizations_backends
        member = self._get_param("AccountId")
        if not member:
            return
        orgs = organizations_backends[self.current_account][self.partition]
        org = orgs.org
        if org is None or org.master_account_id != self.current_account or member == self.current_account or member not in [a.id for a in orgs.accounts]:
            raise JsonRESTError("AccessDeniedException", f"User: {self.current_account} is not authorized to perform: account:{action} on account {member}: the caller is not the management account of an organization {member} is a member of")
        if not any(svc["ServicePrincipal"] == "account.amazonaws.com" for svc in orgs.services):
            raise JsonRESTError("AccessDeniedException", f"account:{action} with AccountId {member}: the organization {org.id} has not enabled trusted access for account.amazonaws.com")

    def target(self: AccountResponse, action: str) -> tuple[AccountBackend, str]:
        region = self._get_param("RegionName") or ""
        if not _re.match(r"^[a-z]{2}(-gov)?-[a-z]+-\d$", region):
            raise JsonRESTError("ValidationException", f"Invalid RegionName: {region}")
        organizations_context(self, action)
        return account_backends[self._get_account_id()][self.partition], region

    def status_of(backend: AccountBackend, region: str) -> list:
        return regions_of(backend).setdefault(region, ["DISABLED" if region in OPT_IN_REGIONS else "ENABLED_BY_DEFAULT", 0])

    def enable_region(self: AccountResponse) -> Any:
        backend, region = target(self, "EnableRegion")
        entry = status_of(backend, region)
        if entry[0] == "DISABLING":
            raise JsonRESTError("ConflictException", f"Region {region} is being disabled")
        if entry[0] == "DISABLED":
            entry[0], entry[1] = "ENABLING", int(os.environ.get("MOTO_ACCOUNT_ENABLING_POLLS") or ENABLING_POLLS)
        return 200, {}, ""

    def disable_region(self: AccountResponse) -> Any:
        # DisableRegion (API Reference): a default region cannot be disabled (ValidationException); one being enabled
        # answers ConflictException, as EnableRegion of one being disabled does; an ENABLED region becomes DISABLING, then
        # DISABLED after as many GetRegionOptStatus calls as an enabling takes; a DISABLED or DISABLING one is left as it is.
        backend, region = target(self, "DisableRegion")
        entry = status_of(backend, region)
        if entry[0] == "ENABLED_BY_DEFAULT":
            raise JsonRESTError("ValidationException", f"Region {region} is enabled by default and cannot be disabled")
        if entry[0] == "ENABLING":
            raise JsonRESTError("ConflictException", f"Region {region} is being enabled")
        if entry[0] == "ENABLED":
            entry[0], entry[1] = "DISABLING", int(os.environ.get("MOTO_ACCOUNT_ENABLING_POLLS") or ENABLING_POLLS)
        return 200, {}, ""

    def get_region_opt_status(self: AccountResponse) -> Any:
        backend, region = target(self, "GetRegionOptStatus")
        entry = status_of(backend, region)
        answer = entry[0]
        if entry[0] in ("ENABLING", "DISABLING"):
            if entry[1] <= 0:
                entry[0] = answer = "ENABLED" if entry[0] == "ENABLING" else "DISABLED"
            entry[1] -= 1
        return 200, {}, json.dumps({"RegionName": region, "RegionOptStatus": answer})

    AccountResponse.enable_region = enable_region
    AccountResponse.disable_region = disable_region
    AccountResponse.get_region_opt_status = get_region_opt_status

    # PutAlternateContact's fields (API Reference, AlternateContact): Name 1-64, Title 1-50, EmailAddress 1-254 matching the
    # pattern below, PhoneNumber 1-25 of digits, whitespace and ( ) + -; all four required. AWS reads \s and \w as Java
    # does, ASCII only (re.ASCII): Python's str patterns would take a no-break space or an accented letter.
    contact_rules = {
        "Name": (64, None),
        "Title": (50, None),
        "EmailAddress": (254, _re.compile(r"^[\s]*[\w+=.#|!&-]+@[\w.-]+\.[\w]+[\s]*$", _re.ASCII)),
        "PhoneNumber": (25, _re.compile(r"^[\s0-9()+-]+$", _re.ASCII)),
    }
    moto_put_alternate_contact = AccountResponse.put_alternate_contact
    moto_get_alternate_contact = AccountResponse.get_alternate_contact

    def put_alternate_contact(self: AccountResponse) -> Any:
        organizations_context(self, "PutAlternateContact")
        for field, (longest, pattern) in contact_rules.items():
            value = self._get_param(field)
            if not isinstance(value, str) or not 1 <= len(value) <= longest or (pattern is not None and not pattern.match(value)):
                raise JsonRESTError("ValidationException", f"Invalid {field}")
        return moto_put_alternate_contact(self)

    def get_alternate_contact(self: AccountResponse) -> Any:
        organizations_context(self, "GetAlternateContact")
        return moto_get_alternate_contact(self)

    AccountResponse.put_alternate_contact = put_alternate_contact
    AccountResponse.get_alternate_contact = get_alternate_contact


# refuse_disabled_regions: the answer of AWS to a request signed for an opt-in region the calling account has not enabled.
# Sources: AWS General Reference / service API references, "Common Errors" (InvalidClientTokenId and
# UnrecognizedClientException: HTTP 403, "The X.509 certificate or AWS access key ID provided does not exist in our
# records"); IAM User Guide, "Managing AWS STS in an AWS Region" and AWS re:Post knowledge center "AWS was not able to
# validate the provided access credentials" (EC2 AuthFailure in a Region not enabled); reported answers in a disabled
# opt-in region: STS GetCallerIdentity 403 InvalidClientTokenId (remotion-dev/github-unwrapped-2022#34, eu-south-1),
# EventBridge PutRule and Logs DescribeMetricFilters UnrecognizedClientException "The security token included in the
# request is invalid" (mozilla/guardduty-multi-account-manager#42, nccgroup/ScoutSuite#1389, me-south-1), Lambda the same
# message (brefphp/extra-php-extensions#384, eu-south-2). S3's answer (rest-xml InvalidAccessKeyId) is not verified.
INVALID_TOKEN = "The security token included in the request is invalid."
EC2_AUTH_FAILURE = "AWS was not able to validate the provided access credentials"
S3_INVALID_KEY = "The AWS Access Key Id you provided does not exist in our records."
NEVER_REFUSED = frozenset(("account",))  # refuse_disabled_regions: signing names of the Account Management API (global, in us-east-1)


def refuse_disabled_regions() -> None:
    """A request signed for an opt-in region (`OPT_IN_REGIONS`) that the calling account has not ENABLED is refused
    before any service sees it, as AWS refuses it: "the act of disabling a Region will remove all IAM access to any
    resources that reside in that Region" (Account Management API Reference, DisableRegion), and a Region not enabled
    is not reachable with the account's credentials (Account Management Reference Guide, "Specify which AWS Regions your
    account can use"). moto 5.2.5 serves every region.

    The signing region is the SigV4 credential scope's (`Credential=<key>/<date>/<region>/<service>/aws4_request` of the
    Authorization header, or `X-Amz-Credential` of a presigned URL); the account is the one moto resolves for the
    request (`MOTO_ACCOUNT_ID`, the `x-moto-account-id` header, else the account of the access key:
    `moto.iam.models.get_account_id_from`, as `BaseResponse.get_current_account`); its status is the one
    answer_account_regions keeps for the account (DISABLED until enabled). Anything but ENABLED (DISABLED, ENABLING,
    DISABLING) is refused; an unsigned request, one signed for another region (global services sign for us-east-1) and
    the Account Management API (`NEVER_REFUSED`) never are. The answer, per protocol: EC2 (signing name `ec2`) HTTP 401
    `AuthFailure`; JSON protocols (`X-Amz-Target`, or an `application/x-amz-json` body: DynamoDB, KMS, Step Functions,
    Logs, SQS) HTTP 403 `UnrecognizedClientException`; query protocol (a form body or an `Action=` query: STS, IAM,
    CloudFormation) HTTP 403 `InvalidClientTokenId`; S3 HTTP 403 `InvalidAccessKeyId`; any other REST service (Lambda,
    API Gateway...) HTTP 403 with `x-amzn-ErrorType: UnrecognizedClientException`. Session token versions are not
    emulated. Cost: a request signed for a region that is not opt-in pays a `str.find` and a `split` (measured with timeit: about
    0.3 µs a request, against moto's milliseconds); only a request signed for an opt-in region looks up its account.
    Not a CPU patch: an answer changed on purpose (`CHANGED`), tested in
    test/integration/moto-aws-answers.test.ts.
    """
    import json
    import uuid
    from urllib.parse import unquote
    from moto.account.models import account_backends
    from moto.iam.models import get_account_id_from
    from moto.moto_server import werkzeug_app
    from werkzeug.wrappers import Response

    dispatcher = werkzeug_app.DomainDispatcherApplication
    original = dispatcher.__call__
    opt_in = OPT_IN_REGIONS

    def scope_of(environ: dict) -> list | None:
        auth = environ.get("HTTP_AUTHORIZATION")
        if auth is not None:
            at = auth.find("Credential=")
            if at < 0:
                return None
            parts = auth[at + 11:].split("/", 4)
        else:
            query = environ.get("QUERY_STRING")
            if not query:
                return None
            at = query.find("X-Amz-Credential=")
            if at < 0:
                return None
            end = query.find("&", at)
            parts = unquote(query[at + 17:end if end >= 0 else len(query)]).split("/", 4)
        return parts if len(parts) == 5 else None

    def refusal(environ: dict, service: str) -> Response:
        request_id = str(uuid.uuid4())
        content_type = environ.get("CONTENT_TYPE") or ""
        if service == "ec2":
            body = f'<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>AuthFailure</Code><Message>{EC2_AUTH_FAILURE}</Message></Error></Errors><RequestID>{request_id}</RequestID></Response>'
            return Response(body, status=401, content_type="text/xml;charset=UTF-8")
        headers = {"x-amzn-RequestId": request_id}
        if "HTTP_X_AMZ_TARGET" in environ or content_type.startswith("application/x-amz-json"):
            headers["x-amzn-ErrorType"] = "UnrecognizedClientException:http://internal.amazon.com/coral/com.amazon.coral.service/"
            body = json.dumps({"__type": "com.amazon.coral.service#UnrecognizedClientException", "message": INVALID_TOKEN})
            return Response(body, status=403, headers=headers, content_type=content_type or "application/x-amz-json-1.1")
        if content_type.startswith("application/x-www-form-urlencoded") or "Action=" in (environ.get("QUERY_STRING") or ""):
            body = f'<ErrorResponse xmlns="https://{service}.amazonaws.com/doc/"><Error><Type>Sender</Type><Code>InvalidClientTokenId</Code><Message>{INVALID_TOKEN}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>'
            return Response(body, status=403, headers=headers, content_type="text/xml")
        if service == "s3":
            body = f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>InvalidAccessKeyId</Code><Message>{S3_INVALID_KEY}</Message><RequestId>{request_id}</RequestId></Error>'
            return Response(body, status=403, headers={"x-amz-request-id": request_id}, content_type="application/xml")
        headers["x-amzn-ErrorType"] = "UnrecognizedClientException"
        return Response(json.dumps({"message": INVALID_TOKEN}), status=403, headers=headers, content_type="application/json")

    def call_patched(self: Any, environ: dict, start_response: Any) -> Any:
        scope = scope_of(environ)
        if scope is None or scope[2] not in opt_in or scope[3] in NEVER_REFUSED:
            return original(self, environ, start_response)
        region = scope[2]
        account = os.environ.get("MOTO_ACCOUNT_ID") or environ.get("HTTP_X_MOTO_ACCOUNT_ID") or get_account_id_from(scope[0])
        entry = getattr(account_backends[account]["aws"], "_region_opt", {}).get(region)
        if entry is not None and entry[0] == "ENABLED":
            return original(self, environ, start_response)
        return refusal(environ, scope[3])(environ, start_response)

    call_patched.__wrapped__ = original  # type: ignore[attr-defined]
    dispatcher.__call__ = call_patched


GENERATED_SUFFIX = 12  # replace_renamed_roles: length of the random suffix of a name moto's CloudFormation generates (moto/cloudformation/utils.py random_suffix)


def replace_renamed_roles() -> None:
    """CloudFormation's update of an `AWS::IAM::Role` whose `RoleName` or `Path` changed: a replacement.
    Both properties are create-only ("Update requires: Replacement", AWS CloudFormation Template
    Reference, AWS::IAM::Role), and on a replacement CloudFormation "creates the replacement resource
    first, changes references from other dependent resources to point to the replacement resource,
    and then deletes the old resource" (CloudFormation User Guide, "Understand update behaviors of
    stack resources"). A tier change onto a tier with disaster recovery names the database's backup
    role `tessera-<id>-database-backup` (generated name before: constructs/tenant-database.ts), the
    move back drops the name again.

    moto 5.2.5 (`Role.update_from_cloudformation_json`, moto/iam/models.py) updates in place instead:
    it calls UpdateRole on a role of the *new* name, which does not exist, and the whole stack update
    fails with NoSuchEntity ("Role <new name> not found"); a changed Path is ignored.

    After this patch, such an update creates the role anew from the template entry (moto's own
    `create_from_cloudformation_json`: name, path, trust policy, description, tags, inline `Policies`),
    and moto's stack holds the new role under the logical id, so every later `Ref`/`Fn::GetAtt` of it
    answers the new name and ARN. What CloudFormation's update of the dependents would do is done
    here, since moto updates no dependent whose entry is unchanged and has no update for
    `AWS::IAM::ManagedPolicy` at all: the managed policies attached to the old role are attached to
    the new one, its inline policies that the entry does not declare (an `AWS::IAM::Policy` resource's)
    are put on the new one, and the instance profiles holding it hold the new one. Then the old role
    is deleted (its policies detached and deleted first), as the update's cleanup deletes it.
    A `RoleName` left out after a given one is a replacement too, by a generated name: moto's
    generated names are `<stack>-<logical id>-<12 characters>`, so an old name without that prefix
    was given. Any other change is moto's own in-place update. Not a CPU patch: an answer changed on
    purpose (`CHANGED`), tested in test/integration/moto-aws-answers.test.ts.
    """
    from moto.iam.models import Role, iam_backends
    from moto.utilities.utils import get_partition

    original = Role.update_from_cloudformation_json.__func__

    def replaced(old: Any, new_resource_name: str, properties: dict) -> bool:
        if properties.get("Path", "/") != old.path:
            return True
        if "RoleName" in properties:
            return properties["RoleName"] != old.name
        generated_prefix = new_resource_name[:-GENERATED_SUFFIX]
        return not old.name.startswith(generated_prefix)

    def update_patched(cls: Any, original_resource: Any, new_resource_name: str, cloudformation_json: dict, account_id: str, region_name: str) -> Any:
        properties = cloudformation_json.get("Properties", {})
        if not replaced(original_resource, new_resource_name, properties):
            return original(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name)
        backend = iam_backends[account_id][get_partition(region_name)]
        old = original_resource
        role = cls.create_from_cloudformation_json(new_resource_name, cloudformation_json, account_id, region_name)
        declared = {p["PolicyName"] for p in properties.get("Policies", [])}
        for name, document in old.policies.items():
            if name not in declared:
                role.put_policy(name, document)
        for policy in list(old.managed_policies.values()):
            policy.attach_to(role)
            policy.detach_from(old)
        for profile in backend.get_instance_profiles():
            if any(r.name == old.name for r in profile.roles):
                profile.roles = [role if r.name == old.name else r for r in profile.roles]
        for name in list(old.policies):
            old.delete_policy(name)
        backend.delete_role(old.name)
        return role

    update_patched.__wrapped__ = original  # type: ignore[attr-defined]
    Role.update_from_cloudformation_json = classmethod(update_patched)


def recreate_removed_resources() -> None:
    """A resource an update of a stack removes (its logical id gone from the template) is deleted, and a later update
    whose template has it again creates it anew (AWS CloudFormation User Guide, "Update your stack template": a
    resource added to the template is created). moto 5.2.5 (`ResourceMap.update`, moto/cloudformation/parsing.py)
    deletes it but keeps it among the stack's parsed resources, so the update adding it back hands back the deleted
    object (`ResourceMap.__getitem__` finds it): nothing is created, the stack lists a physical id that no longer
    exists, and the stack's deletion (or the next update removing it) fails on it, e.g. NoSuchEntity for a managed
    policy ("Policy arn:aws:iam::...:policy/tessera-<id>-DrReplicationPolicy... not found"), found by a tenant moved
    onto a DR tier, off it, onto it again and then offboarded (the tenant stack's DR replication policy).
    After this patch, each logical id the update removed is dropped from the parsed resources once the update ran.
    Not a CPU patch: an answer changed on purpose (`CHANGED`), tested in test/integration/moto-aws-answers.test.ts.
    """
    from moto.cloudformation.parsing import ResourceMap

    original = ResourceMap.update

    def update_patched(self: Any, template: dict, parameters: dict | None = None) -> None:
        removed = [name for name in self._resource_json_map if name not in template.get("Resources", {})]
        original(self, template, parameters)
        for name in removed:
            self._parsed_resources.pop(name, None)

    update_patched.__wrapped__ = original  # type: ignore[attr-defined]
    ResourceMap.update = update_patched  # type: ignore[method-assign]


def ssm_parameter_tags_as_cloudformation() -> None:
    """CloudFormation's `AWS::SSM::Parameter` takes `Tags` as a JSON map of key to value ("Tags: Type: Json",
    AWS CloudFormation Template Reference, AWS::SSM::Parameter), not the list of `Key`/`Value` pairs most
    resources take. moto 5.2.5 (`Parameter.create_from_cloudformation_json`, moto/ssm/models.py) hands the
    map to `put_parameter`, which reads it as that list: TypeError ("string indices must be integers"),
    and moto's server answers CreateStack with HTTP 500 and an HTML page, its stack left CREATE_IN_PROGRESS
    (an account customization with a tagged parameter failed so on the local platform: "@aws-sdk XML parse
    error: mismatched tags <html>"). After this patch, the map is given to moto as that list; a list (what
    moto took before) passes as it is. Its update (moto deletes and creates again) goes through the same
    create. Not a CPU patch: an answer changed on purpose (`CHANGED`), tested in
    test/integration/moto-aws-answers.test.ts.
    """
    from moto.ssm.models import Parameter

    original = Parameter.create_from_cloudformation_json.__func__

    def create_patched(cls: Any, resource_name: str, cloudformation_json: dict, account_id: str, region_name: str, **kwargs: Any) -> Any:
        properties = cloudformation_json.get("Properties", {})
        tags = properties.get("Tags")
        if isinstance(tags, dict):
            listed = [{"Key": str(k), "Value": str(v)} for k, v in tags.items()]
            cloudformation_json = {**cloudformation_json, "Properties": {**properties, "Tags": listed}}
        return original(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)

    create_patched.__wrapped__ = original  # type: ignore[attr-defined]
    Parameter.create_from_cloudformation_json = classmethod(create_patched)


def rds_security_groups_as_cloudformation() -> None:
    """CloudFormation's `AWS::RDS::DBInstance` names its VPC security groups `VPCSecurityGroups` (AWS CloudFormation
    Template Reference, AWS::RDS::DBInstance: "VPCSecurityGroups: A list of the VPC security group IDs to assign to the
    DB instance"). moto 5.2.5 (`DBInstance.create_from_cloudformation_json`, moto/rds/models.py) reads
    `VpcSecurityGroupIds` instead, so a template's groups were dropped and the instance given the default security group
    of the account's default VPC: a tenant database in its own VPC with a group of another VPC, and, in an account whose
    default VPC was deleted (tiers.<tier>.deleteDefaultVpcs), an AttributeError and HTTP 500 on the CreateStack, the stack
    left CREATE_IN_PROGRESS. After this patch `VPCSecurityGroups` is given to moto as the groups it reads; a template
    without it (moto's default group, as RDS's default without one) is as before. Not a CPU patch: an answer changed on
    purpose (`CHANGED`), tested in test/integration/moto-aws-answers.test.ts.
    """
    from moto.rds.models import DBInstance

    original = DBInstance.create_from_cloudformation_json.__func__

    def create_patched(cls: Any, resource_name: str, cloudformation_json: dict, account_id: str, region_name: str, **kwargs: Any) -> Any:
        properties = cloudformation_json.get("Properties", {})
        groups = properties.get("VPCSecurityGroups")
        if groups and not properties.get("VpcSecurityGroupIds"):
            cloudformation_json = {**cloudformation_json, "Properties": {**properties, "VpcSecurityGroupIds": list(groups)}}
        return original(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)

    create_patched.__wrapped__ = original  # type: ignore[attr-defined]
    DBInstance.create_from_cloudformation_json = classmethod(create_patched)


COGNITO_USERNAME_MAX = 128  # refuse_cognito_parameters_as_aws: UsernameType, 1-128 characters (AdminCreateUser, Username)
COGNITO_FILTER_MAX = 256  # refuse_cognito_parameters_as_aws: ListUsers, Filter, at most 256 characters


def refuse_cognito_parameters_as_aws() -> None:
    """Cognito's AdminCreateUser `Username` and ListUsers `Filter` checked as AWS checks them (Amazon Cognito user pools
    API Reference: AdminCreateUser, `Username`, "Must be a UTF-8 string between 1 and 128 characters ... Length
    Constraints: Minimum length of 1. Maximum length of 128. Pattern: [\\p{L}\\p{M}\\p{S}\\p{N}\\p{P}]+"; ListUsers,
    `Filter`, "Length Constraints: Maximum length of 256").

    moto 5.2.5 (`CognitoIdpBackend.admin_create_user` and `list_users`, moto/cognitoidp/models.py) checks neither: it
    made a user whose Username was a 200-character address, and answered a ListUsers whose Filter was 300 characters,
    where Cognito answers InvalidParameterException ("1 validation error detected: Value at 'username' failed to satisfy
    constraint: Member must have length less than or equal to 128"). Tessera makes each user with Username = its email
    (lambdas/identity/cognito-tenant-users.ts), so a long address passed every test and failed in AWS.

    After this patch, AdminCreateUser with a Username of more than 128 characters (Python `len`, code points), or with a
    character that is not a letter, mark, symbol, number or punctuation (Unicode categories L, M, S, N, P: no spaces,
    no control characters), and ListUsers with a Filter of more than 256 characters, answer InvalidParameterException
    with AWS's validation text; nothing is made or listed. Everything else of moto's Cognito is unchanged. Not a CPU
    patch: an answer changed on purpose (`CHANGED`), tested in test/integration/moto-aws-answers.test.ts.
    """
    import unicodedata

    from moto.cognitoidp.exceptions import InvalidParameterException
    from moto.cognitoidp.models import CognitoIdpBackend

    create_original = CognitoIdpBackend.admin_create_user
    list_original = CognitoIdpBackend.list_users

    def check_username(username: Any) -> None:
        if not isinstance(username, str):
            return
        if len(username) > COGNITO_USERNAME_MAX:
            raise InvalidParameterException(
                f"1 validation error detected: Value at 'username' failed to satisfy constraint: Member must have length less than or equal to {COGNITO_USERNAME_MAX}"
            )
        if len(username) < 1:
            raise InvalidParameterException("1 validation error detected: Value at 'username' failed to satisfy constraint: Member must have length greater than or equal to 1")
        if any(unicodedata.category(c)[0] not in "LMSNP" for c in username):
            raise InvalidParameterException(
                "1 validation error detected: Value at 'username' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\p{L}\\p{M}\\p{S}\\p{N}\\p{P}]+"
            )

    def admin_create_user_patched(self: Any, user_pool_id: str, username: str, *args: Any, **kwargs: Any) -> Any:
        check_username(username)
        return create_original(self, user_pool_id, username, *args, **kwargs)

    def list_users_patched(self: Any, user_pool_id: str, filt: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(filt, str) and len(filt) > COGNITO_FILTER_MAX:
            raise InvalidParameterException(
                f"1 validation error detected: Value at 'filter' failed to satisfy constraint: Member must have length less than or equal to {COGNITO_FILTER_MAX}"
            )
        return list_original(self, user_pool_id, filt, *args, **kwargs)

    admin_create_user_patched.__wrapped__ = create_original  # type: ignore[attr-defined]
    list_users_patched.__wrapped__ = list_original  # type: ignore[attr-defined]
    CognitoIdpBackend.admin_create_user = admin_create_user_patched  # type: ignore[method-assign]
    CognitoIdpBackend.list_users = list_users_patched  # type: ignore[method-assign]


SAGEMAKER_IMAGE_MAX = 255  # refuse_sagemaker_parameters_as_aws: AlgorithmImage / ContainerImage, at most 255 characters
SAGEMAKER_S3_URI_MAX = 1024  # refuse_sagemaker_parameters_as_aws: S3Uri / Url (channels, output, checkpoints, ModelDataUrl)
SAGEMAKER_NAME_MAX = 63  # refuse_sagemaker_parameters_as_aws: TrainingJobName / ModelName, 1-63 characters


def refuse_sagemaker_parameters_as_aws() -> None:
    """SageMaker's CreateTrainingJob and CreateModel checked for the lengths AWS checks (Amazon SageMaker API Reference,
    and botocore's sagemaker service model: `TrainingJobName` "Length Constraints: Minimum length of 1. Maximum length
    of 63. Pattern: ^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}"; AlgorithmSpecification `TrainingImage` (AlgorithmImage) and
    ContainerDefinition `Image` (ContainerImage) "Maximum length of 255"; S3DataSource / CheckpointConfig `S3Uri`,
    OutputDataConfig `S3OutputPath` and ContainerDefinition `ModelDataUrl` "Maximum length of 1024"; `HyperParameters`
    at most 100 entries, keys of at most 256 and values of at most 2500 characters; `Tags` at most 50).

    moto 5.2.5 (`SageMakerModelBackend.create_training_job` and `create_model`, moto/sagemaker/models.py) checks none
    of them: it made a training job whose TrainingImage was a 300-character ECR URI (a valid one: ECR repository names
    reach 256 characters and tags 128), where SageMaker answers ValidationException ("1 validation error detected:
    Value '...' at 'algorithmSpecification.trainingImage' failed to satisfy constraint: Member must have length less
    than or equal to 255"). Tessera's fine-tuning config took such an image (and a base model's weightsS3Uri of any
    length), so a config that passed every test failed each job in AWS.

    After this patch those calls answer ValidationException with AWS's validation text naming the member; nothing is
    made. Everything else of moto's SageMaker is unchanged. Not a CPU patch: an answer changed on purpose (`CHANGED`),
    tested in test/integration/moto-aws-answers.test.ts.
    """
    import re

    from moto.sagemaker.exceptions import ValidationError
    from moto.sagemaker.models import SageMakerModelBackend

    def refuse(value: Any, member: str, constraint: str) -> None:
        raise ValidationError(message=f"1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: {constraint}")

    def at_most(value: Any, member: str, most: int) -> None:
        if isinstance(value, str) and len(value) > most:
            refuse(value, member, f"Member must have length less than or equal to {most}")

    def check_name(value: Any, member: str) -> None:
        at_most(value, member, SAGEMAKER_NAME_MAX)
        if isinstance(value, str) and not re.fullmatch(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}", value):
            refuse(value, member, "Member must satisfy regular expression pattern: ^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}")

    def check_tags(tags: Any) -> None:
        if isinstance(tags, list) and len(tags) > 50:
            refuse(tags, "tags", "Member must have length less than or equal to 50")

    def check_container(container: Any, member: str) -> None:
        if isinstance(container, dict):
            at_most(container.get("Image"), f"{member}.image", SAGEMAKER_IMAGE_MAX)
            at_most(container.get("ModelDataUrl"), f"{member}.modelDataUrl", SAGEMAKER_S3_URI_MAX)

    training_original = SageMakerModelBackend.create_training_job
    model_original = SageMakerModelBackend.create_model

    def create_training_job_patched(self: Any, training_job_name: str, hyper_parameters: Any, algorithm_specification: Any, role_arn: str,
                                    input_data_config: Any, output_data_config: Any, *args: Any, **kwargs: Any) -> Any:
        check_name(training_job_name, "trainingJobName")
        at_most((algorithm_specification or {}).get("TrainingImage"), "algorithmSpecification.trainingImage", SAGEMAKER_IMAGE_MAX)
        hp = hyper_parameters or {}
        if len(hp) > 100:
            refuse(hp, "hyperParameters", "Map value must satisfy constraint: [Member must have length less than or equal to 100]")
        for k, v in hp.items():
            at_most(k, "hyperParameters", 256)
            at_most(v, "hyperParameters", 2500)
        for i, channel in enumerate(input_data_config or []):
            uri = ((channel or {}).get("DataSource") or {}).get("S3DataSource", {}).get("S3Uri")
            at_most(uri, f"inputDataConfig.{i + 1}.member.dataSource.s3DataSource.s3Uri", SAGEMAKER_S3_URI_MAX)
        at_most((output_data_config or {}).get("S3OutputPath"), "outputDataConfig.s3OutputPath", SAGEMAKER_S3_URI_MAX)
        at_most((kwargs.get("checkpoint_config") or {}).get("S3Uri"), "checkpointConfig.s3Uri", SAGEMAKER_S3_URI_MAX)
        check_tags(kwargs.get("tags"))
        return training_original(self, training_job_name, hyper_parameters, algorithm_specification, role_arn, input_data_config, output_data_config, *args, **kwargs)

    def create_model_patched(self: Any, model_name: str, execution_role_arn: str, primary_container: Any, vpc_config: Any, containers: Any, tags: Any, *args: Any, **kwargs: Any) -> Any:
        check_name(model_name, "modelName")
        check_container(primary_container, "primaryContainer")
        for i, c in enumerate(containers or []):
            check_container(c, f"containers.{i + 1}.member")
        check_tags(tags)
        return model_original(self, model_name, execution_role_arn, primary_container, vpc_config, containers, tags, *args, **kwargs)

    create_training_job_patched.__wrapped__ = training_original  # type: ignore[attr-defined]
    create_model_patched.__wrapped__ = model_original  # type: ignore[attr-defined]
    SageMakerModelBackend.create_training_job = create_training_job_patched  # type: ignore[method-assign]
    SageMakerModelBackend.create_model = create_model_patched  # type: ignore[method-assign]


DYNAMODB_BATCH_WRITE_MAX = 25  # refuse_dynamodb_requests_as_aws: BatchWriteItem, at most 25 put or delete requests
_DYNAMODB_VALUE_REF = re.compile(r":[A-Za-z0-9_]+")  # an expression attribute value in an expression (no string literals in DynamoDB expressions)
_DYNAMODB_EXPRESSIONS = ("UpdateExpression", "ConditionExpression", "KeyConditionExpression", "FilterExpression", "ProjectionExpression")


def _dynamodb_unused_values(request: Any) -> None:
    """Raises DynamoDB's ValidationException when an entry of `request`'s ExpressionAttributeValues is used by none of
    its expressions (`request`: the body of PutItem, DeleteItem, Query or Scan, or one action of TransactWriteItems)."""
    values = request.get("ExpressionAttributeValues") if isinstance(request, dict) else None
    if not values:
        return
    used: set[str] = set()
    for member in _DYNAMODB_EXPRESSIONS:
        expression = request.get(member)
        if isinstance(expression, str):
            used.update(_DYNAMODB_VALUE_REF.findall(expression))
    for name in values:
        if name not in used:
            from moto.dynamodb.exceptions import MockValidationException
            raise MockValidationException(f"Value provided in ExpressionAttributeValues unused in expressions: keys: {{{name}}}")


def refuse_dynamodb_requests_as_aws() -> None:
    """DynamoDB's PutItem, DeleteItem, Query, Scan, TransactWriteItems and BatchWriteItem checked as DynamoDB checks them
    (Amazon DynamoDB Developer Guide, "Using expression attribute values": every entry of ExpressionAttributeValues
    must be used, else ValidationException "Value provided in ExpressionAttributeValues unused in expressions: keys:
    {:v}"; DynamoDB API Reference, BatchWriteItem: "up to 25 put or delete requests", "You can't ... put and delete the
    same item in the same BatchWriteItem request", and the same key twice is ValidationException "Provided list of item
    keys contains duplicates").

    moto 5.2.5 (moto/dynamodb/responses.py) checks unused ExpressionAttributeValues in UpdateItem only: a PutItem,
    DeleteItem, Query, Scan or a TransactWriteItems action (Put, Update, Delete, ConditionCheck) with a value its
    expressions do not use succeeded, where DynamoDB refuses the whole request. Its BatchWriteItem took 26 requests,
    and found duplicates only among identical whole put items or identical delete keys: a put and a delete of one key,
    or two puts of one key with other attributes, were applied one after the other.

    After this patch those requests answer ValidationException with DynamoDB's text; nothing is written. Per request:
    one regex scan of the request's expressions (a few microseconds), and for BatchWriteItem one key tuple per request.
    Everything else of moto's DynamoDB is unchanged. Not a CPU patch: an answer changed on purpose (`CHANGED`), tested
    in test/integration/moto-aws-answers.test.ts.
    """
    from moto.dynamodb.exceptions import MockValidationException
    from moto.dynamodb.responses import DynamoHandler

    def checked(action: str, check: Any) -> None:
        original = getattr(DynamoHandler, action)

        def patched(self: Any) -> Any:
            check(self, self.body)
            return original(self)

        patched.__wrapped__ = original  # type: ignore[attr-defined]
        patched.__name__ = action
        setattr(DynamoHandler, action, patched)

    def single(self: Any, body: Any) -> None:
        _dynamodb_unused_values(body)

    def transaction(self: Any, body: Any) -> None:
        for action in body.get("TransactItems") or []:
            for request in (action or {}).values():
                _dynamodb_unused_values(request)

    def batch(self: Any, body: Any) -> None:
        tables = body.get("RequestItems") or {}
        total = 0
        for name, requests in tables.items():
            requests = requests or []
            if len(requests) > DYNAMODB_BATCH_WRITE_MAX:
                raise MockValidationException(
                    f"1 validation error detected: Value at 'requestItems.{name}.member' failed to satisfy constraint: Map value must satisfy constraint: "
                    f"[Member must have length less than or equal to {DYNAMODB_BATCH_WRITE_MAX}, Member must have length greater than or equal to 1]"
                )
            total += len(requests)
        if total > DYNAMODB_BATCH_WRITE_MAX:
            raise MockValidationException("Too many items requested for the BatchWriteItem call")
        for name, requests in tables.items():
            table = self.dynamodb_backend.get_table(name)
            names = (table.hash_key_attr, table.range_key_attr)
            seen: set[str] = set()
            for request in requests or []:
                item = (request.get("PutRequest") or {}).get("Item") or (request.get("DeleteRequest") or {}).get("Key") or {}
                key = repr([item.get(n) for n in names])
                if key in seen:
                    raise MockValidationException("Provided list of item keys contains duplicates")
                seen.add(key)

    for action in ("put_item", "delete_item", "query", "scan"):
        checked(action, single)
    checked("transact_write_items", transaction)
    checked("batch_write_item", batch)


DYNAMODB_ITEM_MAX = 400 * 1024  # refuse_dynamodb_item_growth_as_aws: an item's names and values, UTF-8 bytes (DynamoDB: 400 KB)


def refuse_dynamodb_item_growth_as_aws() -> None:
    """An UpdateItem (alone or in TransactWriteItems) whose result passes DynamoDB's item size is refused, and one whose
    result stays within it is not (Amazon DynamoDB Developer Guide, "Service, account, and table quotas": "The maximum
    item size in DynamoDB is 400 KB, which includes both attribute name binary length (UTF-8 length) and attribute
    value lengths (again binary length)"; UpdateItem answers ValidationException "Item size to update has exceeded the
    maximum allowed size").

    moto 5.2.5 checks the size only when a top-level attribute is assigned (`LimitedSizeDict.__setitem__`,
    moto/dynamodb/models/dynamo_type.py), against 405,000 bytes, counting the item with the attribute's old value and
    its new one: an ADD to an existing string set grows the set in place and was never checked (a month item's
    `subjects` set grew past 400 KB), while a SET replacing a 250 KB string of an item was refused; and a refused
    update left what it had done before the refused assignment (a set grown in place) in the item.

    After this patch the assignment counts the item without the value it replaces, against 400 KB, and every update
    expression is followed by one count of the whole item (moto's own `Item.size()`), refused past 400 KB as moto
    refuses an assignment (ItemSizeToUpdateTooLarge); the item's attributes are put back as they were (each top-level
    value, the members of a top-level set, list or map; deeper members changed in place are not), and
    TransactWriteItems rolls back as it does. Per update: one pass over the item's attributes (a few microseconds for items of
    a few attributes, ~1 us per set member). Not a CPU patch: an answer changed on purpose (`CHANGED`), tested in
    test/integration/moto-aws-answers.test.ts.
    """
    from moto.dynamodb.exceptions import ItemSizeTooLarge
    from moto.dynamodb.models.dynamo_type import DynamoType, LimitedSizeDict
    from moto.dynamodb.models.utilities import bytesize
    from moto.dynamodb.parsing.executors import UpdateExpressionExecutor

    def sized(key: Any, value: Any) -> int:
        return bytesize(key) + (value.size() if type(value) is DynamoType else bytesize(str(value)))

    def setitem_patched(self: Any, key: str, value: Any) -> None:
        if sum(sized(k, v) for k, v in self.items() if k != key) + sized(key, value) > DYNAMODB_ITEM_MAX:
            raise ItemSizeTooLarge
        dict.__setitem__(self, key, value)

    execute_original = UpdateExpressionExecutor.execute

    def execute_patched(self: Any, node: Any = None) -> None:
        if node is not None:
            return execute_original(self, node)
        attrs = self.item.attrs
        # What the update may change in place (a set or list grown, a map's members): each top-level value and a shallow copy of its content
        saved = [(k, v, copy_of(v.value) if type(v) is DynamoType else None) for k, v in attrs.items()]
        try:
            execute_original(self, node)
            if sum(sized(k, v) for k, v in attrs.items()) > DYNAMODB_ITEM_MAX:
                raise ItemSizeTooLarge
        except ItemSizeTooLarge:
            attrs.clear()
            for k, v, content in saved:
                if isinstance(content, list):
                    v.value[:] = content
                elif isinstance(content, dict):
                    v.value.clear()
                    v.value.update(content)
                dict.__setitem__(attrs, k, v)
            raise
        return None

    def copy_of(value: Any) -> Any:
        return list(value) if isinstance(value, list) else dict(value) if isinstance(value, dict) else None

    setitem_patched.__wrapped__ = LimitedSizeDict.__setitem__  # type: ignore[attr-defined]
    execute_patched.__wrapped__ = execute_original  # type: ignore[attr-defined]
    LimitedSizeDict.__setitem__ = setitem_patched  # type: ignore[method-assign,assignment]
    UpdateExpressionExecutor.execute = execute_patched  # type: ignore[method-assign]


PRINCIPAL_ARN = re.compile(r"^arn:([^:]+):iam::(\d{12}):(role|user)/")  # refuse_missing_principals_as_aws: the principals checked


def refuse_missing_principals_as_aws() -> None:
    """IAM CreateRole / UpdateAssumeRolePolicy and S3 PutBucketPolicy refuse a policy naming an IAM role or user that does
    not exist, as AWS does: AWS resolves each role or user ARN of `Principal.AWS` to the principal's unique id when the
    policy is saved, so one that does not exist (yet) is refused: IAM answers MalformedPolicyDocument "Invalid principal in
    policy: "AWS":"<arn>"" (reported of CloudFormation's create of a role trusting itself or a role created later:
    https://github.com/aws-samples/aws-secure-environment-accelerator/issues/1136,
    https://github.com/hashicorp/terraform-provider-aws/issues/8905), S3 answers MalformedPolicy "Invalid principal in policy"
    (https://repost.aws/knowledge-center/s3-invalid-principal-in-policy-error). The preflight's rule
    `resource-policy-principals-exist` (lib/preflight/service-rules.ts) checks the same in the templates.

    moto 5.2.5 (`IAMBackend.create_role`, `update_assume_role_policy`, moto/iam/models.py; `S3Backend.put_bucket_policy`,
    moto/s3/models.py) takes any ARN, so a stack whose role trusted a role it created later passed every test.

    After this patch, a role or user ARN (`arn:<partition>:iam::<account>:role/…` or `user/…`, the path included) of
    `Principal.AWS` that names no role or user of that account's IAM backend refuses the call, nothing made or changed.
    Account roots, bare account ids, `*`, service and federated principals, and a document that is not JSON (moto's own
    validation answers it) are left to moto. Through CloudFormation this is the role's create (moto's
    `Role.create_from_cloudformation_json` calls `create_role`). Not a CPU patch: an answer changed on purpose
    (`CHANGED`), tested in test/integration/moto-aws-answers.test.ts.
    """
    from moto.iam.exceptions import MalformedPolicyDocument
    from moto.iam.models import IAMBackend, iam_backends
    from moto.s3.exceptions import S3ClientError
    from moto.s3.models import S3Backend

    def missing_principal(document: Any) -> str | None:
        try:
            policy = json.loads(document.decode() if isinstance(document, bytes) else document)
        except (TypeError, ValueError, UnicodeDecodeError):
            return None
        statements = policy.get("Statement", []) if isinstance(policy, dict) else []
        for statement in statements if isinstance(statements, list) else [statements]:
            principal = statement.get("Principal") if isinstance(statement, dict) else None
            values = principal.get("AWS", []) if isinstance(principal, dict) else []
            for arn in values if isinstance(values, list) else [values]:
                m = PRINCIPAL_ARN.match(arn) if isinstance(arn, str) else None
                if not m:
                    continue
                backend = iam_backends[m.group(2)][m.group(1)]
                held = backend.roles.values() if m.group(3) == "role" else backend.users.values()
                if not any(p.arn == arn for p in held):
                    return arn
        return None

    create_original = IAMBackend.create_role
    update_original = IAMBackend.update_assume_role_policy
    put_original = S3Backend.put_bucket_policy

    def refuse_iam(document: Any) -> None:
        arn = missing_principal(document)
        if arn:
            raise MalformedPolicyDocument(f'Invalid principal in policy: "AWS":"{arn}"')

    def create_role_patched(self: Any, role_name: str, assume_role_policy_document: str, *args: Any, **kwargs: Any) -> Any:
        refuse_iam(assume_role_policy_document)
        return create_original(self, role_name, assume_role_policy_document, *args, **kwargs)

    def update_assume_role_policy_patched(self: Any, role_name: str, policy_document: str) -> None:
        refuse_iam(policy_document)
        return update_original(self, role_name, policy_document)

    def put_bucket_policy_patched(self: Any, bucket_name: str, policy: bytes) -> None:
        if missing_principal(policy):
            raise S3ClientError("MalformedPolicy", "Invalid principal in policy")
        return put_original(self, bucket_name, policy)

    create_role_patched.__wrapped__ = create_original  # type: ignore[attr-defined]
    update_assume_role_policy_patched.__wrapped__ = update_original  # type: ignore[attr-defined]
    put_bucket_policy_patched.__wrapped__ = put_original  # type: ignore[attr-defined]
    IAMBackend.create_role = create_role_patched  # type: ignore[method-assign]
    IAMBackend.update_assume_role_policy = update_assume_role_policy_patched  # type: ignore[method-assign]
    S3Backend.put_bucket_policy = put_bucket_policy_patched  # type: ignore[method-assign]


FAIR_QUEUE_SHARE = 0.10  # deliver_fair_queues_as_aws: a tenant above 10% of the in-flight messages or of the processing time is noisy
FAIR_QUEUE_MIN_IN_FLIGHT = 30  # deliver_fair_queues_as_aws: ... by in-flight share only with at least 30 of its own in flight
FAIR_QUEUE_RECENT_MS = 300_000  # deliver_fair_queues_as_aws: "recent" processing time, the docs' 5 minutes after which a tenant is quiet


def deliver_fair_queues_as_aws() -> None:
    """A standard queue's messages sent with a MessageGroupId are delivered as an SQS fair queue delivers them (Amazon SQS
    Developer Guide, "Amazon SQS fair queues" and "How Amazon SQS fair queues work":
    https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-fair-queues-detailed.html). A standard
    queue's MessageGroupId names the message's tenant (a message without one is a tenant of its own); a tenant is a noisy
    neighbour when it holds more than 10% of the queue's in-flight messages and at least 30 of them, or more than 10% of
    the consumers' recent processing time; while one is, a receive gets the other (quiet) tenants' waiting messages first,
    and among noisy tenants first those of the one with fewest messages in flight; a noisy tenant's messages are never
    dropped or held back when nothing else waits, and messages of one group still run in parallel.

    moto 5.2.5 (`SQSBackend.receive_message`, `Queue.messages`, moto/sqs/models.py) takes and returns a standard queue's
    MessageGroupId (SendMessage; ReceiveMessage with MessageSystemAttributeNames `MessageGroupId`) but ignores it in
    delivery: the oldest visible message first, so a tenant's backlog delays every other tenant's message, which SQS
    fair queues do not (the Batch API's chunks: lambdas/inference/work-queues.ts fairQueueGroup).

    After this patch, `Queue.messages` (the visible messages in the order a receive takes them) of a standard queue whose
    visible messages include one with a group puts, in moto's order otherwise (a stable sort): quiet tenants' messages,
    then noisy tenants' by their count in flight, fewest first. In flight: received (`pending_messages`) and not visible
    again. Processing time: for each message in flight, the time since its last receive (recorded by `mark_received`), and
    for each deleted within the last 5 minutes the time from its last receive to its delete (recorded by
    `Queue.delete_message`). AWS's thresholds are approximate ("detection may not activate at the exact values
    described"); this applies them exactly, on each receive, with no memory beyond those 5 minutes. FIFO queues, and
    standard queues without a group on any visible message, are delivered as moto delivers them. Not a CPU patch: an
    answer changed on purpose (`CHANGED`), tested in test/integration/moto-aws-answers.test.ts.
    """
    from moto.core.utils import unix_time_millis
    from moto.sqs.models import Message, Queue

    messages_original = Queue.messages
    received_original = Message.mark_received
    delete_original = Queue.delete_message

    def mark_received_patched(self: Any, *args: Any, **kwargs: Any) -> None:
        received_original(self, *args, **kwargs)
        self.tessera_received_ms = unix_time_millis()

    def delete_message_patched(self: Any, receipt_handle: str) -> None:
        done = [m for m in self._messages if m.had_receipt_handle(receipt_handle) and m in self._pending_messages]
        delete_original(self, receipt_handle)
        now = unix_time_millis()
        processed = getattr(self, "tessera_processed", [])
        processed = [p for p in processed if now - p[0] <= FAIR_QUEUE_RECENT_MS]
        for m in done:
            if m.group_id is not None and hasattr(m, "tessera_received_ms"):
                processed.append((now, m.group_id, now - m.tessera_received_ms))
        self.tessera_processed = processed

    def messages_patched(self: Any) -> list:
        visible = messages_original.fget(self)
        if self.fifo_queue or not any(m.group_id is not None for m in visible):
            return visible
        now = unix_time_millis()
        tenant = lambda m: m.group_id if m.group_id is not None else ("", id(m))  # noqa: E731 - no group: a tenant of its own
        in_flight: dict[Any, int] = {}
        busy_ms: dict[Any, float] = {}
        for m in list(self._pending_messages):
            if m.visible:
                continue
            t = tenant(m)
            in_flight[t] = in_flight.get(t, 0) + 1
            busy_ms[t] = busy_ms.get(t, 0) + max(0, now - getattr(m, "tessera_received_ms", now))
        for ended, group, took in getattr(self, "tessera_processed", []):
            if now - ended <= FAIR_QUEUE_RECENT_MS:
                busy_ms[group] = busy_ms.get(group, 0) + took
        total_in_flight = sum(in_flight.values())
        total_ms = sum(busy_ms.values())

        def noisy(t: Any) -> bool:
            n = in_flight.get(t, 0)
            by_count = n >= FAIR_QUEUE_MIN_IN_FLIGHT and n > FAIR_QUEUE_SHARE * total_in_flight
            by_time = total_ms > 0 and busy_ms.get(t, 0) > FAIR_QUEUE_SHARE * total_ms
            return by_count or by_time

        return sorted(visible, key=lambda m: (1, in_flight.get(tenant(m), 0)) if noisy(tenant(m)) else (0, 0))

    mark_received_patched.__wrapped__ = received_original  # type: ignore[attr-defined]
    delete_message_patched.__wrapped__ = delete_original  # type: ignore[attr-defined]
    Message.mark_received = mark_received_patched  # type: ignore[method-assign]
    Queue.delete_message = delete_message_patched  # type: ignore[method-assign]
    Queue.messages = property(messages_patched)  # type: ignore[method-assign,assignment]


# answer_rds_account_attributes: RDS's account quotas in DescribeAccountAttributes, in the order of the SDK's documented example
# answer (@aws-sdk/client-rds DescribeAccountAttributesCommand, "To describe account attributes"), its maxima AWS's defaults
# there but ReadReplicasPerMaster's (15, not the example's older 5: "Each DB instance can have up to 15 read replicas", the
# RDS API Reference's CreateDBInstanceReadReplica, SourceDBInstanceIdentifier; Db2 3, Oracle and SQL Server 5), and the
# quotas the API Reference's AccountQuota lists beyond it (ManualClusterSnapshots, DBInstanceRoles,
# CustomEndpointsPerDBCluster) after, at their Service Quotas defaults: (AccountQuotaName, Max).
RDS_ACCOUNT_QUOTAS = (
    ("DBInstances", 40), ("ReservedDBInstances", 40), ("AllocatedStorage", 100000), ("DBSecurityGroups", 25),
    ("AuthorizationsPerDBSecurityGroup", 20), ("DBParameterGroups", 50), ("ManualSnapshots", 100), ("EventSubscriptions", 20),
    ("DBSubnetGroups", 50), ("OptionGroups", 20), ("SubnetsPerDBSubnetGroup", 20), ("ReadReplicasPerMaster", 15), ("DBClusters", 40),
    ("DBClusterParameterGroups", 50), ("DBClusterRoles", 5), ("ManualClusterSnapshots", 100), ("DBInstanceRoles", 5),
    ("CustomEndpointsPerDBCluster", 5),
)


def answer_rds_account_attributes() -> None:
    """RDS's DescribeAccountAttributes (Amazon RDS API Reference, DescribeAccountAttributes and AccountQuota:
    https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_AccountQuota.html), which moto 5.2.5 does not implement
    (`RDSResponse` has no `describe_account_attributes`: NotImplementedError, a 500 page, or 501 with
    answer_not_implemented, which the SDK cannot parse: "XML parse error"). The offboarding's manual snapshot quota check
    (lambdas/lifecycle/manual-snapshot-quota.ts, `ManualSnapshots`) was therefore only logged on moto, never enforced.

    After this patch, the RDS backend of the request's account and Region answers `AccountQuotas`, one `AccountQuota`
    (`AccountQuotaName`, `Used`, `Max`) for each of `RDS_ACCOUNT_QUOTAS`, `Used` counted from moto's own model as the API
    Reference defines it: `ManualSnapshots` the manual DB instance snapshots of the account in the Region (moto's
    `snapshot_type` "manual": CreateDBSnapshot, CopyDBSnapshot, CloudFormation's final snapshot; not the automated ones,
    and not the DB cluster snapshots, which are a quota of their own, `ManualClusterSnapshots`, Service Quotas L-9B510759
    beside L-272F1212); `DBInstances`, `DBClusters`, `DBSubnetGroups`, `EventSubscriptions`, `DBSecurityGroups` their
    counts; `DBParameterGroups`, `DBClusterParameterGroups`, `OptionGroups` the non-default ones (not named `default.`);
    `AllocatedStorage` the GiB allocated to the DB instances (not clustered: Aurora's storage is the cluster's);
    `SubnetsPerDBSubnetGroup`, `ReadReplicasPerMaster`, `AuthorizationsPerDBSecurityGroup`, `DBInstanceRoles`,
    `DBClusterRoles` the highest of any one group, instance or cluster; `ReservedDBInstances` and
    `CustomEndpointsPerDBCluster` 0 (moto models neither). `Max` is AWS's default (no quota raised: moto has no Service
    Quotas to raise one). A manual snapshot past `Max` is refused as AWS refuses it (refuse_rds_snapshots_past_quota;
    before s43, only past moto's own `MOTO_RDS_SNAPSHOT_LIMIT`, 1000, automated ones counted). Nothing else of moto's RDS is changed. Not a CPU patch: an answer added on
    purpose (`CHANGED`), tested in test/integration/moto-aws-answers.test.ts and offboarding-snapshot-quota.test.ts.
    """
    from moto.core.responses import ActionResult
    from moto.rds.models import DBInstanceClustered
    from moto.rds.responses import RDSResponse

    def highest(counts: Any) -> int:
        return max(counts, default=0)

    def used_of(backend: Any) -> dict[str, int]:
        instances = list(backend.databases.values())
        clusters = list(backend.clusters.values())
        not_default = lambda groups: sum(1 for name in groups if not str(name).startswith("default."))  # noqa: E731
        return {
            "DBInstances": len(instances),
            "ReservedDBInstances": 0,
            "AllocatedStorage": sum(int(i.allocated_storage or 0) for i in instances if not isinstance(i, DBInstanceClustered)),
            "DBSecurityGroups": len(backend.security_groups),
            "AuthorizationsPerDBSecurityGroup": highest(len(g._ip_ranges) + len(g._ec2_security_groups) for g in backend.security_groups.values()),
            "DBParameterGroups": not_default(backend.db_parameter_groups),
            "ManualSnapshots": sum(1 for s in backend.database_snapshots.values() if s.snapshot_type == "manual"),
            "EventSubscriptions": len(backend.event_subscriptions),
            "DBSubnetGroups": len(backend.subnet_groups),
            "OptionGroups": not_default(backend.option_groups),
            "SubnetsPerDBSubnetGroup": highest(len(g._subnets) for g in backend.subnet_groups.values()),
            "ReadReplicasPerMaster": highest(len(i.replicas) for i in instances),
            "DBClusters": len(clusters),
            "DBClusterParameterGroups": not_default(backend.db_cluster_parameter_groups),
            "DBClusterRoles": highest(len(c._associated_roles) for c in clusters),
            "ManualClusterSnapshots": sum(1 for s in backend.cluster_snapshots.values() if s.snapshot_type == "manual"),
            "DBInstanceRoles": highest(len(getattr(i, "_associated_roles", [])) for i in instances),
            "CustomEndpointsPerDBCluster": 0,
        }

    def describe_account_attributes(self: Any) -> Any:
        used = used_of(self.backend)
        return ActionResult({"AccountQuotas": [{"AccountQuotaName": name, "Used": used[name], "Max": most} for name, most in RDS_ACCOUNT_QUOTAS]})

    RDSResponse.describe_account_attributes = describe_account_attributes


def refuse_rds_snapshots_past_quota() -> None:
    """RDS refuses a manual DB snapshot past the account's quota in the Region, as the quota answer_rds_account_attributes
    reports (`ManualSnapshots`, `ManualClusterSnapshots`: `Max` 100, AWS's default, Service Quotas L-272F1212 and
    L-9B510759). moto refused one only past `MOTO_RDS_SNAPSHOT_LIMIT` (1000 by default, its automated snapshots counted)
    while DescribeAccountAttributes said 100: a test could create the 101st snapshot that AWS refuses, and the
    offboarding's quota check (lambdas/lifecycle/manual-snapshot-quota.ts) was never met by the refusal it guards against.

    After this patch, `CreateDBSnapshot` and `CopyDBSnapshot` (and a final snapshot of `DeleteDBInstance`, or of a
    CloudFormation DeletionPolicy Snapshot, which moto makes through the same backend method), when the account and Region
    already hold `Max` manual DB instance snapshots, and `CreateDBClusterSnapshot` and `CopyDBClusterSnapshot` at `Max`
    manual cluster snapshots, are refused with AWS's error: code `SnapshotQuotaExceeded` (the RDS API Reference's
    CreateDBSnapshot, CopyDBSnapshot, CreateDBClusterSnapshot and CopyDBClusterSnapshot: "The request would result in the
    user exceeding the allowed number of DB snapshots", HTTP 400) and the message AWS answers, `Cannot create more than
    <Max> manual snapshots` (as AWS answered CopyDBClusterSnapshot in pbudzon/aws-maintenance#12; CloudFormation quoted
    the same for an instance's final snapshot in radius-project/samples#842). Nothing is created. Automated snapshots
    are not counted (they are not manual snapshots, and RDS does not refuse them for this quota); moto's own 1000 still
    applies beneath. Not a CPU patch: a refusal added on purpose (`CHANGED`), tested in test/integration/moto-aws-answers.test.ts.
    """
    from moto.rds.exceptions import RDSClientError
    from moto.rds.models import RDSBackend

    maxima = dict(RDS_ACCOUNT_QUOTAS)

    def refuse_past(backend_snapshots: Any, quota: str) -> None:
        most = maxima[quota]
        if sum(1 for snap in backend_snapshots.values() if snap.snapshot_type == "manual") >= most:
            raise RDSClientError("SnapshotQuotaExceeded", f"Cannot create more than {most} manual snapshots")

    create_original = RDSBackend.create_db_snapshot
    copy_original = RDSBackend.copy_db_snapshot
    create_cluster_original = RDSBackend.create_db_cluster_snapshot
    copy_cluster_original = RDSBackend.copy_db_cluster_snapshot

    def create_db_snapshot(self: Any, *args: Any, **kwargs: Any) -> Any:
        # moto's own checks first (the instance exists, the name is free), as AWS names those before the quota.
        snapshot_type = kwargs.get("snapshot_type", args[2] if len(args) > 2 else "manual")
        instance = kwargs.get("db_instance_identifier", args[0] if args else None)
        name = kwargs.get("db_snapshot_identifier", args[1] if len(args) > 1 else None)
        if snapshot_type == "manual" and instance in self.databases and name not in self.database_snapshots:
            refuse_past(self.database_snapshots, "ManualSnapshots")
        return create_original(self, *args, **kwargs)

    def copy_db_snapshot(self: Any, *args: Any, **kwargs: Any) -> Any:
        target = kwargs.get("target_db_snapshot_identifier", args[1] if len(args) > 1 else None)
        if target not in self.database_snapshots:
            refuse_past(self.database_snapshots, "ManualSnapshots")
        return copy_original(self, *args, **kwargs)

    def create_db_cluster_snapshot(self: Any, *args: Any, **kwargs: Any) -> Any:
        snapshot_type = kwargs.get("snapshot_type", args[2] if len(args) > 2 else "manual")
        cluster = kwargs.get("db_cluster_identifier", args[0] if args else None)
        name = kwargs.get("db_cluster_snapshot_identifier", args[1] if len(args) > 1 else None)
        if snapshot_type == "manual" and cluster in self.clusters and name not in self.cluster_snapshots:
            refuse_past(self.cluster_snapshots, "ManualClusterSnapshots")
        return create_cluster_original(self, *args, **kwargs)

    def copy_db_cluster_snapshot(self: Any, *args: Any, **kwargs: Any) -> Any:
        target = kwargs.get("target_db_cluster_snapshot_identifier", args[1] if len(args) > 1 else None)
        if target not in self.cluster_snapshots:
            refuse_past(self.cluster_snapshots, "ManualClusterSnapshots")
        return copy_cluster_original(self, *args, **kwargs)

    create_db_snapshot.__wrapped__ = create_original  # type: ignore[attr-defined]
    copy_db_snapshot.__wrapped__ = copy_original  # type: ignore[attr-defined]
    create_db_cluster_snapshot.__wrapped__ = create_cluster_original  # type: ignore[attr-defined]
    copy_db_cluster_snapshot.__wrapped__ = copy_cluster_original  # type: ignore[attr-defined]
    RDSBackend.create_db_snapshot = create_db_snapshot  # type: ignore[method-assign]
    RDSBackend.copy_db_snapshot = copy_db_snapshot  # type: ignore[method-assign]
    RDSBackend.create_db_cluster_snapshot = create_db_cluster_snapshot  # type: ignore[method-assign]
    RDSBackend.copy_db_cluster_snapshot = copy_db_cluster_snapshot  # type: ignore[method-assign]


def apply() -> None:
    """Applies every patch, once, if moto is the version they were written for."""
    if APPLIED or os.environ.get("TESSERA_MOTO_PATCHES") == "off" or moto.__version__ != PATCHED_FOR:
        return
    for patch in PATCHES:
        patch()
        APPLIED.append(patch.__name__)
    for change in (answer_not_implemented, close_account_as_aws, answer_lambda_account_settings, answer_account_regions, refuse_disabled_regions, replace_renamed_roles, recreate_removed_resources, ssm_parameter_tags_as_cloudformation, refuse_cognito_parameters_as_aws, refuse_sagemaker_parameters_as_aws, refuse_dynamodb_requests_as_aws, refuse_dynamodb_item_growth_as_aws, refuse_missing_principals_as_aws, deliver_fair_queues_as_aws, answer_rds_account_attributes, refuse_rds_snapshots_past_quota, rds_security_groups_as_cloudformation):
        change()
        CHANGED.append(change.__name__)


apply()
