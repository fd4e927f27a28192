"""CPU patches for the tests' moto server, second set: request dispatch, DynamoDB expression
parsing, UpdateItem's copy of the old item, absent members in the response serializer, ISO 8601
timestamps parsed without dateutil, moto's random strings drawn without a call per character. The
same answers, computed with less work.

Imported by sitecustomize.py after tessera_moto_patches.py (the first set, whose pattern this module
follows: a separate module so that each set's list of patches, `APPLIED`, and its checks stay its
own). Each patch replaces one moto function with one that returns what moto's own returns for the
same inputs (its docstring says why and what was measured) and is applied only to the moto version
it was written and checked against (`PATCHED_FOR`, the pin in requirements-dev.txt): any other
version runs moto's own code, untouched. `TESSERA_MOTO_PATCHES=off` turns these off too;
`TESSERA_MOTO_PARSE_PATCHES=off` turns off only these (for measuring them against the first set alone),
`TESSERA_MOTO_PATCHES_SKIP=<name>,...` the patches named.

`TESSERA_MOTO_VERIFY=1` (checking, never on in a normal run) computes every remembered result
with moto's own code as well, each time it is reused, and raises `PatchMismatch` (moto answers
500) if the two differ; with `TESSERA_MOTO_VERIFY_LOG=<file>` a difference is also appended to the
file and the counts of comparisons written next to it (`<file>.parse-counts-<pid>.json`).
tools/check_parse_patches.py checks the answers of a DynamoDB and dispatch scenario with and
without these patches (test/integration/moto-patches.test.ts).

Measured on test/integration/lifecycle.test.ts (`TESSERA_MOTO_PROBE`; docs/performance-history.md, *Fourth pass*):
see each patch's docstring.
"""

from __future__ import annotations

import json
import os
import pickle
import re
import threading
from datetime import datetime
from typing import Any

import moto
from tessera_moto_verify import PatchMismatch, count, verify_failed  # noqa: F401 (PatchMismatch: this module's name for it, as before)

PATCHED_FOR = "5.2.5"
APPLIED: list[str] = []
VERIFY = os.environ.get("TESSERA_MOTO_VERIFY") == "1"
_bypass = threading.local()  # VERIFY and checks: moto's own code on this thread while set
VERIFIED = {"methodNames": 0, "camelcase": 0, "updateExpressions": 0, "conditions": 0, "existingItems": 0, "skippedMembers": 0, "astClones": 0, "traversals": 0, "clauseLists": 0, "timestamps": 0, "randomStrings": 0}  # VERIFY: comparisons made
METHOD_NAMES: dict[Any, tuple] = {}  # patch_method_names_from_class: per response class
UPDATE_ASTS: dict[str, Any] = {}  # patch_update_expression_parse: per expression string


def _bypassed() -> bool:
    return getattr(_bypass, "on", False)


def _count(kind: str) -> None:
    """VERIFY: one more comparison (tessera_moto_verify.count)."""
    count(VERIFIED, kind, "parse-counts")


def _verify_failed(name: str, ours: Any, theirs: Any) -> None:
    verify_failed(name, ours, theirs)


def _own(fn: Any, *args: Any) -> Any:
    """`fn(*args)` with every patch of this module bypassed on this thread."""
    previous = _bypassed()
    _bypass.on = True
    try:
        return fn(*args)
    finally:
        _bypass.on = previous


def _bounded(memo: dict, limit: int) -> dict:
    """A memo that outgrew `limit` entries starts again (bounds memory only; real runs stay far below)."""
    if len(memo) > limit:
        memo.clear()
    return memo


def patch_method_names_from_class() -> None:
    """moto's `BaseResponse.call_action` (moto/core/responses.py), run for every request of every
    service, asks `method_names_from_class(self.__class__)` whether the action is a method of the
    service's response class: `inspect.getmembers(clazz, inspect.isfunction)`, which walks `dir()`
    of the class (several hundred names for DynamoDB, EC2, IAM...), `getattr`s each and sorts them,
    to answer one membership test. 1,062 calls took 3.5 s of 62 s under cProfile in
    lifecycle.test.ts (about 0.4-1 ms a request without the profiler).

    The answer depends only on the class's attributes (its own and its bases'). moto's response
    classes are defined at import and never given or stripped of methods afterwards (no module of
    moto 5.2.5 assigns attributes to a `*Response` class), so this patch remembers the list per
    class object (a class object lives as long as the server: no id reuse) and returns a new list
    each call (as moto's does; callers could mutate it).
    """
    from moto.core import responses, utils

    original = utils.method_names_from_class
    memo = METHOD_NAMES

    def method_names_from_class_patched(clazz: Any) -> list[str]:
        if _bypassed():
            return original(clazz)
        names = memo.get(clazz)
        if names is None:
            names = memo[clazz] = tuple(original(clazz))
        elif VERIFY:
            theirs = _own(original, clazz)
            _count("methodNames")
            if list(names) != theirs:
                _verify_failed(f"method_names_from_class {clazz!r}", list(names), theirs)
        return list(names)

    method_names_from_class_patched.__wrapped__ = original  # type: ignore[attr-defined]
    responses.method_names_from_class = method_names_from_class_patched


def patch_camelcase_to_underscores() -> None:
    """moto's `camelcase_to_underscores` (moto/core/utils.py) turns an action name into the method
    name to call (`UpdateItem` -> `update_item`) in `BaseResponse.call_action` and
    `parse_parameters` (moto/core/responses.py), for every request, with a character loop that
    concatenates strings: 2,198 calls took 0.64 s of 62 s under cProfile in lifecycle.test.ts.
    It is a pure function of its string argument; this patch remembers its answer per string for
    the calls made through moto/core/responses.py (the module's own name is replaced; other
    modules keep moto's function). Non-string arguments go to moto's code.
    """
    from moto.core import responses, utils

    original = utils.camelcase_to_underscores
    memo: dict[str, str] = {}

    def camelcase_to_underscores_patched(argument: Any) -> Any:
        if _bypassed() or type(argument) is not str:
            return original(argument)
        found = memo.get(argument)
        if found is None:
            found = original(argument)
            _bounded(memo, 20_000)[argument] = found
        elif VERIFY:
            theirs = _own(original, argument)
            _count("camelcase")
            if found != theirs:
                _verify_failed(f"camelcase_to_underscores {argument!r}", found, theirs)
        return found

    responses.camelcase_to_underscores = camelcase_to_underscores_patched


