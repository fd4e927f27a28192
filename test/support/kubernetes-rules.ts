import { Deployment } from 'kubernetes-models/apps/v1';
import { Job } from 'kubernetes-models/batch/v1';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ClusterRole, ClusterRoleBinding, Role, RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import { PriorityClass } from 'kubernetes-models/scheduling.k8s.io/v1';
import { LimitRange, Namespace, ResourceQuota, ServiceAccount } from 'kubernetes-models/v1';

/**
 * What the Kubernetes API server would refuse in an object Tessera generates, in two layers:
 * - the OpenAPI schema of its kind (`kubernetes-models`: types, required fields, `int64`,
 *   `quantity` and `int-or-string` formats);
 * - apimachinery's and the API server's validation that the schema does not carry (names per kind,
 *   label keys and values, annotation size, quantities compared, ResourceQuota keys, LimitRange
 *   ordering, NetworkPolicy peers and ports, RBAC rules, PriorityClass values, tolerations,
 *   extended resources, a Deployment's selector and restart policy, a PodDisruptionBudget's bounds). Ported rule by rule from k8s.io/apimachinery/pkg/util/validation
 *   (IsDNS1123Label, IsDNS1123Subdomain, IsQualifiedName, IsValidLabelValue), k8s.io/apimachinery
 *   /pkg/api/resource (Quantity) and k8s.io/kubernetes/pkg/apis/{core,networking,rbac,scheduling,apps,policy}
 *   /validation; no npm package carries them (kubernetes-models is the schema only).
 *
 * Each problem is a string naming the object (`Kind/name`), the field path and the value.
 * Test support only: the blueprints are checked by test/infra/kubernetes-objects.test.ts.
 */

export type KubernetesObject = { apiVersion: string; kind: string; metadata: { name?: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> }; [k: string]: unknown };

const SCHEMAS: Record<string, new (o: any) => { validate(): void }> = {
  'v1/Namespace': Namespace,
  'v1/ResourceQuota': ResourceQuota,
  'v1/LimitRange': LimitRange,
  'v1/ServiceAccount': ServiceAccount,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
  'batch/v1/Job': Job,
  'apps/v1/Deployment': Deployment,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'rbac.authorization.k8s.io/v1/Role': Role,
  'rbac.authorization.k8s.io/v1/RoleBinding': RoleBinding,
  'rbac.authorization.k8s.io/v1/ClusterRole': ClusterRole,
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': ClusterRoleBinding,
  'scheduling.k8s.io/v1/PriorityClass': PriorityClass,
};

/** Kinds whose objects live outside any namespace. */
export const CLUSTER_SCOPED_KINDS = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding', 'PriorityClass', 'CustomResourceDefinition', 'StorageClass', 'PersistentVolume', 'Node']);

// k8s.io/apimachinery/pkg/util/validation/validation.go
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const QUALIFIED_NAME_PART = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const IANA_SVC_NAME = /^[a-z0-9]([a-z0-9-]{0,13}[a-z0-9])?$/;
// k8s.io/apimachinery/pkg/api/resource/quantity.go: <signedNumber><suffix>
const QUANTITY = /^([+-]?(?:\d+|\d+\.\d+|\d+\.|\.\d+))(Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E|[eE][+-]?\d+)?$/;
const BINARY: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const DECIMAL: Record<string, number> = { m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };
/** ANNOTATION total: k8s.io/apimachinery/pkg/api/validation/objectmeta.go TotalAnnotationSizeLimitB. */
const TOTAL_ANNOTATION_BYTES = 256 * 1024;

export function dns1123LabelProblem(value: string): string | undefined {
  if (value.length > 63) return `must be no more than 63 characters (${value.length})`;
  if (!DNS1123_LABEL.test(value)) return 'must be a lowercase RFC 1123 label (a-z, 0-9, "-", alphanumeric at both ends)';
  return undefined;
}

export function dns1123SubdomainProblem(value: string): string | undefined {
  if (value.length > 253) return `must be no more than 253 characters (${value.length})`;
  if (!DNS1123_SUBDOMAIN.test(value)) return 'must be a lowercase RFC 1123 subdomain';
  return undefined;
}

