"""The shared cluster's (cluster-admin) kubectl provider's entry point: aws-eks-v2's kubectl handler (``index.handler``, copied
beside this file by constructs/shared-cluster.ts), called for a tenant namespace stack's request only when its manifest is
the objects a namespace tenant owns.

Why: that handler runs kubectl as its own execution role, which aws-eks-v2 maps to ``AmazonEKSClusterAdminPolicy`` at cluster
scope, and every namespace deployer may invoke it; without this check a manifest in tenant A's namespace template (template
input) would be applied, or deleted, with cluster-admin rights: B's namespace, a ClusterRoleBinding, anything.

A request whose ``StackId`` (CloudFormation's, read by namespace_stack.py) is a tenant namespace stack
``tessera-<tenant>-namespace`` runs only if:

- its ``ResourceType`` is ``Custom::AWSCDK-EKS-KubernetesResource`` (a manifest: what the namespace blueprint's ``Objects``
  is); a Helm chart, patch or object value is refused (no namespace blueprint has one);
- its properties are among those the blueprint sets (``ServiceToken``, ``ClusterName``, ``Manifest``, ``Overwrite``), and
  ``PruneLabel`` only in aws-eks' own form, ``aws.cdk.eks/prune-<42 hex digits>`` (the one blueprint 0.9.0 and earlier set):
  the handler's ``kubectl apply --prune -l <label>`` on an Update deletes every object of kubectl's prune list with that
  label that the manifest lacks, and aws-eks' label is the construct's address, the same in every tenant's stack of a
  tier. With kubectl's default prune list (the handler passes no ``--prune-allowlist``) that reaches namespaced kinds in
  the namespaces of the manifest's objects only, which this guard holds to ``tenant-<tenant>``: kubectl leaves
  cluster-scoped kinds such as ``Namespace`` out whenever a namespace is in effect, and the kubeconfig ``aws eks
  update-kubeconfig`` writes always has one (client-go's ``default``; docs/isolation.md). So the rollback of an upgrade
  from 0.9.0 (its old properties, with the label, sent as an Update's new ones) runs, not ``UPDATE_ROLLBACK_FAILED``.
  Any other selector (``-l`` takes expressions, ``tessera.io/tier=professional``) is refused;
- its ``Manifest`` is a JSON list of exactly one ``v1`` ``Namespace`` named ``tenant-<tenant>``, with the blueprint's labels
  (``tessera.io/tenant-id`` = the tenant, ``tessera.io/tier``, ``pod-security.kubernetes.io/enforce`` and ``audit`` =
  ``restricted``; no annotation, no spec), and objects inside ``tenant-<tenant>`` (``metadata.namespace`` set to it) of the
  kinds the blueprint applies there: ``v1`` ``ResourceQuota`` and ``LimitRange``, and the ``v1`` ``ServiceAccount`` and ``networking.k8s.io/v1`` ``NetworkPolicy``
  that this manifest held through blueprint 0.9.0 (its stacks' Delete, the Update that upgrades them; the tenant's own kubectl
  role, ``AmazonEKSEditPolicy`` in its namespace, writes both kinds anyway: lib/namespace-kubectl.ts). Those stacks' objects
  also carry aws-eks' prune label (``aws.cdk.eks/prune-<address>``, empty value), which the Namespace may keep;
- on a Create or Update (what ``kubectl apply`` is given), the manifest also holds a ResourceQuota and a LimitRange, and each
  ResourceQuota is unscoped (``spec`` holds ``hard`` alone: no ``scopes`` or ``scopeSelector``, which would leave every pod
  they do not select outside it) and limits what every blueprint's limits (``requests.cpu``, ``limits.cpu``,
  ``requests.memory``, ``limits.memory``, ``requests.nvidia.com/gpu``, ``pods``: each a non-empty string) with
  ``services.loadbalancers`` and ``services.nodeports`` at ``"0"``; each LimitRange has a ``Container`` entry. The amounts
  are not compared with the tier's: only the platform changes a namespace stack (its lifecycle, in the platform account,
  with the platform's published template, whose parameters name the tenant, its account and its VPC range, never its
  quota: docs/isolation.md), so they are the blueprint's. A Delete (``kubectl delete``) is held to the objects' identity only.

Only ``ResourceProperties`` is judged, for every request type: it is all aws-eks-v2's handler reads (``apply_handler``), and
as the handler returns no new physical id, no Delete with an Update's old properties follows. ``OldResourceProperties`` is
what the stack had, and kubectl is not given it; so the rollback of an Update this guard refused (CloudFormation's Update
with the old, valid properties as the new ones and the refused ones as the old) runs, and the refused forward Update stays
refused by its own new properties. CloudFormation's request says nothing of a rollback; the guard need not know.

A request from any other stack whose name starts with ``tessera-`` (a tenant's: its tenant stack, a nested stack of its
namespace stack) is refused; the platform's own stacks (``TesseraPlatform`` and the rest) pass as before. Every refusal is an
exception, which the provider framework reports to CloudFormation as the resource's failure reason.
"""
import json
import re