def ast_signature(node: Any) -> Any:
    """A comparable rendering of an UpdateExpression AST (moto/dynamodb/parsing/ast_nodes.py, whose
    nodes define no equality): each node's class, its attributes other than `children` and
    `parent`, and its children in order (nodes recursively, other values by `repr`); and whether
    each child's `parent` is the node (the parse sets it)."""
    from moto.dynamodb.parsing.ast_nodes import Node

    if not isinstance(node, Node):
        return ("value", type(node).__name__, repr(node))
    attrs = tuple(sorted((k, repr(v)) for k, v in vars(node).items() if k not in ("children", "parent")))
    children = node.children
    if children is None:
        rendered: Any = None
    else:
        rendered = tuple((ast_signature(c), isinstance(c, Node) and c.parent is node) for c in children)
    return (type(node).__qualname__, attrs, rendered)


def patch_update_expression_parse() -> None:
    """moto parses each UpdateExpression twice per UpdateItem (`UpdateExpressionParser.make`, in
    moto/dynamodb/responses.py `update_item` to find the names it uses, then again in
    moto/dynamodb/models/__init__.py `update_item` for the validator), and once more per Update of
    a TransactWriteItems: tokenizer and recursive-descent parser, about 0.7 ms each without a
    profiler. The lifecycle handlers send a few dozen distinct expressions (values and names are
    placeholders), thousands of times.

    `make(expression_str)` reads nothing but the string (ExpressionTokenizer.make_list, then the
    parser over the tokens; no names, values, item or table), so its AST is a function of the
    string. Its callers never change the AST: responses.py only reads it (`find_clauses`), and
    models' `UpdateExpressionValidator` (moto/dynamodb/parsing/validators.py `Validator.__init__`)
    `deepcopy`s it before its processors rewrite the copy. This patch remembers the AST per
    expression string and returns the same object on later calls; an expression moto refuses
    raises from moto's code every time (errors are never remembered). Under
    TESSERA_MOTO_VERIFY=1 each reuse parses again with moto's code and compares the two ASTs
    (`ast_signature`: classes, attributes, children, parent links), which would also catch a
    caller that changed a remembered AST.
    """
    from moto.dynamodb.parsing.expressions import UpdateExpressionParser

    original = UpdateExpressionParser.__dict__["make"].__func__
    memo = UPDATE_ASTS

    def make_patched(cls: Any, expression_str: Any) -> Any:
        if _bypassed() or cls is not UpdateExpressionParser or type(expression_str) is not str:
            return original(cls, expression_str)
        ast = memo.get(expression_str)
        if ast is None:
            ast = original(cls, expression_str)
            _bounded(memo, 5_000)[expression_str] = ast
        elif VERIFY:
            theirs = _own(original, cls, expression_str)
            _count("updateExpressions")
            if ast_signature(ast) != ast_signature(theirs):
                _verify_failed(f"UpdateExpressionParser.make {expression_str!r}", ast_signature(ast), ast_signature(theirs))
        return ast

    UpdateExpressionParser.make = classmethod(make_patched)


_condition = threading.local()  # patch_condition_parse_reuse: the last parse on this thread


def _snapshot(value: Any) -> Any:
    """A JSON rendering of expression attribute names or values (plain JSON data from the request)
    that is equal exactly when their contents are; None if it cannot be rendered."""
    try:
        return json.dumps(value, sort_keys=True, default=repr)
    except (TypeError, ValueError):
        return None


def tree_signature(value: Any, depth: int = 0) -> Any:
    """A comparable rendering of a condition's `Op` tree (moto/dynamodb/comparisons.py: Op, Func,
    Operand subclasses, which define no equality): each object of a moto class as its class and its
    attributes, recursively; lists, tuples and dicts element by element; anything else by `repr`."""
    if depth > 200:
        return ("deep", repr(value))
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, tuple(tree_signature(v, depth + 1) for v in value))
    if isinstance(value, dict):
        return ("dict", tuple((repr(k), tree_signature(v, depth + 1)) for k, v in value.items()))
    if type(value).__module__.startswith("moto.") and hasattr(value, "__dict__"):
        return (type(value).__qualname__, tuple(sorted((k, tree_signature(v, depth + 1)) for k, v in vars(value).items())))
    return ("value", type(value).__name__, repr(value))


def patch_condition_parse_reuse() -> None:
    """moto parses an UpdateItem's ConditionExpression twice with the same arguments: in
    moto/dynamodb/responses.py `update_item` (`create_condition_expression_parser(expr, names,
    values).parse()`, result discarded: it wants the names and values found) and again in
    moto/dynamodb/models/__init__.py `update_item`, whose result is evaluated against the item
    (`condition_op.expr(item)`). A conditional write of the registry (lease and status checks) is
    about 0.5 ms a parse without a profiler; the same holds for PutItem and DeleteItem.

    `ConditionExpressionParser.parse()` (moto/dynamodb/comparisons.py) reads the expression string
    and looks names and values up in the two dicts it was given (an `Op` tree whose value leaves
    refer to the values dict's entries), and sets the parser's `expr_attr_names_found` and
    `expr_attr_values_found`. This patch keeps, per thread, the last parse's result with the very
    objects it was given (the expression string, the names dict, the values dict: same objects,
    not copies) and JSON snapshots of the two dicts' contents; the next parse on that thread with
    the same three objects whose contents are unchanged gets that result once (the first result
    was never evaluated: responses.py discards it) and the same found lists; any other parse runs
    moto's code. A fresh parse of the same objects would build an equal tree over the same value
    entries, so the answer is the one moto's code gives. Parses that raise are never kept. Under
    TESSERA_MOTO_VERIFY=1 each reuse also parses with moto's code and compares the two trees
    (`tree_signature`) and the found lists.
    """
    from moto.dynamodb.comparisons import ConditionExpressionParser

    original = ConditionExpressionParser.parse

    def parse_patched(self: Any) -> Any:
        if _bypassed() or type(self) is not ConditionExpressionParser:
            return original(self)
        expr, names, values = self.condition_expression, self.expression_attribute_names, self.expression_attribute_values
        last = getattr(_condition, "last", None)
        _condition.last = None
        if last is not None and last[0] is expr and last[1] is names and last[2] is values and not self.expr_attr_names_found and not self.expr_attr_values_found:
            snapshot = (_snapshot(names), _snapshot(values))
            if snapshot[0] is not None and snapshot[1] is not None and snapshot == last[3]:
                op, names_found, values_found = last[4], last[5], last[6]
                self.expr_attr_names_found.extend(names_found)
                self.expr_attr_values_found.extend(values_found)
                if VERIFY:
                    fresh = ConditionExpressionParser(expr, names, values)
                    theirs = _own(original, fresh)
                    _count("conditions")
                    ours_seen = (tree_signature(op), list(self.expr_attr_names_found), list(self.expr_attr_values_found))
                    theirs_seen = (tree_signature(theirs), fresh.expr_attr_names_found, fresh.expr_attr_values_found)
                    if ours_seen != theirs_seen:
                        _verify_failed(f"ConditionExpressionParser.parse {expr!r}", ours_seen, theirs_seen)
                return op
        op = original(self)
        if expr and isinstance(expr, str):
            snapshot = (_snapshot(names), _snapshot(values))
            if snapshot[0] is not None and snapshot[1] is not None:
                _condition.last = (expr, names, values, snapshot, op, list(self.expr_attr_names_found), list(self.expr_attr_values_found))
        return op

    ConditionExpressionParser.parse = parse_patched