/** IsQualifiedName: `[prefix/]name`, prefix a DNS subdomain (≤253), name ≤63 of `[A-Za-z0-9][-A-Za-z0-9_.]*[A-Za-z0-9]`. */
export function qualifiedNameProblem(value: string): string | undefined {
  const parts = value.split('/');
  if (parts.length > 2) return 'must be a qualified name: at most one "/"';
  const name = parts.at(-1)!;
  if (parts.length === 2) {
    if (parts[0] === '') return 'prefix part must be non-empty';
    const p = dns1123SubdomainProblem(parts[0]!);
    if (p) return `prefix part ${p}`;
  }
  if (name.length === 0) return 'name part must be non-empty';
  if (name.length > 63) return `name part must be no more than 63 characters (${name.length})`;
  if (!QUALIFIED_NAME_PART.test(name)) return 'name part must consist of alphanumeric characters, "-", "_" or ".", starting and ending with an alphanumeric character';
  return undefined;
}

export function labelValueProblem(value: string): string | undefined {
  if (value.length > 63) return `must be no more than 63 characters (${value.length})`;
  if (!LABEL_VALUE.test(value)) return 'must be empty or consist of alphanumeric characters, "-", "_" or ".", starting and ending with an alphanumeric character';
  return undefined;
}

/**
 * The value of a Kubernetes quantity string in base units (`500m` → 0.5, `2Gi` → 2147483648).
 * @throws Error when `q` is not a quantity (resource.ParseQuantity's syntax)
 */
export function quantityValue(q: string): number {
  const m = QUANTITY.exec(q);
  if (!m) throw new Error(`"${q}" is not a quantity`);
  const n = Number(m[1]);
  const suffix = m[2] ?? '';
  if (suffix in BINARY) return n * BINARY[suffix]!;
  if (suffix in DECIMAL) return n * DECIMAL[suffix]!;
  return n * 10 ** Number(suffix.slice(1));
}

function quantityProblem(q: unknown): string | undefined {
  if (typeof q !== 'string') return `must be a quantity string, not ${JSON.stringify(q)}`;
  if (!QUANTITY.test(q)) return `"${q}" is not a quantity (resource.ParseQuantity)`;
  if (quantityValue(q) < 0) return `"${q}" must be greater than or equal to 0`;
  return undefined;
}

/** An IPv4 CIDR as [network address, prefix length], or undefined when it is not one. */
function ipv4Cidr(cidr: string): [number, number] | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr);
  if (!m) return undefined;
  const octets = m.slice(1, 5).map(Number);
  const prefix = Number(m[5]);
  if (octets.some((o) => o > 255) || prefix > 32) return undefined;
  const address = octets.reduce((a, o) => a * 256 + o, 0);
  const size = 2 ** (32 - prefix);
  return [Math.floor(address / size) * size, prefix];
}

function strictlyInside(inner: string, outer: string): boolean {
  const i = ipv4Cidr(inner);
  const o = ipv4Cidr(outer);
  if (!i || !o || i[1] <= o[1]) return false;
  const size = 2 ** (32 - o[1]);
  return Math.floor(i[0] / size) * size === o[0];
}

/** Names per kind (the API server's ValidateXName functions). */
function nameProblem(kind: string, name: string): string | undefined {
  switch (kind) {
    case 'Namespace': return dns1123LabelProblem(name);
    // ValidateJob: the name becomes the pods' `batch.kubernetes.io/job-name` label value.
    case 'Job': return dns1123LabelProblem(name);
    case 'Role': case 'RoleBinding': case 'ClusterRole': case 'ClusterRoleBinding':
      return name.includes('/') || name.includes('%') || name === '.' || name === '..' ? 'must be a path segment name' : undefined;
    default: return dns1123SubdomainProblem(name);
  }
}

function metadataProblems(o: KubernetesObject, at: (path: string, msg: string) => string): string[] {
  const out: string[] = [];
  const { name, namespace, labels = {}, annotations = {} } = o.metadata ?? {};
  if (!name) out.push(at('metadata.name', 'is required'));
  else {
    const p = nameProblem(o.kind, name);
    if (p) out.push(at('metadata.name', `"${name}" ${p}`));
  }
  if (CLUSTER_SCOPED_KINDS.has(o.kind)) {
    if (namespace !== undefined) out.push(at('metadata.namespace', `"${namespace}" set on a cluster-scoped kind`));
  } else if (!namespace) out.push(at('metadata.namespace', 'is required for a namespaced kind (it would land in the applier\'s default namespace)'));
  else {
    const p = dns1123LabelProblem(namespace);
    if (p) out.push(at('metadata.namespace', `"${namespace}" ${p}`));
  }
  out.push(...labelMapProblems(labels, 'metadata.labels', at));
  let size = 0;
  for (const [k, v] of Object.entries(annotations)) {
    const p = qualifiedNameProblem(k.toLowerCase());
    if (p) out.push(at(`metadata.annotations[${k}]`, `key ${p}`));
    size += Buffer.byteLength(k) + Buffer.byteLength(v);
  }
  if (size > TOTAL_ANNOTATION_BYTES) out.push(at('metadata.annotations', `total size ${size} B exceeds ${TOTAL_ANNOTATION_BYTES} B`));
  return out;
}

