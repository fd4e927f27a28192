"""The namespace kubectl provider's entry point: aws-eks (v1)'s kubectl handler (``index.handler``, copied beside this file
by constructs/namespace-kubectl-provider.ts), called only when the custom resource's ``RoleArn`` is the kubectl role of the
tenant whose namespace stack sent the request.

Why: the handler runs ``aws eks update-kubeconfig --role-arn <RoleArn>`` with the request's ``ResourceProperties.RoleArn``,
template input, and its role may assume every ``tessera-*-namespace-kubectl`` role; without this check a tenant's namespace
template naming another tenant's role would act as that tenant in that tenant's namespace. The request's ``StackId`` is
CloudFormation's, not the template's (CloudFormation builds the custom resource request; the provider framework passes it
on unchanged: aws-cdk-lib custom-resources ``framework.js``), and only CloudFormation assumes the namespace deployers that
may invoke the provider. A namespace stack is ``tessera-<tenant>-namespace`` (lambdas/lifecycle/blueprints.ts) and its
tenant's kubectl role ``tessera-<tenant>-namespace-kubectl`` (lib/namespace-kubectl.ts), so the role is the stack's name
with ``-kubectl``: one stack, one role (the stack read by namespace_stack.py). Every request type is checked (a Delete naming another tenant's role would delete as
that tenant); every resource type of the handler (apply, helm, patch, get) reads ``RoleArn`` the same way.
Source of the request's fields: AWS CloudFormation User Guide, "Custom resource request objects" (``StackId``: "The Amazon
Resource Name (ARN) that identifies the stack that contains the custom resource").
"""
from namespace_stack import namespace_stack


class ForeignKubectlRoleError(Exception):
    """A request whose ``RoleArn`` is not its stack's tenant's kubectl role, or that no tenant namespace stack sent."""


def tenant_kubectl_role_arn(stack_id):
    """The kubectl role of the tenant whose namespace stack ``stack_id`` is.

    :param stack_id: the request's ``StackId`` (a CloudFormation stack ARN)
    :returns: ``arn:<partition>:iam::<account>:role/tessera-<tenant>-namespace-kubectl``
    :raises ForeignKubectlRoleError: when ``stack_id`` is not a ``tessera-<tenant>-namespace`` stack's ARN
    """
    stack = namespace_stack(stack_id)
    if stack is None:
        raise ForeignKubectlRoleError(f'StackId {stack_id!r} is not a tenant namespace stack (tessera-<tenant>-namespace)')
    return f"arn:{stack.partition}:iam::{stack.account}:role/{stack.stack}-kubectl"


def check_role(event):
    """Refuses a request whose ``ResourceProperties.RoleArn`` is not its stack's tenant's kubectl role (exact ARN, no path).

    :param event: the custom resource request as the provider framework passes it
    :raises ForeignKubectlRoleError: naming the stack and the role asked for
    """
    expected = tenant_kubectl_role_arn(event.get('StackId'))
    asked = (event.get('ResourceProperties') or {}).get('RoleArn')
    if asked != expected:
        raise ForeignKubectlRoleError(f'RoleArn {asked!r} is not the kubectl role of stack {event.get("StackId")!r} (expected {expected!r})')


def handler(event, context):
    """The Lambda entry point: :func:`check_role`, then aws-eks (v1)'s kubectl handler."""
    check_role(event)
    import index  # aws-cdk-lib's kubectl handler, bundled beside this file
    return index.handler(event, context)