_existing = threading.local()  # patch_update_item_existing_copy: inside DynamoHandler.update_item on this thread


def patch_update_item_existing_copy() -> None:
    """moto's DynamoDB `DynamoHandler.update_item` (moto/dynamodb/responses.py) starts with
    `existing_item = copy.deepcopy(self.dynamodb_backend.get_item(name, key))` and uses the copy
    once, at once: `existing_attributes = existing_item.to_json()["Attributes"]` (or `{}` for no
    item), before the update runs; `existing_item` is not read again. `Item.to_json`
    (moto/dynamodb/models/dynamo_type.py) builds new dicts and lists throughout (maps and lists
    through `to_regular_json`, which deep-copies their values; scalars are str, bytes, bool or
    a new list), so `item.to_json()` of the item itself, taken at the same moment, is equal to the
    copy's and shares nothing mutable with the item. This patch puts a stand-in for the `copy`
    module into moto.dynamodb.responses (its only `copy.` call is this one) whose `deepcopy`
    returns an `Item` itself while `DynamoHandler.update_item` runs on this thread; anything else
    is copied by the real `copy.deepcopy`. Saves a deep copy of the whole item (the tenant record:
    tens of attributes, nested maps) per UpdateItem. Under TESSERA_MOTO_VERIFY=1 the stand-in also
    makes the real copy and compares the two `to_json()`.
    """
    import copy as copy_module

    from moto.dynamodb import responses
    from moto.dynamodb.models.dynamo_type import Item

    class CopyModule:
        def __getattr__(self, name: str) -> Any:
            return getattr(copy_module, name)

        @staticmethod
        def deepcopy(x: Any, memo: Any = None, _nil: Any = []) -> Any:  # noqa: B006 (copy.deepcopy's own signature)
            if memo is None and type(x) is Item and getattr(_existing, "on", False) and not _bypassed():
                if VERIFY:
                    theirs = copy_module.deepcopy(x).to_json()
                    ours = x.to_json()
                    _count("existingItems")
                    if ours != theirs:
                        _verify_failed("update_item existing item", ours, theirs)
                # patch_update_item_unread_old_item: the answer does not read the old item's attributes
                return None if getattr(_existing, "unread", False) else x
            return copy_module.deepcopy(x, memo, _nil)

    handler = responses.DynamoHandler
    original = handler.update_item

    def update_item_patched(self: Any) -> Any:
        previous = getattr(_existing, "on", False)
        _existing.on = True
        try:
            return original(self)
        finally:
            _existing.on = previous

    if isinstance(responses.copy, type(copy_module)):
        responses.copy = CopyModule()
    handler.update_item = update_item_patched


#: patch_update_item_unread_old_item: the ReturnValues whose answer does not read the item as it was.
_UNREAD_RETURN_VALUES = ("NONE", "ALL_NEW")


def patch_update_item_unread_old_item() -> None:
    """After the copy above, moto's `DynamoHandler.update_item` (moto/dynamodb/responses.py) takes
    `existing_attributes = existing_item.to_json()["Attributes"]` (`{}` when there is no item): a
    whole new tree of the item before the update, every map and list deep-copied
    (`to_regular_json`). It reads it only after the update, for the answer: as the answer of
    ALL_OLD, for the changed attributes of UPDATED_OLD, and in `_build_updated_new_attributes`
    for UPDATED_NEW; for NONE (the default: `Attributes` popped) and ALL_NEW (the new item's
    `to_json()` as it is) the answer does not depend on it, and nothing else reads it (a refused
    ReturnValues is refused after it, with nothing of it in the error). With ReturnValues exactly
    "NONE" (or absent) or "ALL_NEW", this patch makes the stand-in of patch_update_item_existing_copy
    answer None, so `existing_attributes` is `{}` and the tree is not built. Applies only with that
    patch in force (its stand-in is the copy). Half of the `Item.to_json` CPU of an UpdateItem of the
    tenant record (7.3 s of 130 s in cProfile of lifecycle-concurrency's server, two per request).
    tools/check_parse_patches.py compares the answers of UpdateItems with each ReturnValues, the
    patches bypassed and not.
    """
    if "patch_update_item_existing_copy" not in APPLIED:
        return
    from moto.dynamodb import responses

    handler = responses.DynamoHandler
    original = handler.update_item

    def update_item_patched(self: Any) -> Any:
        previous = getattr(_existing, "unread", False)
        body = self.body
        _existing.unread = type(body) is dict and body.get("ReturnValues", "NONE") in _UNREAD_RETURN_VALUES and not _bypassed()
        try:
            return original(self)
        finally:
            _existing.unread = previous

    handler.update_item = update_item_patched