function labelMapProblems(labels: Record<string, unknown>, path: string, at: (path: string, msg: string) => string): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(labels)) {
    const kp = qualifiedNameProblem(k);
    if (kp) out.push(at(`${path}[${k}]`, `key ${kp}`));
    if (typeof v !== 'string') out.push(at(`${path}[${k}]`, `value must be a string, not ${JSON.stringify(v)}`));
    else {
      const vp = labelValueProblem(v);
      if (vp) out.push(at(`${path}[${k}]`, `value "${v}" ${vp}`));
    }
  }
  return out;
}

function selectorProblems(selector: any, path: string, at: (path: string, msg: string) => string): string[] {
  if (!selector) return [];
  const out = labelMapProblems(selector.matchLabels ?? {}, `${path}.matchLabels`, at);
  for (const [i, e] of (selector.matchExpressions ?? []).entries()) {
    const p = qualifiedNameProblem(e.key);
    if (p) out.push(at(`${path}.matchExpressions[${i}].key`, p));
    if (!['In', 'NotIn', 'Exists', 'DoesNotExist'].includes(e.operator)) out.push(at(`${path}.matchExpressions[${i}].operator`, `"${e.operator}" is not a selector operator`));
    const needsValues = e.operator === 'In' || e.operator === 'NotIn';
    if (needsValues !== ((e.values ?? []).length > 0)) out.push(at(`${path}.matchExpressions[${i}].values`, needsValues ? 'must be non-empty for In/NotIn' : 'must be empty for Exists/DoesNotExist'));
  }
  return out;
}

// pkg/apis/core/helper: IsStandardQuotaResourceName and the integer ones (IsIntegerResourceName).
const STANDARD_QUOTA = new Set(['pods', 'services', 'replicationcontrollers', 'resourcequotas', 'secrets', 'configmaps', 'persistentvolumeclaims',
  'services.nodeports', 'services.loadbalancers', 'cpu', 'memory', 'ephemeral-storage', 'storage',
  'requests.cpu', 'requests.memory', 'requests.ephemeral-storage', 'requests.storage', 'limits.cpu', 'limits.memory', 'limits.ephemeral-storage']);
const INTEGER_QUOTA = new Set(['pods', 'services', 'replicationcontrollers', 'resourcequotas', 'secrets', 'configmaps', 'persistentvolumeclaims', 'services.nodeports', 'services.loadbalancers']);
const QUOTA_SCOPES = new Set(['Terminating', 'NotTerminating', 'BestEffort', 'NotBestEffort', 'PriorityClass', 'CrossNamespacePodAffinity', 'VolumeAttributesClass']);
const NATIVE_RESOURCES = new Set(['cpu', 'memory', 'ephemeral-storage', 'storage', 'pods']);

/** A resource name that is not native is an extended resource: a qualified name with a domain outside kubernetes.io. */
function isExtendedResource(name: string): boolean {
  return name.includes('/') && !name.split('/')[0]!.endsWith('kubernetes.io') && !name.startsWith('requests.');
}

function resourceQuotaProblems(o: any, at: (path: string, msg: string) => string): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(o.spec?.hard ?? {})) {
    const path = `spec.hard[${k}]`;
    const extended = k.startsWith('requests.') && isExtendedResource(k.slice('requests.'.length));
    const objectCount = k.startsWith('count/');
    if (!STANDARD_QUOTA.has(k) && !extended && !objectCount && !k.startsWith('hugepages-') && !k.startsWith('requests.hugepages-') && !/\.storageclass\.storage\.k8s\.io\//.test(k)) {
      out.push(at(path, `"${k}" is not a quota resource (must be a standard quota resource, requests.<extended resource>, or count/<resource>)`));
    }
    if (k.startsWith('limits.') && !STANDARD_QUOTA.has(k)) out.push(at(path, 'extended resources are quota\'d with requests.<name> only'));
    const p = quantityProblem(v);
    if (p) out.push(at(path, p));
    else if ((INTEGER_QUOTA.has(k) || objectCount || extended) && !Number.isInteger(quantityValue(v as string))) out.push(at(path, `"${v}" must be an integer`));
  }
  for (const s of o.spec?.scopes ?? []) if (!QUOTA_SCOPES.has(s)) out.push(at('spec.scopes', `"${s}" is not a quota scope`));
  return out;
}

