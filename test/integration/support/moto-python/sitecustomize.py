"""Loaded at start by the Python of the tests' moto servers (moto-server.ts puts this directory on
their PYTHONPATH). Four things, none of which changes an answer of moto's but where said:
- JSON templates are parsed as JSON, as CloudFormation itself does (below);
- tessera_moto_patches.py: CPU patches of moto's hot paths (response serializer lookups, backend
  dispatch, DynamoDB transaction rollback copies, KMS private keys made on first use, S3 version listings without
  copies of the bucket, a reset that does not build again the backends it drops, one import of Cognito's pool key),
  each checked against moto's own code
  (tools/check_patches.py, test/integration/moto-patches.test.ts), for the pinned moto only; and
  the answers it changes on purpose where moto's differ from AWS's (`CHANGED`: an unimplemented
  action's 501, Organizations' CloseAccount, Lambda's GetAccountSettings, the Account API's region opt-in,
  the refusal of a call into an opt-in region the account has not enabled, CloudFormation's
  replacement of a renamed IAM role, Cognito's Username and ListUsers Filter limits, SageMaker's parameter lengths,
  DynamoDB's unused expression values, BatchWriteItem limits and 400 KB item size on update, IAM trust and S3 bucket
  policies naming a role or user that does not exist, SQS fair queues, RDS's DescribeAccountAttributes;
  test/integration/moto-aws-answers.test.ts);
- tessera_moto_parse_patches.py: the second set (request dispatch, DynamoDB expression parsing, timestamps
  without dateutil, request ids without a call per character),
  checked the same way (tools/check_parse_patches.py); both use tessera_moto_verify.py for their
  verify mode (the mismatch error, the counts, the log);
- with `TESSERA_MOTO_PROBE=<dir>` only: tessera_moto_probe.py, which measures (and with
  `TESSERA_MOTO_RECORD=1` records) every request, for looking at moto's CPU.

JSON templates:

moto's CloudFormation parses every template body with PyYAML's pure-Python loader first
(moto/cloudformation/models.py `parse_template`, `FakeChangeSet._parse_template`,
responses.py `get_template_summary`/`validate_template`; `yaml.load(text, Loader=yaml.Loader)`,
JSON only when YAML fails): 0.1-0.3 s of CPU per tier blueprint, about half of what moto spends
on a whole onboarding. A JSON document parses to the same value either way (JSON is YAML's flow
style); json.loads takes a millisecond. Only that call is changed: `yaml.load` with
`yaml.Loader` on a string that starts with `{`; text json cannot read (YAML, tags, anything else)
goes to PyYAML as before. No other module of moto calls yaml.load (the others use safe_load).

Bytecode: with PYTHONDONTWRITEBYTECODE (or -B) in the environment and no PYTHONPYCACHEPREFIX, Python
compiles every module it imports from source, every time, because no .pyc is ever written: each moto
server spawned afresh (and the zygote at the start of every run) compiled moto, botocore, Flask and
werkzeug again (warming the zygote: 4.4 s of CPU against 2.6 s from bytecode). Here the bytecode of
what a moto server imports is written to and read from `.tessera/python-cache/` of this checkout
(`sys.pycache_prefix`: nothing is written beside the sources, which is what the variable is for;
a .pyc is used only while its source's size and modification time are the ones it was compiled
from). `TESSERA_MOTO_PYCACHE=off`, or a prefix of one's own, leaves Python's settings alone.
"""
import os
import sys


def _bytecode_cache() -> None:
    if not sys.dont_write_bytecode or sys.pycache_prefix is not None or os.environ.get("TESSERA_MOTO_PYCACHE") == "off":
        return
    root = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", ".."))
    sys.pycache_prefix = os.path.join(root, ".tessera", "python-cache")
    sys.dont_write_bytecode = False


_bytecode_cache()

import json  # noqa: E402

import yaml  # noqa: E402

_yaml_load = yaml.load


def _load(stream, Loader=None, **kwargs):
    if Loader is yaml.Loader and isinstance(stream, str) and stream.lstrip()[:1] == "{":
        try:
            return json.loads(stream)
        except ValueError:
            pass
    return _yaml_load(stream, Loader=Loader, **kwargs)


yaml.load = _load

import tessera_moto_patches  # noqa: E402,F401
import tessera_moto_parse_patches  # noqa: E402,F401

if os.environ.get("TESSERA_MOTO_PROBE"):
    import tessera_moto_probe  # noqa: F401