from namespace_stack import is_tenant_stack, namespace_stack

MANIFEST_RESOURCE_TYPE = 'Custom::AWSCDK-EKS-KubernetesResource'
# What aws-eks-v2's KubernetesManifest sets and the namespace blueprint uses (constructs/tenant-namespace.ts `Objects`).
_ALLOWED_PROPERTIES = {'ServiceToken', 'ClusterName', 'Manifest', 'Overwrite'}
# (apiVersion, kind) of the objects a tenant's manifest may hold inside its namespace.
_NAMESPACED = {('v1', 'ResourceQuota'), ('v1', 'LimitRange'), ('v1', 'ServiceAccount'), ('networking.k8s.io/v1', 'NetworkPolicy')}
_RESTRICTED = {'pod-security.kubernetes.io/enforce': 'restricted', 'pod-security.kubernetes.io/audit': 'restricted'}
_PRUNE_LABEL = re.compile(r'^aws\.cdk\.eks/prune-[0-9a-f]{42}$')
# The hard limits of every namespace blueprint's ResourceQuota (lib/namespace-manifests.ts, every released version): the
# tier's amounts, and the two that are zero in every tier (no load balancer or node port reaches a tenant's pods).
_QUOTA_AMOUNTS = ('requests.cpu', 'limits.cpu', 'requests.memory', 'limits.memory', 'requests.nvidia.com/gpu', 'pods')
_QUOTA_ZEROS = ('services.loadbalancers', 'services.nodeports')


class TenantManifestError(Exception):
    """A tenant namespace stack's request that the cluster-admin kubectl provider refuses, or a request from another tenant stack."""


def _describe(obj):
    if not isinstance(obj, dict):
        return repr(obj)
    meta = obj.get('metadata') if isinstance(obj.get('metadata'), dict) else {}
    where = f"{meta.get('namespace')}/" if meta.get('namespace') is not None else ''
    return f"{obj.get('apiVersion')} {obj.get('kind')} {where}{meta.get('name')}"


def _namespace_problem(obj, namespace, tenant):
    meta = obj['metadata']
    if meta.get('name') != namespace:
        return f'a tenant stack may apply only its own Namespace {namespace!r}'
    if set(obj) != {'apiVersion', 'kind', 'metadata'} or set(meta) != {'name', 'labels'}:
        return 'the Namespace may have only a name and labels (no annotations, spec or other fields)'
    labels = meta['labels'] if isinstance(meta['labels'], dict) else None
    if labels is None or labels.get('tessera.io/tenant-id') != tenant or not isinstance(labels.get('tessera.io/tier'), str) \
            or not labels['tessera.io/tier'] or any(labels.get(k) != v for k, v in _RESTRICTED.items()):
        return (f"the Namespace's labels must be tessera.io/tenant-id={tenant}, a tessera.io/tier and "
                'pod-security.kubernetes.io/enforce and audit=restricted')
    extra = set(labels) - {'tessera.io/tenant-id', 'tessera.io/tier', *_RESTRICTED}
    if any(not _PRUNE_LABEL.match(k) or labels[k] != '' for k in extra):
        return f"the Namespace may carry no other label than aws-eks' prune label (has {sorted(extra)})"
    return None


def _object_problem(obj, namespace, tenant):
    if not isinstance(obj, dict) or not isinstance(obj.get('metadata'), dict):
        return 'every object must be a mapping with metadata'
    if (obj.get('apiVersion'), obj.get('kind')) == ('v1', 'Namespace'):
        return _namespace_problem(obj, namespace, tenant)
    if (obj.get('apiVersion'), obj.get('kind')) not in _NAMESPACED:
        return ('a tenant stack may apply only its Namespace and v1 ResourceQuota, LimitRange, ServiceAccount or '
                'networking.k8s.io/v1 NetworkPolicy objects in it (no other kind, no cluster-scoped object)')
    if obj['metadata'].get('namespace') != namespace:
        return f'metadata.namespace must be the tenant\'s namespace {namespace!r}'
    return None


def _quota_problem(obj):
    spec = obj.get('spec')
    if not isinstance(spec, dict) or set(spec) != {'hard'} or not isinstance(spec['hard'], dict):
        return ('its spec must be hard limits alone (no scopes or scopeSelector: a scoped quota leaves every pod it does not '
                'select unlimited)')
    hard = spec['hard']
    missing = [k for k in _QUOTA_AMOUNTS if not isinstance(hard.get(k), str) or not hard[k]]
    if missing:
        return f'spec.hard must limit {", ".join(_QUOTA_AMOUNTS)} (missing or empty: {", ".join(missing)})'
    open_ports = [k for k in _QUOTA_ZEROS if hard.get(k) != '0']
    if open_ports:
        return f'spec.hard must hold {" and ".join(_QUOTA_ZEROS)} at "0" (has {", ".join(f"{k}={hard.get(k)!r}" for k in open_ports)})'
    return None