function limitRangeProblems(o: any, at: (path: string, msg: string) => string): string[] {
  const out: string[] = [];
  for (const [i, item] of (o.spec?.limits ?? []).entries()) {
    const path = `spec.limits[${i}]`;
    if (!['Container', 'Pod', 'PersistentVolumeClaim'].includes(item.type)) out.push(at(`${path}.type`, `"${item.type}" is not a limit type`));
    const fields = ['min', 'max', 'default', 'defaultRequest', 'maxLimitRequestRatio'] as const;
    const values: Record<string, Record<string, number>> = {};
    for (const f of fields) {
      values[f] = {};
      for (const [k, v] of Object.entries(item[f] ?? {})) {
        if (!NATIVE_RESOURCES.has(k) && !isExtendedResource(k)) out.push(at(`${path}.${f}[${k}]`, `"${k}" is not a resource name`));
        const p = quantityProblem(v);
        if (p) out.push(at(`${path}.${f}[${k}]`, p));
        else values[f]![k] = quantityValue(v as string);
      }
    }
    if (item.type === 'Pod' && (item.default || item.defaultRequest)) out.push(at(path, 'default and defaultRequest are not supported for type Pod'));
    // ValidateLimitRange: min ≤ defaultRequest ≤ default ≤ max, min ≤ max.
    const order: Array<[string, string, string]> = [
      ['min', 'max', 'min value %a is greater than max value %b'],
      ['min', 'defaultRequest', 'min value %a is greater than default request value %b'],
      ['defaultRequest', 'max', 'default request value %a is greater than max value %b'],
      ['defaultRequest', 'default', 'default request value %a is greater than default limit value %b'],
      ['min', 'default', 'min value %a is greater than default value %b'],
      ['default', 'max', 'default value %a is greater than max value %b'],
    ];
    const keys = new Set(fields.flatMap((f) => Object.keys(values[f]!)));
    for (const k of keys) {
      for (const [lo, hi, message] of order) {
        const a = values[lo]![k];
        const b = values[hi]![k];
        if (a !== undefined && b !== undefined && a > b) {
          out.push(at(`${path}.${lo}[${k}]`, message.replace('%a', item[lo][k]).replace('%b', item[hi][k])));
        }
      }
      const ratio = values.maxLimitRequestRatio![k];
      if (ratio !== undefined && ratio < 1) out.push(at(`${path}.maxLimitRequestRatio[${k}]`, `ratio ${item.maxLimitRequestRatio[k]} is less than 1`));
    }
  }
  return out;
}

function portProblems(ports: any[] | undefined, path: string, at: (path: string, msg: string) => string): string[] {
  const out: string[] = [];
  for (const [i, p] of (ports ?? []).entries()) {
    if (p.protocol !== undefined && !['TCP', 'UDP', 'SCTP'].includes(p.protocol)) out.push(at(`${path}[${i}].protocol`, `"${p.protocol}" must be TCP, UDP or SCTP`));
    if (typeof p.port === 'number') {
      if (!Number.isInteger(p.port) || p.port < 1 || p.port > 65535) out.push(at(`${path}[${i}].port`, `${p.port} must be between 1 and 65535`));
    } else if (typeof p.port === 'string' && !(IANA_SVC_NAME.test(p.port) && /[a-z]/.test(p.port) && !p.port.includes('--'))) {
      out.push(at(`${path}[${i}].port`, `"${p.port}" must be a port number or an IANA service name`));
    }
    if (p.endPort !== undefined && (typeof p.port !== 'number' || p.endPort < p.port || p.endPort > 65535)) out.push(at(`${path}[${i}].endPort`, `${p.endPort} needs a numeric port at or below it and at most 65535`));
  }
  return out;
}