def patch_serializer_absent_members() -> None:
    """moto's response serializer (moto/core/serialize.py `ResponseSerializer._serialize_type_structure`)
    calls `_serialize_structure_member` for every member of a structure shape, which asks
    `get_value` for the member's value and serializes it unless it is None. A DynamoDB attribute
    value is a structure of ten members (S, N, B, SS, NS, BS, M, L, NULL, BOOL) of which one is
    set, so an `ALL_NEW` answer of the tenant record makes ~10 such calls per attribute, nested
    maps and lists included: with the first set's memo in place, still ~40% of an UpdateItem's
    CPU is this loop.

    For a plain `dict` value, the first set (tessera_moto_patches.py
    `patch_serializer_value_lookup`) already remembers, per (member name, member shape, parent
    shape, dict), the names moto's default picker tries, computed by moto's own code; its
    `get_value` returns the first of them present in the dict (`dict.get`), or None when none is.
    This patch, for dict values only, skips the call for a member whose remembered names are all
    plain keys (no dotted paths) and none of them is in the dict: moto's `get_value` would answer
    None and `_serialize_structure_member` would then do nothing. Every member still gets its
    `parent` set, in moto's order; members are serialized in moto's order. It applies only where
    that reasoning holds: the serializer's `_serialize_structure_member` and `get_value` are the
    base class's (the REST serializers' override creates the body even for a missing member:
    they run moto's loop), its picker is moto's default with the default alias providers and no
    response transformers, the first set is applied and not bypassed; otherwise, and for a member
    whose names are not remembered yet, moto's loop runs. Under TESSERA_MOTO_VERIFY=1 the first
    set's check serializes every answer with moto's own code (this patch bypassed with it) and
    compares; each skipped member is also checked to be None by moto's `get_value`.
    """
    from moto.core import serialize

    import tessera_moto_patches as first

    base = serialize.ResponseSerializer
    original = base._serialize_type_structure
    own_member = base._serialize_structure_member
    picker_cls = serialize.XFormedAttributePicker
    default_providers = tuple(serialize.DEFAULT_ALIAS_PROVIDERS)
    applies: dict[type, bool] = {}
    # Per structure shape, its members in moto's order, each with the set of names the first set's
    # memo holds for it (a dict value lacking all of them is skipped), False when one of those
    # names is a dotted path (never skipped), None until the memo has them. The memo's names for a
    # (member, member shape, parent, dict) never change (moto's own code computes them; a memo
    # that is cleared computes the same again), and shapes come from moto's cached service models.
    plans: dict[Any, list] = {}

    def serialize_type_structure_patched(self: Any, serialized: Any, value: Any, shape: Any, key: str) -> Any:
        if value.__class__ is not dict or _bypassed() or getattr(first._bypass, "on", False):
            return original(self, serialized, value, shape, key)
        cls = self.__class__
        ok = applies.get(cls)
        if ok is None:
            ok = applies[cls] = cls._serialize_structure_member is own_member and cls.get_value is base.get_value and "patch_serializer_value_lookup" in first.APPLIED
        picker = self._value_picker
        if not ok or type(picker) is not picker_cls or picker.response_transformers or tuple(picker.alias_providers) != default_providers:
            return original(self, serialized, value, shape, key)
        memo = first.NAME_MEMOS.get(default_providers)
        if memo is None:
            return original(self, serialized, value, shape, key)
        wrapper = self.MAP_TYPE() if key else serialized
        member = self._serialize_structure_member
        plan = plans.get(shape)
        if plan is None:
            plan = plans[shape] = [[member_key, member_shape, None] for member_key, member_shape in shape.members.items()]
        for entry in plan:
            member_key, member_shape, skip = entry
            member_shape.parent = shape  # type: ignore[attr-defined]
            if skip is None:  # the member's names not remembered yet: look again
                names = memo.get((member_key, member_shape, shape, dict))
                if names is not None:
                    skip = entry[2] = frozenset(name for name, _ in names) if all(plain for _, plain in names) else False
            if skip is not None and skip is not False and skip.isdisjoint(value):
                if VERIFY:
                    theirs = _own_first(first, self.get_value, value, member_key, member_shape)
                    _count("skippedMembers")
                    if theirs is not None:
                        _verify_failed(f"serializer skipped {member_key}", None, theirs)
                continue
            member(wrapper, value, member_shape, member_key)
        if key:
            self._default_serialize(serialized, wrapper, shape, key)

    base._serialize_type_structure = serialize_type_structure_patched


#: patch_serializer_attribute_values: DynamoDB's AttributeValue members, in the model's order, and what
#: each holds (a string, a list of strings, a map or list of attribute values, a boolean).
_ATTRIBUTE_VALUE_MEMBERS = (("S", "s"), ("N", "s"), ("B", "b"), ("SS", "ls"), ("NS", "ls"), ("BS", "b"), ("M", "m"), ("L", "l"), ("NULL", "bool"), ("BOOL", "bool"))
_NOT_PLAIN = object()


def _attribute_value(value: dict) -> Any:
    """What moto's JSON serializer makes of a DynamoDB attribute value `value` (a plain dict, as
    `dynamo_to_dict` gives it), or `_NOT_PLAIN` for anything this does not reproduce exactly: a key
    that is not a member name, a binary (B, BS: moto base64-encodes bytes), a member of an
    unexpected class. See patch_serializer_attribute_values."""
    out: dict = {}
    found = 0
    for name, kind in _ATTRIBUTE_VALUE_MEMBERS:
        member = value.get(name)
        if member is None:
            if name in value:
                found += 1
            continue
        found += 1
        if kind == "s":
            if member.__class__ is not str:
                return _NOT_PLAIN
            out[name] = member
        elif kind == "bool":
            if member.__class__ is not bool:
                return _NOT_PLAIN
            out[name] = member
        elif kind == "ls":
            if member.__class__ is not list or any(item.__class__ is not str for item in member):
                return _NOT_PLAIN
            out[name] = list(member)
        elif kind == "m":
            if member.__class__ is not dict:
                return _NOT_PLAIN
            entries: dict = {}
            for key, item in member.items():
                if key.__class__ is not str or item.__class__ is not dict:
                    return _NOT_PLAIN
                converted = _attribute_value(item)
                if converted is _NOT_PLAIN:
                    return _NOT_PLAIN
                entries[key] = converted
            out[name] = entries
        elif kind == "l":
            if member.__class__ is not list:
                return _NOT_PLAIN
            items = []
            for item in member:
                if item.__class__ is not dict:
                    return _NOT_PLAIN
                converted = _attribute_value(item)
                if converted is _NOT_PLAIN:
                    return _NOT_PLAIN
                items.append(converted)
            out[name] = items
        else:  # B, BS
            return _NOT_PLAIN
    if found != len(value):
        return _NOT_PLAIN
    return out


