/**
 * The Kubernetes objects that make a namespace on the shared cluster a tenant boundary. Pure data,
 * rendered once here and applied by the namespace blueprint (values may be CloudFormation tokens).
 */

export interface NamespaceQuota {
  readonly cpu: number;
  readonly memoryGiB: number;
  readonly gpus: number;
  readonly pods: number;
}

export interface NamespaceManifestsInput {
  readonly namespace: string;
  readonly tenantId: string;
  readonly tier: string;
  readonly quota: NamespaceQuota;
  /** The tenant's own VPC: its database and cache are the only in-VPC destinations pods may reach. */
  readonly tenantVpcCidr: string;
  /** Ports of the tenant's database and cache. */
  readonly dataPorts: number[];
  /** The shared cluster's VPC, where the interface endpoints (STS, ECR, S3 gateway...) answer on 443. */
  readonly platformVpcCidr: string;
  /** Service account whose pods receive the tenant's Pod Identity role. */
  readonly serviceAccount: string;
}

const PRIVATE_RANGES = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '169.254.0.0/16'];

/** EKS Pod Identity agent: the link-local address pods fetch credentials from. */
export const POD_IDENTITY_AGENT_CIDR = '169.254.170.23/32';

/**
 * A LimitRange default (`quantity`, worth `value` in the quota's unit: vCPUs or GiB) lowered to the
 * quota's `max` (`${max}${unit}`) when the quota is smaller: the API server refuses a LimitRange
 * whose default or default request exceeds its max ("default value 500m is greater than max value
 * 250m", ValidateLimitRange in k8s.io/kubernetes/pkg/apis/core/validation), and the config takes
 * any positive quota (lib/config/schema.ts compute.quota).
 */
function atMost(value: number, quantity: string, max: number, unit = ''): string {
  return max < value ? `${max}${unit}` : quantity;
}

export type KubernetesObject = Record<string, unknown> & { apiVersion: string; kind: string; metadata: Record<string, unknown> };

export function renderNamespaceManifests(input: NamespaceManifestsInput): KubernetesObject[] {
  const { namespace } = input;
  const labels = { 'tessera.io/tenant-id': input.tenantId, 'tessera.io/tier': input.tier };
  const meta = (name: string) => ({ name, namespace, labels });
  const tcp = (port: number) => ({ protocol: 'TCP', port });

  return [
    {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: {
        name: namespace,
        labels: {
          ...labels,
          'pod-security.kubernetes.io/enforce': 'restricted',
          'pod-security.kubernetes.io/audit': 'restricted',
        },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'ResourceQuota',
      metadata: meta('tenant-quota'),
      spec: {
        hard: {
          'requests.cpu': String(input.quota.cpu),
          'limits.cpu': String(input.quota.cpu),
          'requests.memory': `${input.quota.memoryGiB}Gi`,
          'limits.memory': `${input.quota.memoryGiB}Gi`,
          'requests.nvidia.com/gpu': String(input.quota.gpus),
          pods: String(input.quota.pods),
          'services.loadbalancers': '0',
          'services.nodeports': '0',
        },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'LimitRange',
      metadata: meta('tenant-defaults'),
      spec: {
        limits: [
          {
            type: 'Container',
            default: { cpu: atMost(0.5, '500m', input.quota.cpu), memory: atMost(0.5, '512Mi', input.quota.memoryGiB, 'Gi') },
            defaultRequest: { cpu: atMost(0.1, '100m', input.quota.cpu), memory: atMost(0.125, '128Mi', input.quota.memoryGiB, 'Gi') },
            max: { cpu: String(input.quota.cpu), memory: `${input.quota.memoryGiB}Gi` },
          },
        ],
      },
    },
    {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: meta(input.serviceAccount),
    },
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: meta('default-deny-all'),
      spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] },
    },
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: meta('allow-within-namespace'),
      spec: {
        podSelector: {},
        policyTypes: ['Ingress', 'Egress'],
        ingress: [{ from: [{ podSelector: {} }] }],
        egress: [{ to: [{ podSelector: {} }] }],
      },
    },
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: meta('allow-dns'),
      spec: {
        podSelector: {},
        policyTypes: ['Egress'],
        egress: [
          {
            to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } }, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }],
            ports: [{ protocol: 'UDP', port: 53 }, tcp(53)],
          },
        ],
      },
    },
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: meta('allow-tenant-data-and-aws'),
      spec: {
        podSelector: {},
        policyTypes: ['Egress'],
        egress: [
          { to: [{ ipBlock: { cidr: input.tenantVpcCidr } }], ports: input.dataPorts.map(tcp) },
          { to: [{ ipBlock: { cidr: input.platformVpcCidr } }], ports: [tcp(443)] },
          // S3 and DynamoDB gateway endpoints answer on public addresses; the shared cluster's VPC has
          // no NAT, so public 443 reaches those endpoints and nothing else.
          { to: [{ ipBlock: { cidr: '0.0.0.0/0', except: PRIVATE_RANGES } }], ports: [tcp(443)] },
          { to: [{ ipBlock: { cidr: POD_IDENTITY_AGENT_CIDR } }], ports: [tcp(80)] },
        ],
      },
    },
  ];
}