function peerProblems(peers: any[] | undefined, path: string, at: (path: string, msg: string) => string): string[] {
  const out: string[] = [];
  for (const [i, peer] of (peers ?? []).entries()) {
    const p = `${path}[${i}]`;
    const set = ['podSelector', 'namespaceSelector', 'ipBlock'].filter((f) => peer[f] !== undefined);
    if (set.length === 0) out.push(at(p, 'must specify a peer'));
    if (peer.ipBlock !== undefined && set.length > 1) out.push(at(p, 'may not specify ipBlock with another peer'));
    out.push(...selectorProblems(peer.podSelector, `${p}.podSelector`, at), ...selectorProblems(peer.namespaceSelector, `${p}.namespaceSelector`, at));
    if (peer.ipBlock) {
      const { cidr, except = [] } = peer.ipBlock;
      if (!ipv4Cidr(cidr)) out.push(at(`${p}.ipBlock.cidr`, `"${cidr}" is not a valid IPv4 CIDR`));
      for (const [j, e] of except.entries()) {
        if (!ipv4Cidr(e)) out.push(at(`${p}.ipBlock.except[${j}]`, `"${e}" is not a valid IPv4 CIDR`));
        else if (!strictlyInside(e, cidr)) out.push(at(`${p}.ipBlock.except[${j}]`, `"${e}" must be a strict subset of \`cidr\` ${cidr}`));
      }
    }
  }
  return out;
}

function networkPolicyProblems(o: any, at: (path: string, msg: string) => string): string[] {
  const spec = o.spec ?? {};
  const out = selectorProblems(spec.podSelector, 'spec.podSelector', at);
  const types: string[] = spec.policyTypes ?? [];
  for (const t of types) if (t !== 'Ingress' && t !== 'Egress') out.push(at('spec.policyTypes', `"${t}" must be Ingress or Egress`));
  if (types.length > 2 || new Set(types).size !== types.length) out.push(at('spec.policyTypes', 'may list Ingress and Egress once each'));
  for (const [i, r] of (spec.ingress ?? []).entries()) out.push(...portProblems(r.ports, `spec.ingress[${i}].ports`, at), ...peerProblems(r.from, `spec.ingress[${i}].from`, at));
  for (const [i, r] of (spec.egress ?? []).entries()) out.push(...portProblems(r.ports, `spec.egress[${i}].ports`, at), ...peerProblems(r.to, `spec.egress[${i}].to`, at));
  return out;
}

// k8s.io/kubernetes/pkg/apis/rbac/validation: verbs and resources non-empty; a rule with
// nonResourceURLs only in ClusterRoles.
function rbacRuleProblems(o: any, at: (path: string, msg: string) => string): string[] {
  const out: string[] = [];
  for (const [i, r] of (o.rules ?? []).entries()) {
    if (!r.verbs?.length) out.push(at(`rules[${i}].verbs`, 'must contain at least one value'));
    if (r.nonResourceURLs?.length) {
      if (o.kind === 'Role') out.push(at(`rules[${i}].nonResourceURLs`, 'namespaced rules cannot apply to non-resource URLs'));
      if (r.resources?.length || r.apiGroups?.length) out.push(at(`rules[${i}]`, 'rules cannot apply to both regular resources and non-resource URLs'));
    } else if (!r.resources?.length) out.push(at(`rules[${i}].resources`, 'resource rules must supply at least one resource'));
    else if (!r.apiGroups) out.push(at(`rules[${i}].apiGroups`, 'resource rules must supply at least one api group'));
  }
  return out;
}