def patch_serializer_attribute_values() -> None:
    """moto's JSON serializer (moto/core/serialize.py `BaseJSONSerializer`) walks every DynamoDB
    attribute value of an answer through the service model: per attribute, the AttributeValue
    structure's ten members each asked of the value picker, the one present serialized by type
    (`_serialize` with its `getattr` and path bookkeeping), maps and lists recursively. The tenant
    record's `ALL_NEW` answer to every registry UpdateItem and its GetItems (the history of up to
    50 executions: hundreds of nested attributes) made this about a fifth of a lifecycle file's moto
    CPU (cProfile of lifecycle-concurrency's server: `_serialize_type_map` 15.5 s of 130 s profiled,
    with the first set's and `patch_serializer_absent_members`' patches in place).

    For an AttributeValue of dynamodb's model, given as a plain dict whose keys are member names
    (`dynamo_to_dict`'s form), the answer is built directly (`_attribute_value`): what moto's code
    gives for such a value is that value itself — a string member (S, N) `str()` of a `str`, each
    string of SS and NS likewise, NULL and BOOL as they are (the JSON serializer has no boolean
    method: `_default_serialize`), M a dict of the converted values in the value's order, L a list
    of them; no member has a serialized name, and a member whose value is None is left out. Anything
    else (a binary, which moto base64-encodes; a key that is not a member name; a value of another
    class) runs moto's code for the whole value. It applies only where moto's default picker with
    its default alias providers and no response transformers picks the members (otherwise moto's
    code runs), and never while either set is bypassed. Under TESSERA_MOTO_VERIFY=1 the first
    set's check serializes every answer with moto's own code (this patch bypassed with it) and
    compares the two.
    """
    from moto.core import serialize

    import tessera_moto_patches as first

    json_base = serialize.BaseJSONSerializer
    original = json_base._serialize_type_structure
    picker_cls = serialize.XFormedAttributePicker
    default_providers = tuple(serialize.DEFAULT_ALIAS_PROVIDERS)
    member_names = tuple(name for name, _ in _ATTRIBUTE_VALUE_MEMBERS)
    # Per structure shape: True for dynamodb's (or its streams') AttributeValue, whose member shapes
    # then had their `parent` set as moto's loop sets it on every call; False for any other shape.
    shapes: dict[Any, bool] = {}

    def serialize_type_structure_patched(self: Any, serialized: Any, value: Any, shape: Any, key: str) -> Any:
        if key and value.__class__ is dict and not _bypassed() and not getattr(first._bypass, "on", False):
            plain = shapes.get(shape)
            if plain is None:
                plain = shape.name == "AttributeValue" and tuple(shape.members) == member_names and not shape.serialization and not shape.is_document_type
                plain = plain and self.operation_model.service_model.service_name in ("dynamodb", "dynamodbstreams")
                plain = plain and all(not member.serialization for member in shape.members.values())
                if plain:
                    for member in shape.members.values():
                        member.parent = shape  # type: ignore[attr-defined]
                shapes[shape] = plain
            picker = self._value_picker
            if plain and type(picker) is picker_cls and not picker.response_transformers and tuple(picker.alias_providers) == default_providers:
                converted = _attribute_value(value)
                if converted is not _NOT_PLAIN:
                    serialized[key] = converted
                    return None
        return original(self, serialized, value, shape, key)

    json_base._serialize_type_structure = serialize_type_structure_patched


#: patch_update_validation: the traversers of moto/dynamodb/parsing/validators.py whose
#: `_processing_map` was read for moto 5.2.5: each returns a literal dict of node classes to bound
#: methods of the traverser itself, reading no state, so every call returns an equal dict.
def _clone_ast(node: Any) -> Any:
    """patch_update_validation: a copy of an AST through pickle (tools/check_parse_patches.py plants a wrong one)."""
    return pickle.loads(pickle.dumps(node, pickle.HIGHEST_PROTOCOL))


def _processing_entries(traverser: Any) -> tuple:
    """patch_update_validation: a traverser's processing map, read once per traversal (the checks plant a wrong one)."""
    return tuple(traverser._processing_map().items())


REVIEWED_TRAVERSERS = (
    "ExpressionAttributeValueProcessor", "ExpressionAttributeResolvingProcessor", "UpdateExpressionFunctionEvaluator",
    "NoneExistingPathChecker", "ExecuteOperations", "EmptyStringKeyValueValidator", "TypeMismatchValidator",
    "UpdateHashRangeKeyValidator", "OverlappingPathsValidator", "ActionCountValidator",
)


