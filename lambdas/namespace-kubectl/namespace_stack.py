"""Which tenant's namespace stack sent a custom resource request: the one reading of the request's ``StackId`` both kubectl
providers' guards share (tenant_role_guard.py, tenant_manifest_guard.py).

The request's ``StackId`` is CloudFormation's, not the template's (CloudFormation builds the custom resource request; the
provider framework passes it on unchanged: aws-cdk-lib custom-resources ``framework.js``). A namespace stack is
``tessera-<tenant>-namespace`` and a tenant's other stacks ``tessera-<tenant>`` and ``tessera-<tenant>-dr``
(lambdas/lifecycle/blueprints.ts ``stackName``); tenant ids follow TENANT_ID_PATTERN (lib/tenant-naming.ts). Source of the
request's fields: AWS CloudFormation User Guide, "Custom resource request objects" (``StackId``: "The Amazon Resource Name
(ARN) that identifies the stack that contains the custom resource").
"""
import re
from typing import NamedTuple, Optional

# arn:<partition>:cloudformation:<region>:<account>:stack/<stack name>/<stack uuid>
_STACK_ID = re.compile(r'^arn:(?P<partition>aws[a-z-]*):cloudformation:[a-z0-9-]+:(?P<account>\d{12}):stack/(?P<stack>[A-Za-z][A-Za-z0-9-]*)/[A-Za-z0-9-]+$')
_NAMESPACE_STACK = re.compile(r'^tessera-(?P<tenant>(?!.*--)[a-z][a-z0-9-]{1,22}[a-z0-9])-namespace$')
# Every stack the lifecycle deploys for a tenant is named tessera-<tenant>[...] (stackName); the platform's stacks are not.
_TENANT_STACK_PREFIX = 'tessera-'


class NamespaceStack(NamedTuple):
    """A tenant namespace stack, read from its ARN."""
    partition: str
    account: str
    #: the stack's name, ``tessera-<tenant>-namespace``
    stack: str
    tenant: str


def namespace_stack(stack_id) -> Optional[NamespaceStack]:
    """The tenant namespace stack ``stack_id`` is, or ``None`` when it is no ``tessera-<tenant>-namespace`` stack's ARN.

    :param stack_id: the request's ``StackId`` (any value: a non-string is no stack)
    """
    m = _STACK_ID.match(stack_id) if isinstance(stack_id, str) else None
    n = _NAMESPACE_STACK.match(m['stack']) if m else None
    return NamespaceStack(m['partition'], m['account'], m['stack'], n['tenant']) if n else None


def is_tenant_stack(stack_id) -> bool:
    """Whether ``stack_id`` is (or could be) a tenant's stack: any value that is no stack ARN, or one whose name starts with
    ``tessera-`` (the lifecycle's tenant stacks, and the nested stacks CloudFormation names after them:
    ``<parent>-<logical id>-<suffix>``). The platform's own stacks (``TesseraPlatform`` and the rest) are not.

    :param stack_id: the request's ``StackId``
    """
    m = _STACK_ID.match(stack_id) if isinstance(stack_id, str) else None
    return m is None or m['stack'].startswith(_TENANT_STACK_PREFIX)