function podSpecProblems(spec: any, path: string, at: (path: string, msg: string) => string): string[] {
  const out: string[] = [];
  if (!spec) return [at(path, 'is required')];
  for (const [i, t] of (spec.tolerations ?? []).entries()) {
    const p = `${path}.tolerations[${i}]`;
    if (t.key !== undefined && t.key !== '') { const kp = qualifiedNameProblem(t.key); if (kp) out.push(at(`${p}.key`, kp)); }
    if (t.operator !== undefined && !['Exists', 'Equal'].includes(t.operator)) out.push(at(`${p}.operator`, `"${t.operator}" must be Exists or Equal`));
    if (t.operator === 'Exists' && t.value) out.push(at(`${p}.value`, 'must be empty when operator is Exists'));
    if (t.effect !== undefined && !['NoSchedule', 'PreferNoSchedule', 'NoExecute'].includes(t.effect)) out.push(at(`${p}.effect`, `"${t.effect}" must be NoSchedule, PreferNoSchedule or NoExecute`));
  }
  out.push(...labelMapProblems(spec.nodeSelector ?? {}, `${path}.nodeSelector`, at));
  if (spec.serviceAccountName !== undefined) { const p = dns1123SubdomainProblem(spec.serviceAccountName); if (p) out.push(at(`${path}.serviceAccountName`, p)); }
  const volumes = new Set<string>();
  for (const [i, v] of (spec.volumes ?? []).entries()) {
    const p = dns1123LabelProblem(v.name); if (p) out.push(at(`${path}.volumes[${i}].name`, p));
    volumes.add(v.name);
    if (v.emptyDir?.sizeLimit !== undefined) { const q = quantityProblem(v.emptyDir.sizeLimit); if (q) out.push(at(`${path}.volumes[${i}].emptyDir.sizeLimit`, q)); }
  }
  for (const [i, c] of [...(spec.initContainers ?? []), ...(spec.containers ?? [])].entries()) {
    const p = `${path}.containers[${i}]`;
    const np = dns1123LabelProblem(c.name ?? ''); if (np) out.push(at(`${p}.name`, np));
    if (!c.image) out.push(at(`${p}.image`, 'is required'));
    for (const [j, e] of (c.env ?? []).entries()) {
      // RelaxedEnvironmentVariableValidation (GA in 1.34): any printable ASCII but "=".
      if (!/^[\x20-\x3c\x3e-\x7e]+$/.test(e.name ?? '')) out.push(at(`${p}.env[${j}].name`, `"${e.name}" must be printable ASCII characters other than "="`));
    }
    for (const [j, m] of (c.volumeMounts ?? []).entries()) if (!volumes.has(m.name)) out.push(at(`${p}.volumeMounts[${j}].name`, `"${m.name}" is not a volume of the pod`));
    const { requests = {}, limits = {} } = c.resources ?? {};
    for (const [f, map] of [['requests', requests], ['limits', limits]] as const) {
      for (const [k, v] of Object.entries(map)) { const q = quantityProblem(v); if (q) out.push(at(`${p}.resources.${f}[${k}]`, q)); }
    }
    for (const [k, v] of Object.entries(requests)) {
      const limit = (limits as Record<string, string>)[k];
      if (QUANTITY.test(String(v)) && limit !== undefined && QUANTITY.test(limit) && quantityValue(String(v)) > quantityValue(limit)) out.push(at(`${p}.resources.requests[${k}]`, `must be less than or equal to ${k} limit of ${limit}`));
      if (isExtendedResource(k)) {
        if (limit === undefined || limit !== v) out.push(at(`${p}.resources.requests[${k}]`, `must be equal to ${k} limit of ${limit}: extended resources cannot be overcommitted`));
        if (QUANTITY.test(String(v)) && !Number.isInteger(quantityValue(String(v)))) out.push(at(`${p}.resources.requests[${k}]`, 'must be an integer'));
      }
    }
  }
  return out;
}

function jobProblems(o: any, at: (path: string, msg: string) => string): string[] {
  const out = podSpecProblems(o.spec?.template?.spec, 'spec.template.spec', at);
  const restart = o.spec?.template?.spec?.restartPolicy;
  if (restart !== 'Never' && restart !== 'OnFailure') out.push(at('spec.template.spec.restartPolicy', `"${restart}" must be Never or OnFailure for a Job`));
  out.push(...labelMapProblems(o.spec?.template?.metadata?.labels ?? {}, 'spec.template.metadata.labels', at));
  for (const f of ['activeDeadlineSeconds', 'ttlSecondsAfterFinished', 'backoffLimit'] as const) {
    const v = o.spec?.[f];
    if (v !== undefined && (!Number.isInteger(v) || v < (f === 'activeDeadlineSeconds' ? 1 : 0))) out.push(at(`spec.${f}`, `${v} must be a ${f === 'activeDeadlineSeconds' ? 'positive' : 'non-negative'} integer`));
  }
  return out;
}

/** A label selector's `matchLabels` as a map (`matchExpressions` are not read: Tessera's objects use none). */
function matchLabelsProblems(selector: any, path: string, at: (path: string, msg: string) => string): string[] {
  if (!selector || (Object.keys(selector.matchLabels ?? {}).length === 0 && !(selector.matchExpressions ?? []).length)) return [at(path, 'empty selector is invalid')];
  return labelMapProblems(selector.matchLabels ?? {}, `${path}.matchLabels`, at);
}