def patch_update_validation() -> None:
    """Every UpdateItem (and every Update of a TransactWriteItems) validates and resolves its update
    expression with `UpdateExpressionValidator(ast, names, values, item, table).validate()`
    (moto/dynamodb/parsing/validators.py): `Validator.__init__` deep-copies the AST
    (`copy.deepcopy`, Python's generic copier over ~50-200 node objects), then ten traversers
    (`DepthFirstTraverser`, moto/dynamodb/parsing/ast_nodes.py) each walk the whole copy. For every
    node, `traverse_node_recursively` calls `self.nodes_to_be_processed()`, which calls
    `self._processing_map()` (a new dict of bound methods) to build a tuple of its keys, and
    `process(node)` calls `_processing_map()` again; `isinstance(node, Node)` goes through
    `ABCMeta.__instancecheck__` (Node's metaclass). Under cProfile over six heavy suites the
    validation was 17% of moto's CPU (validate 88 s, the copy 31 s of 893 s).

    Two changes, the same result:
    - the AST's copy is `pickle.loads(pickle.dumps(ast))` (C code: 0.10 against 0.24 ms for an
      eight-action expression) instead of `copy.deepcopy(ast)`: both rebuild every object of the
      tree through its class's reduce protocol (`object.__reduce_ex__`: the same class, a copy of
      `__dict__`), keep shared references shared, and take classes and functions by reference. Only
      for a `Node` handed to the validators module's `deepcopy` without a memo (Validator.__init__;
      its other call copies an attribute value, not a Node); anything pickle cannot take, and every
      other call, goes to `copy.deepcopy`.
    - a reviewed traverser (`REVIEWED_TRAVERSERS`, whose `nodes_to_be_processed`, `process`,
      `traverse` and `traverse_node_recursively` are the base class's) reads `_processing_map()` once
      per `traverse` instead of once or twice per node, and the walk remembers per node class
      whether it is a `Node` (`issubclass(type(node), Node)`, which is what `isinstance` answers for
      objects whose `__class__` is their type). The walk is moto's: children first, left to right,
      `pre_processing_of_child` before each child, the first matching class of the map in its
      order processes the node, which then takes the old node's parent and place.
    Under TESSERA_MOTO_VERIFY=1 each clone is compared with `copy.deepcopy`'s (`ast_signature`),
    and each node the walk processes re-reads `_processing_map()` and compares it with the one
    in use (same keys in the same order, the same functions bound to the same traverser).
    """
    import copy as copy_module

    from moto.dynamodb.parsing import ast_nodes, validators

    node_cls = ast_nodes.Node
    base = ast_nodes.DepthFirstTraverser
    real_deepcopy = copy_module.deepcopy
    original_traverse = base.traverse

    def deepcopy_stand_in(x: Any, memo: Any = None, _nil: Any = []) -> Any:  # noqa: B006 (copy.deepcopy's own signature)
        if memo is None and isinstance(x, node_cls) and not _bypassed():
            try:
                clone = _clone_ast(x)
            except Exception:  # noqa: BLE001 - anything pickle cannot take: moto's copy
                return real_deepcopy(x)
            if VERIFY:
                theirs = real_deepcopy(x)
                _count("astClones")
                if ast_signature(clone) != ast_signature(theirs):
                    _verify_failed("validators.deepcopy of an AST", ast_signature(clone), ast_signature(theirs))
            return clone
        return real_deepcopy(x, memo, _nil)

    reviewed = {getattr(validators, name) for name in REVIEWED_TRAVERSERS}
    same = ("nodes_to_be_processed", "process", "traverse", "traverse_node_recursively")
    applies: dict[type, bool] = {}
    is_node: dict[type, bool] = {}
    no_pre = base.pre_processing_of_child

    def traverse_patched(self: Any, node: Any) -> Any:
        cls = type(self)
        ok = applies.get(cls)
        if ok is None:
            ok = applies[cls] = cls in reviewed and all(getattr(cls, name) is getattr(base, name) for name in same)
        if not ok or _bypassed():
            return original_traverse(self, node)
        entries = _processing_entries(self)
        types = tuple(key for key, _ in entries)
        pre = None if cls.pre_processing_of_child is no_pre else self.pre_processing_of_child

        def node_like(value: Any) -> bool:
            t = type(value)
            known = is_node.get(t)
            if known is None:
                known = value.__class__ is t and issubclass(t, node_cls)
                if value.__class__ is not t:
                    return isinstance(value, node_cls)
                is_node[t] = known
            return known

        def walk(current: Any, child_id: int) -> Any:
            if node_like(current):
                parent_node = current.parent
                children = current.children
                if children is not None:
                    for i, child_node in enumerate(children):
                        if pre is not None:
                            pre(current, i)
                        walk(child_node, i)
                if isinstance(current, types):
                    if VERIFY:
                        again = tuple(self._processing_map().items())
                        _count("traversals")
                        if [(k, v.__func__, v.__self__) for k, v in again] != [(k, v.__func__, v.__self__) for k, v in entries]:
                            _verify_failed(f"{cls.__name__}._processing_map", entries, again)
                    for class_key, processor in entries:
                        if isinstance(current, class_key):
                            current = processor(current)
                            break
                    else:
                        current = None
                    current.parent = parent_node
                    if parent_node:
                        parent_node.children[child_id] = current
            return current

        return walk(node, -1)

    if validators.deepcopy is real_deepcopy:
        validators.deepcopy = deepcopy_stand_in
    base.traverse = traverse_patched


def _clause_list(memo: dict, node: Any, clause_types: tuple, expression: type, function: type) -> list:
    """patch_update_clause_lists: `node.find_clauses(clause_types)` (moto/dynamodb/parsing/ast_nodes.py, the one
    definition, on `Node`), each node's list kept in `memo` (one validator's, for its one traversal); the checks plant
    a wrong one. The caller must not change a list it gets (both validators only read them)."""
    key = (id(node), clause_types)
    hit = memo.get(key)
    if hit is not None:
        return hit[1]
    clauses: list = []
    for child in node.children or []:
        if type(child) in clause_types:
            clauses.append(child)
        elif isinstance(child, expression) or isinstance(child, function):
            clauses.extend(_clause_list(memo, child, clause_types, expression, function))
    memo[key] = (node, clauses)  # the node kept alive with its entry: no id reused while the memo lives
    return clauses