def _limit_range_problem(obj):
    spec = obj.get('spec')
    limits = spec.get('limits') if isinstance(spec, dict) else None
    if not isinstance(limits, list) or not any(isinstance(e, dict) and e.get('type') == 'Container' for e in limits):
        return 'its spec.limits must have a Container entry'
    return None


_VALUE_CHECKS = {('v1', 'ResourceQuota'): _quota_problem, ('v1', 'LimitRange'): _limit_range_problem}


def check_manifest(manifest_text, tenant, field, applied=True):
    """Refuses a manifest that is not exactly the objects tenant ``tenant`` owns (the module's rules).

    :param manifest_text: the ``Manifest`` property: a JSON list of Kubernetes objects (aws-eks' KubernetesManifest)
    :param tenant: the tenant id
    :param field: the property's place in the request, for the message (``ResourceProperties.Manifest``)
    :param applied: whether kubectl applies it (a Create's or Update's): then its ResourceQuota and LimitRange are checked
        too (present, the quota unscoped with every blueprint's limits); a Delete's (``False``) is held to the objects'
        identity only. @default True
    :raises TenantManifestError: naming the field, the object and the rule
    """
    namespace = f'tenant-{tenant}'
    try:
        objects = json.loads(manifest_text) if isinstance(manifest_text, str) else None
    except ValueError:
        objects = None
    if not isinstance(objects, list):
        raise TenantManifestError(f'{field} of tenant {tenant!r} is not a JSON list of Kubernetes objects')
    for obj in objects:
        problem = _object_problem(obj, namespace, tenant)
        if problem:
            raise TenantManifestError(f'{field} of tenant {tenant!r}: {_describe(obj)} refused: {problem}')
    namespaces = [o for o in objects if (o.get('apiVersion'), o.get('kind')) == ('v1', 'Namespace')]
    if len(namespaces) != 1:
        raise TenantManifestError(f'{field} of tenant {tenant!r} has {len(namespaces)} Namespace objects: exactly one, {namespace!r}, is the tenant\'s')
    if not applied:
        return
    for kind, check in _VALUE_CHECKS.items():
        of_kind = [o for o in objects if (o.get('apiVersion'), o.get('kind')) == kind]
        if not of_kind:
            raise TenantManifestError(f'{field} of tenant {tenant!r} has no {kind[0]} {kind[1]}: a tenant namespace is applied with its quota and limit range')
        for obj in of_kind:
            problem = check(obj)
            if problem:
                raise TenantManifestError(f'{field} of tenant {tenant!r}: {_describe(obj)} refused: {problem}')


def check_request(event):
    """Refuses a tenant stack's request the cluster-admin provider must not run (the module's rules); others pass.

    :param event: the custom resource request as the provider framework passes it
    :raises TenantManifestError: naming the stack, the resource type, the property, or the object and the rule
    """
    stack_id = event.get('StackId')
    stack = namespace_stack(stack_id)
    if stack is None:
        if is_tenant_stack(stack_id):
            raise TenantManifestError(f'StackId {stack_id!r} is a tenant stack but no tenant namespace stack (tessera-<tenant>-namespace): '
                                      'the shared cluster kubectl provider runs no other tenant stack\'s request')
        return
    if event.get('ResourceType') != MANIFEST_RESOURCE_TYPE:
        raise TenantManifestError(f'ResourceType {event.get("ResourceType")!r} from tenant namespace stack {stack.stack!r} refused: '
                                  f'a tenant namespace stack may only apply a manifest ({MANIFEST_RESOURCE_TYPE}) through the shared cluster kubectl provider')
    request_type = event.get('RequestType')
    # ResourceProperties only: the handler reads nothing else (OldResourceProperties is never given to kubectl), so a rollback
    # of an Update refused here, whose old properties are the refused ones, runs.
    field = 'ResourceProperties'
    props = event.get(field) if isinstance(event.get(field), dict) else {}
    extra = sorted(set(props) - _ALLOWED_PROPERTIES - {'PruneLabel'})
    if extra:
        raise TenantManifestError(f'{field} of tenant namespace stack {stack.stack!r} has {extra}: a tenant namespace stack may set only '
                                  f'{sorted(_ALLOWED_PROPERTIES)} and aws-eks\' PruneLabel')
    # A Delete runs `kubectl delete`, which takes no label; an Update's label selects what --prune deletes.
    prune = props.get('PruneLabel')
    if 'PruneLabel' in props and request_type != 'Delete' and not (isinstance(prune, str) and _PRUNE_LABEL.match(prune)):
        raise TenantManifestError(f'{field}.PruneLabel {str(prune)[:100]!r} of tenant namespace stack {stack.stack!r} refused: only aws-eks\' own '
                                  'label (aws.cdk.eks/prune-<42 hex digits>) is taken, as the handler runs kubectl apply --prune -l with it')
    check_manifest(props.get('Manifest'), stack.tenant, f'{field}.Manifest', applied=request_type != 'Delete')


def handler(event, context):
    """The Lambda entry point: :func:`check_request`, then aws-eks-v2's kubectl handler."""
    check_request(event)
    import index  # aws-cdk-lib's kubectl handler, bundled beside this file
    return index.handler(event, context)