// k8s.io/kubernetes/pkg/apis/apps/validation ValidateDeploymentSpec: a non-empty selector that selects the pod template's
// labels ("`selector` does not match template `labels`"), the template's restartPolicy Always (the default), replicas >= 0.
function deploymentProblems(o: any, at: (path: string, msg: string) => string): string[] {
  const spec = o.spec ?? {};
  const out = matchLabelsProblems(spec.selector, 'spec.selector', at);
  const labels: Record<string, string> = spec.template?.metadata?.labels ?? {};
  out.push(...labelMapProblems(labels, 'spec.template.metadata.labels', at));
  for (const [k, v] of Object.entries<string>(spec.selector?.matchLabels ?? {})) {
    if (labels[k] !== v) out.push(at('spec.template.metadata.labels', `selector does not match template labels (${k}=${v})`));
  }
  const restart = spec.template?.spec?.restartPolicy;
  if (restart !== undefined && restart !== 'Always') out.push(at('spec.template.spec.restartPolicy', `"${restart}" must be Always for a Deployment`));
  if (spec.replicas !== undefined && (!Number.isInteger(spec.replicas) || spec.replicas < 0)) out.push(at('spec.replicas', `${spec.replicas} must be a non-negative integer`));
  out.push(...podSpecProblems(spec.template?.spec, 'spec.template.spec', at));
  return out;
}

// k8s.io/kubernetes/pkg/apis/policy/validation ValidatePodDisruptionBudgetSpec: minAvailable and maxUnavailable not both,
// each a non-negative integer or a percentage of at most 100%.
function podDisruptionBudgetProblems(o: any, at: (path: string, msg: string) => string): string[] {
  const spec = o.spec ?? {};
  const out: string[] = [];
  if (spec.minAvailable !== undefined && spec.maxUnavailable !== undefined) out.push(at('spec', 'minAvailable and maxUnavailable cannot be both set'));
  for (const f of ['minAvailable', 'maxUnavailable'] as const) {
    const v = spec[f];
    if (v === undefined) continue;
    const percent = typeof v === 'string' ? /^(\d+)%$/.exec(v) : undefined;
    if (typeof v === 'number' ? !Number.isInteger(v) || v < 0 : !percent || Number(percent[1]) > 100) out.push(at(`spec.${f}`, `${JSON.stringify(v)} must be a non-negative integer or a percentage of at most 100%`));
  }
  if (spec.selector !== undefined) out.push(...labelMapProblems(spec.selector.matchLabels ?? {}, 'spec.selector.matchLabels', at));
  return out;
}

/**
 * Every problem the API server would report for `o` (schema and validation), as
 * `Kind/name: path: message` strings; [] when it would accept the object. Kinds this module has
 * no schema for are reported, so a new kind cannot pass unchecked.
 */
export function kubernetesObjectProblems(o: KubernetesObject): string[] {
  const id = `${o.kind}/${o.metadata?.name ?? '?'}`;
  const at = (path: string, msg: string) => `${id}: ${path}: ${msg}`;
  const Schema = SCHEMAS[`${o.apiVersion}/${o.kind}`];
  if (!Schema) return [at('apiVersion/kind', `${o.apiVersion} ${o.kind} has no schema here (test/support/kubernetes-rules.ts)`)];
  const out: string[] = [];
  try {
    new Schema(o).validate();
  } catch (e) {
    out.push(at('(schema)', (e as Error).message));
  }
  out.push(...metadataProblems(o, at));
  switch (o.kind) {
    case 'ResourceQuota': out.push(...resourceQuotaProblems(o, at)); break;
    case 'LimitRange': out.push(...limitRangeProblems(o, at)); break;
    case 'NetworkPolicy': out.push(...networkPolicyProblems(o, at)); break;
    case 'Job': out.push(...jobProblems(o, at)); break;
    case 'Deployment': out.push(...deploymentProblems(o, at)); break;
    case 'PodDisruptionBudget': out.push(...podDisruptionBudgetProblems(o, at)); break;
    case 'Role': case 'ClusterRole': out.push(...rbacRuleProblems(o, at)); break;
    case 'PriorityClass': {
      const v = (o as any).value;
      // ValidatePriorityClass: user classes at most HighestUserDefinablePriority (1e9).
      if (!Number.isInteger(v) || v < -2147483648 || v > 1_000_000_000) out.push(at('value', `${v} must be an integer of at most 1000000000`));
      break;
    }
    default: break;
  }
  return out;
}