def patch_update_clause_lists() -> None:
    """Two of the ten traversers of every update expression's validation (patch_update_validation's docstring),
    `ActionCountValidator.verify_action_counts` and `OverlappingPathsValidator.check_for_overlapping_paths`
    (moto/dynamodb/parsing/validators.py), process every node that is an `UpdateExpression`, and every clause and
    action list is one (20 such nodes for `ADD tokens :t, costNanos :c, requests :one, heldTokens :t, heldNanos :c,
    subjects :s`, the gateway store's): each call lists the clauses or actions of the node's whole subtree with
    `find_clauses` (three lists for the counts), so a validation walks the tree once per such node, quadratic in
    the actions. Measured in moto's Python for that expression: `validate` 0.82 ms, of it the counts 0.26 ms and
    the overlaps 0.13 ms.

    The same bodies, with each node's list computed once per validator instance (`_clause_list`: find_clauses'
    own recursion, each child's list taken from the memo). moto makes both validators anew for every validation
    (`UpdateExpressionValidator.get_ast_processors`) and each traverses once; neither changes the tree (both return
    the node they were given, and the walk puts it back in its own place), so a list kept for a node during that
    traversal is the one `find_clauses` would give. The lists come in tree order as before, so the exceptions
    (`TooManyClauses` of ADD, REMOVE, SET in that order; `DuplicateUpdateExpression` with the paths in the same
    order) are raised at the same node with the same arguments. Under TESSERA_MOTO_VERIFY=1 every list is
    compared with `node.find_clauses(...)` (the same nodes in the same order).
    """
    from moto.dynamodb.parsing import ast_nodes, validators

    expression, function = ast_nodes.Expression, ast_nodes.UpdateExpressionFunction
    add, remove, set_ = ast_nodes.UpdateExpressionAddClause, ast_nodes.UpdateExpressionRemoveClause, ast_nodes.UpdateExpressionSetClause
    actions = (ast_nodes.UpdateExpressionSetAction, ast_nodes.UpdateExpressionAddAction, ast_nodes.UpdateExpressionRemoveAction, ast_nodes.UpdateExpressionDeleteAction)
    counts, overlaps = validators.ActionCountValidator, validators.OverlappingPathsValidator
    original_counts, original_overlaps = counts.verify_action_counts, overlaps.check_for_overlapping_paths

    def listed(self: Any, node: Any, clause_types: tuple) -> list:
        memo = self.__dict__.get("_tessera_clause_lists")
        if memo is None:
            memo = self.__dict__["_tessera_clause_lists"] = {}
        clauses = _clause_list(memo, node, clause_types, expression, function)
        if VERIFY:
            _count("clauseLists")
            theirs = node.find_clauses(list(clause_types))
            if [id(c) for c in clauses] != [id(c) for c in theirs]:
                _verify_failed(f"find_clauses {[t.__name__ for t in clause_types]}", [type(c).__name__ for c in clauses], [type(c).__name__ for c in theirs])
        return clauses

    def verify_action_counts(self: Any, node: Any) -> Any:
        if type(self) is not counts or _bypassed():
            return original_counts(self, node)
        # moto's body, its lists from the memo
        add_clauses = listed(self, node, (add,))
        remove_clauses = listed(self, node, (remove,))
        set_clauses = listed(self, node, (set_,))
        if len(add_clauses) > 1:
            raise validators.TooManyClauses("ADD")
        if len(remove_clauses) > 1:
            raise validators.TooManyClauses("REMOVE")
        if len(set_clauses) > 1:
            raise validators.TooManyClauses("SET")
        return node

    def check_for_overlapping_paths(self: Any, node: Any) -> Any:
        if type(self) is not overlaps or _bypassed():
            return original_overlaps(self, node)
        # moto's body, its list from the memo
        expression_attribute_name_paths = []
        plaintext_paths = []
        for action in listed(self, node, actions):
            path = action.children[0]
            path_name = path.children[0]
            if isinstance(path_name, validators.ExpressionAttributeName) and len(path.children) == 1:
                expression_attribute_name_paths.append(self.expression_attribute_names[path_name.get_attribute_name_placeholder()])
            else:
                plaintext_paths.append(path.to_str())
        overlapping_paths = validators.find_path_overlaps(plaintext_paths)
        if overlapping_paths:
            raise validators.DuplicateUpdateExpression(*overlapping_paths)
        duplicates = validators.find_duplicates(plaintext_paths + expression_attribute_name_paths)
        if duplicates:
            raise validators.DuplicateUpdateExpression(*duplicates)
        return node

    counts.verify_action_counts = verify_action_counts
    overlaps.check_for_overlapping_paths = check_for_overlapping_paths


#: patch_serializer_iso_timestamps: the ISO 8601 forms moto's models give the serializer (a date, `T`, a
#: time to the second, an optional fraction of up to nine digits, then `Z`, `+00:00`, `-00:00` or nothing).
_ISO_UTC_TIMESTAMP = re.compile(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?(?:Z|[+-]00:00)?", re.ASCII)


def _iso_utc_datetime(value: str, utc: Any) -> Any:
    """What botocore's `parse_to_aware_datetime(value)` returns for a string in one of
    `_ISO_UTC_TIMESTAMP`'s forms (the fields as written, the fraction's first six digits as
    microseconds, tzinfo `utc`: dateutil's `tzutc()`), or None for any other string or an
    out-of-range field (moto's code then parses it, and raises as before). See
    patch_serializer_iso_timestamps."""
    match = _ISO_UTC_TIMESTAMP.fullmatch(value)
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction = match.groups()
    try:
        return datetime(int(year), int(month), int(day), int(hour), int(minute), int(second), int(fraction[:6].ljust(6, "0")) if fraction else 0, tzinfo=utc)
    except ValueError:
        return None


def patch_serializer_iso_timestamps() -> None:
    """moto's response serializer turns every timestamp of an answer into the protocol's form
    (moto/core/serialize.py `TimestampSerializer._convert_timestamp_to_str`) through botocore's
    `parse_to_aware_datetime`, which parses a string with dateutil's general parser (its lexer,
    its guesses at day and month order, its time zone names): ~1 ms a timestamp under cProfile. The
    S3 listings (LastModified of every version of a 1,000-entry page) made it 9% of
    offboarding-export's moto profile (6,067 timestamps; docs/performance-history.md, *Twenty-eighth
    pass*). moto's models give it ISO 8601 strings of a few fixed forms (`iso_8601_datetime_with_milliseconds`
    and its siblings in moto/core/utils.py: `...SS.mmmZ`, `...SSZ`, nine digits of nanoseconds, an
    aware `isoformat()`'s `+00:00`), or datetimes and numbers.

    For a `str` in one of those forms (`_ISO_UTC_TIMESTAMP`), the datetime is built from the fields
    directly (`_iso_utc_datetime`): what `parse_to_aware_datetime` returns for it, read in moto
    5.2.5's botocore and dateutil: the fields as written (a zero offset or none is UTC: the naive
    datetime given `tzutc()`, an aware one `astimezone(tzutc())`, both the same fields), microseconds
    from the fraction's first six digits (dateutil's `_parsems` pads and truncates so), tzinfo
    dateutil's `tzutc()`. A field out of range, any other offset or form, and every non-string go to
    botocore's function as before. Only the serializer's name for the function is replaced (the
    module's global). Under TESSERA_MOTO_VERIFY=1 each datetime built here is compared with
    botocore's (equal, and the same tzinfo); tools/check_parse_patches.py sends the forms and odd
    ones (2,000 random instants among them; 20,000 once by hand) through the serializer's four formats both ways and
    compares the strings.
    """
    from dateutil.tz import tzutc
    from moto.core import serialize

    original = serialize.parse_to_aware_datetime
    utc = tzutc()

    def parse_to_aware_datetime_patched(value: Any) -> Any:
        if value.__class__ is str and not _bypassed():
            parsed = _iso_utc_datetime(value, utc)
            if parsed is not None:
                if VERIFY:
                    theirs = original(value)
                    _count("timestamps")
                    if type(theirs) is not datetime or repr(parsed) != repr(theirs) or parsed.tzinfo is not theirs.tzinfo:
                        _verify_failed(f"parse_to_aware_datetime {value!r}", parsed, theirs)
                return parsed
        return original(value)

    parse_to_aware_datetime_patched.__wrapped__ = original  # type: ignore[attr-defined]
    serialize.parse_to_aware_datetime = parse_to_aware_datetime_patched


def _random_string(getrandbits: Any, pool: str, length: int) -> str:
    """patch_moto_random_string: `length` characters of `pool` drawn as `Random.choice` draws them
    (`_randbelow_with_getrandbits`: `k = len(pool).bit_length()` bits, drawn again while out of range)."""
    n = len(pool)
    k = n.bit_length()
    out = []
    for _ in range(length):
        drawn = getrandbits(k)
        while drawn >= n:
            drawn = getrandbits(k)
        out.append(pool[drawn])
    return "".join(out)


def patch_moto_random_string() -> None:
    """moto's `MotoRandom.get_random_string` (moto/moto_api/_internal/moto_random.py) draws each
    character with `self.choice(pool)`: a method call, `len`, `_randbelow` and its `getrandbits` per
    character. moto/utilities/aws_headers.py `gen_amzn_requestid_long` calls it for 52 characters
    on nearly every request (the x-amzn-requestid header; 3,796 of offboarding-export's 3,807
    requests): 1.5 s of its 70.9 s cProfile, ~50-90 µs a request measured without the profiler.

    The patch draws the same characters from the same random source in the same order
    (`_random_string`: what `Random.choice` does in CPython 3.11, `seq[_randbelow_with_getrandbits(len(seq))]`,
    the same `getrandbits(k)` calls), so a seeded moto (`TESSERA_MOTO_RECORD`, `mock_random.seed`)
    makes the same ids as before; the pool, the `lower_case` step and the result are moto's. It
    applies only while `MotoRandom` uses `Random`'s own `choice`, `_randbelow` (the getrandbits
    variant) and `getrandbits` (otherwise moto's method runs), and to a non-negative int length
    (anything else goes to moto's code, which raises as before). Under TESSERA_MOTO_VERIFY=1 each
    string is drawn again by moto's code from a copy of the generator's state taken before it and
    compared; tools/check_parse_patches.py compares seeded sequences of every argument combination.
    """
    import random
    import string

    from moto.moto_api._internal.moto_random import MotoRandom

    original = MotoRandom.get_random_string
    if MotoRandom.choice is not random.Random.choice or MotoRandom._randbelow is not random.Random._randbelow_with_getrandbits or MotoRandom.getrandbits is not random.Random.getrandbits:
        return
    letters, alphanumerics = string.ascii_letters, string.ascii_letters + string.digits

    def get_random_string_patched(self: Any, length: int = 20, include_digits: bool = True, lower_case: bool = False) -> str:
        if length.__class__ is not int or length < 0 or _bypassed() or type(self) is not MotoRandom:
            return original(self, length, include_digits, lower_case)
        state = self.getstate() if VERIFY else None
        drawn = _random_string(self.getrandbits, alphanumerics if include_digits else letters, length)
        found = drawn.lower() if lower_case else drawn
        if VERIFY:
            after = self.getstate()
            self.setstate(state)
            theirs = _own(original, self, length, include_digits, lower_case)
            _count("randomStrings")
            if theirs != found or self.getstate() != after:
                _verify_failed(f"get_random_string({length}, {include_digits}, {lower_case})", found, theirs)
        return found

    get_random_string_patched.__wrapped__ = original  # type: ignore[attr-defined]
    MotoRandom.get_random_string = get_random_string_patched


def _own_first(first: Any, fn: Any, *args: Any) -> Any:
    """`fn(*args)` with both sets bypassed on this thread (moto's own code)."""
    before = getattr(first._bypass, "on", False)
    first._bypass.on = True
    try:
        return _own(fn, *args)
    finally:
        first._bypass.on = before


PATCHES = (patch_method_names_from_class, patch_camelcase_to_underscores, patch_update_expression_parse, patch_condition_parse_reuse, patch_update_item_existing_copy, patch_update_item_unread_old_item, patch_serializer_absent_members, patch_update_validation, patch_update_clause_lists, patch_serializer_attribute_values, patch_serializer_iso_timestamps, patch_moto_random_string)


def apply() -> None:
    """Applies every patch, once, if moto is the version they were written for; a patch named in
    `TESSERA_MOTO_PATCHES_SKIP` (comma-separated, for measuring one patch against the others) is left out."""
    if APPLIED or "off" in (os.environ.get("TESSERA_MOTO_PATCHES"), os.environ.get("TESSERA_MOTO_PARSE_PATCHES")) or moto.__version__ != PATCHED_FOR:
        return
    skip = set(filter(None, os.environ.get("TESSERA_MOTO_PATCHES_SKIP", "").split(",")))
    for patch in PATCHES:
        if patch.__name__ in skip:
            continue
        patch()
        APPLIED.append(patch.__name__)


apply()
