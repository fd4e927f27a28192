/**
 * The instance sizes AWS sells, for the families Tessera lets a tier name.
 *
 * A tier naming `p4d.xlarge` must fail at synth, not at CreateNodegroup an hour into an
 * onboarding. The catalog is deliberately a closed list: a family that is not here is refused
 * with the list of families that are, so adding one is a one-line change in this file.
 */

const GPU_FAMILIES: Record<string, readonly string[]> = {
  g4dn: ['xlarge', '2xlarge', '4xlarge', '8xlarge', '12xlarge', '16xlarge', 'metal'],
  g5: ['xlarge', '2xlarge', '4xlarge', '8xlarge', '12xlarge', '16xlarge', '24xlarge', '48xlarge'],
  g6: ['xlarge', '2xlarge', '4xlarge', '8xlarge', '12xlarge', '16xlarge', '24xlarge', '48xlarge'],
  g6e: ['xlarge', '2xlarge', '4xlarge', '8xlarge', '12xlarge', '16xlarge', '24xlarge', '48xlarge'],
  p3: ['2xlarge', '8xlarge', '16xlarge'],
  p3dn: ['24xlarge'],
  p4d: ['24xlarge'],
  p4de: ['24xlarge'],
  p5: ['4xlarge', '48xlarge'],
  p5e: ['48xlarge'],
  p5en: ['48xlarge'],
};

const GENERAL_FAMILIES: Record<string, readonly string[]> = {
  m6i: ['large', 'xlarge', '2xlarge', '4xlarge', '8xlarge', '12xlarge', '16xlarge', '24xlarge', '32xlarge'],
  m7i: ['large', 'xlarge', '2xlarge', '4xlarge', '8xlarge', '12xlarge', '16xlarge', '24xlarge', '48xlarge'],
  m7g: ['medium', 'large', 'xlarge', '2xlarge', '4xlarge', '8xlarge', '12xlarge', '16xlarge'],
  c7i: ['large', 'xlarge', '2xlarge', '4xlarge', '8xlarge', '12xlarge', '16xlarge', '24xlarge', '48xlarge'],
  t3: ['medium', 'large', 'xlarge', '2xlarge'],
};

const DB_FAMILIES: Record<string, readonly string[]> = {
  't4g': ['micro', 'small', 'medium', 'large', 'xlarge', '2xlarge'],
  't3': ['micro', 'small', 'medium', 'large', 'xlarge', '2xlarge'],
  'm7g': ['large', 'xlarge', '2xlarge', '4xlarge', '8xlarge', '12xlarge', '16xlarge'],
  'm6i': ['large', 'xlarge', '2xlarge', '4xlarge', '8xlarge', '12xlarge', '16xlarge', '24xlarge', '32xlarge'],
  'r7g': ['large', 'xlarge', '2xlarge', '4xlarge', '8xlarge', '12xlarge', '16xlarge'],
  'r6i': ['large', 'xlarge', '2xlarge', '4xlarge', '8xlarge', '12xlarge', '16xlarge', '24xlarge', '32xlarge'],
};

const CACHE_FAMILIES: Record<string, readonly string[]> = {
  t4g: ['micro', 'small', 'medium'],
  m7g: ['large', 'xlarge', '2xlarge', '4xlarge', '8xlarge', '12xlarge', '16xlarge'],
  r7g: ['large', 'xlarge', '2xlarge', '4xlarge', '8xlarge', '12xlarge', '16xlarge'],
};

/** Why `type` is not a sellable instance type of the catalog, or undefined when it is. */
/** `what` carries its article ("an RDS", "a SageMaker"). */
function checkAgainst(catalog: Record<string, readonly string[]>, type: string, what: string, prefix = ''): string | undefined {
  const match = /^([a-z0-9-]+)\.([a-z0-9]+)$/.exec(type);
  if (!match) return `is not ${what} instance type (expected ${prefix}family.size, e.g. ${prefix}${exampleOf(catalog)})`;
  const [, family, size] = match;
  const sizes = catalog[family];
  if (!sizes) {
    return `is not ${what} instance type Tessera knows: family "${family}" is not one of ${Object.keys(catalog).join(', ')}`;
  }
  if (!sizes.includes(size)) {
    return `is not ${what} instance type AWS sells: ${family} comes only as ${sizes.map((s) => `${prefix}${family}.${s}`).join(', ')}`;
  }
  return undefined;
}

function exampleOf(catalog: Record<string, readonly string[]>): string {
  const [family, sizes] = Object.entries(catalog)[0];
  return `${family}.${sizes[0]}`;
}

/**
 * The CPU architecture of an EC2 instance type, by AWS's naming convention: a "g" among the
 * attribute letters after the generation digit is AWS Graviton (m7g, c7gn, r8g, g5g), and the a1
 * family is Graviton too; everything else here is x86_64. This is the rule CDK applies
 * (`ec2.InstanceType.architecture`), which a managed node group's AMI type must match, else synth
 * dies with AmiTypeDoesNotMatchInstanceArchitecture.
 * Source: https://docs.aws.amazon.com/ec2/latest/instancetypes/instance-type-names.html
 * (processor families: a = AMD, g = AWS Graviton, i = Intel).
 */
export function ec2Architecture(instanceType: string): 'arm64' | 'x86_64' {
  const match = /^([a-z]+)(\d{1,2})([a-z-]*)\./.exec(instanceType.replace(/^(ml|db|cache)\./, ''));
  if (!match) return 'x86_64';
  const [, family, , attributes] = match;
  return family === 'a' || attributes.includes('g') ? 'arm64' : 'x86_64';
}

/** Families of `catalog` built for `architecture`, e.g. for "use one of ..." messages. */
function familiesFor(catalog: Record<string, readonly string[]>, architecture: 'arm64' | 'x86_64'): string[] {
  return Object.entries(catalog).filter(([family, sizes]) => ec2Architecture(`${family}.${sizes[0]}`) === architecture).map(([family]) => family);
}

/**
 * GPU node groups run one of the x86_64 NVIDIA AMI types (`GPU_AMI_TYPES`), so an arm64 GPU type
 * (g5g) is refused here rather than by CDK's AMI/architecture check at synth.
 */
export function gpuInstanceTypeProblem(type: string): string | undefined {
  const problem = checkAgainst(GPU_FAMILIES, type, 'an EC2 GPU');
  if (problem || ec2Architecture(type) === 'x86_64') return problem;
  return `is an AWS Graviton (arm64) type, but GPU nodes run an x86_64 NVIDIA AMI (BOTTLEROCKET_x86_64_NVIDIA or AL2023_x86_64_NVIDIA): use an x86_64 family, one of ${familiesFor(GPU_FAMILIES, 'x86_64').join(', ')}`;
}

/** Any general-purpose EC2 type of the catalog, Graviton included. */
export function nodeInstanceTypeProblem(type: string): string | undefined {
  return checkAgainst(GENERAL_FAMILIES, type, 'an EC2');
}

/**
 * A system node group's instance type: a general-purpose type of the catalog, x86_64 only.
 *
 * Graviton types are refused rather than given the AL2023 arm64 AMI: tenants' CPU pods are
 * scheduled on the system nodes (the shared cluster's namespaces, a dedicated tier's own pods) with
 * no architecture selector, and the GPU nodes beside them are x86_64 only (`GPU_AMI_TYPES`), so an
 * arm64 system group would turn every tenant image built for x86_64 into `exec format error`, a
 * silent change of the platform's contract. The add-ons themselves (VPC CNI, Pod Identity agent,
 * CoreDNS, kube-proxy) are multi-architecture; lifting this means labelling the architecture for
 * tenants and choosing the AMI type by `ec2Architecture` in constructs/kubernetes-cluster.ts.
 */
export function systemNodeInstanceTypeProblem(type: string): string | undefined {
  const problem = nodeInstanceTypeProblem(type);
  if (problem || ec2Architecture(type) === 'x86_64') return problem;
  return `is an AWS Graviton (arm64) type, but system nodes run the Amazon Linux 2023 x86_64 AMI (AL2023_x86_64_STANDARD) and tenants' CPU pods, built for x86_64 like the GPU nodes beside them, are scheduled there: use an x86_64 family, one of ${familiesFor(GENERAL_FAMILIES, 'x86_64').join(', ')}`;
}

/** Every EC2 instance type of the GPU and general catalogs (for tests that check the whole catalog). */
export function catalogInstanceTypes(): { gpu: string[]; general: string[] } {
  const all = (catalog: Record<string, readonly string[]>) => Object.entries(catalog).flatMap(([family, sizes]) => sizes.map((size) => `${family}.${size}`));
  return { gpu: all(GPU_FAMILIES), general: all(GENERAL_FAMILIES) };
}

export function dbInstanceClassProblem(type: string): string | undefined {
  if (!type.startsWith('db.')) return 'is not an RDS instance class (expected db.family.size, e.g. db.t4g.medium)';
  return checkAgainst(DB_FAMILIES, type.slice(3), 'an RDS');
}

export function cacheNodeTypeProblem(type: string): string | undefined {
  if (!type.startsWith('cache.')) return 'is not an ElastiCache node type (expected cache.family.size, e.g. cache.t4g.small)';
  return checkAgainst(CACHE_FAMILIES, type.slice(6), 'an ElastiCache');
}

/** SageMaker-only families, beside the EC2 ones above (SageMaker still sells m5 where EC2 tiers moved on). */
const ML_ONLY_FAMILIES: Record<string, readonly string[]> = {
  m5: ['large', 'xlarge', '2xlarge', '4xlarge', '12xlarge', '24xlarge'],
};

/** SageMaker ML instances: the GPU and general families above, as `ml.family.size`. */
export function sageMakerInstanceTypeProblem(type: string): string | undefined {
  if (!type.startsWith('ml.')) return 'is not a SageMaker instance type (expected ml.family.size, e.g. ml.g5.2xlarge)';
  return checkAgainst({ ...GPU_FAMILIES, ...GENERAL_FAMILIES, ...ML_ONLY_FAMILIES }, type.slice(3), 'a SageMaker', 'ml.');
}

/**
 * Types of the SageMaker catalog above that one SageMaker API does not take: each API validates its
 * InstanceType against its own enum, and a type outside it fails the call with a ValidationException
 * ("Member must satisfy enum value set"). Read from the enums of botocore 1.44.8's SageMaker model
 * (TrainingInstanceType, ProductionVariantInstanceType), which are the API Reference's "Valid Values":
 * https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_ResourceConfig.html (CreateTrainingJob)
 * and https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_ProductionVariant.html
 * (CreateEndpointConfig). A family listed alone (`m7g`) stands for all its sizes.
 */
const SAGEMAKER_REFUSED = {
  training: { api: 'CreateTrainingJob (ResourceConfig.InstanceType)', types: ['g4dn.metal', 'm7g'] },
  endpoint: { api: 'CreateEndpointConfig (ProductionVariant.InstanceType)', types: ['g4dn.metal', 'p3dn.24xlarge', 'm7g', 't3'] },
} as const;

function sageMakerApiProblem(type: string, use: keyof typeof SAGEMAKER_REFUSED): string | undefined {
  const problem = sageMakerInstanceTypeProblem(type);
  if (problem) return problem;
  const { api, types } = SAGEMAKER_REFUSED[use];
  const bare = type.slice(3);
  if (!(types as readonly string[]).some((t) => t === bare || t === bare.split('.')[0])) return undefined;
  return `is not an instance type SageMaker offers for ${use === 'training' ? 'training jobs' : 'endpoints'}: ${api} refuses it (not in the API's valid values); ${use === 'training' ? 'e.g. ml.g5.2xlarge, ml.p4d.24xlarge' : 'e.g. ml.g5.xlarge, ml.g6.2xlarge'}`;
}

/** A training job's instance type (`tiers.<tier>.training.instanceTypes`): the SageMaker catalog, less what CreateTrainingJob refuses. */
export function sageMakerTrainingInstanceTypeProblem(type: string): string | undefined {
  return sageMakerApiProblem(type, 'training');
}

/** A fine-tuned model endpoint's instance type (`tiers.<tier>.training.endpointInstanceTypes`): the SageMaker catalog, less what CreateEndpointConfig refuses. */
export function sageMakerEndpointInstanceTypeProblem(type: string): string | undefined {
  return sageMakerApiProblem(type, 'endpoint');
}

/**
 * Families with local NVMe instance storage: SageMaker encrypts those volumes in hardware and
 * refuses a VolumeKmsKeyId for them (CreateTrainingJob fails with a ValidationException).
 */
const LOCAL_STORAGE_FAMILIES = new Set(['g4dn', 'g5', 'g6', 'g6e', 'p3dn', 'p4d', 'p4de', 'p5', 'p5e', 'p5en']);

export function acceptsVolumeKmsKey(mlInstanceType: string): boolean {
  return !LOCAL_STORAGE_FAMILIES.has(mlInstanceType.split('.')[1] ?? '');
}

/**
 * NVIDIA GPUs of each size of the GPU catalog (the "GPUs" column of the accelerated computing specifications,
 * https://docs.aws.amazon.com/ec2/latest/instancetypes/ac.html): what a node of the type adds to a cluster's
 * `nvidia.com/gpu` capacity, which a shared tier's `quota.gpus` draws on. The G families have one GPU per size up to
 * 16xlarge, four at 12xlarge and 24xlarge, eight at 48xlarge and metal; the P families are listed size by size.
 */
const GPUS_PER_INSTANCE: Record<string, Readonly<Record<string, number>>> = {
  g4dn: { 'xlarge': 1, '2xlarge': 1, '4xlarge': 1, '8xlarge': 1, '12xlarge': 4, '16xlarge': 1, 'metal': 8 },
  g5: { 'xlarge': 1, '2xlarge': 1, '4xlarge': 1, '8xlarge': 1, '12xlarge': 4, '16xlarge': 1, '24xlarge': 4, '48xlarge': 8 },
  g6: { 'xlarge': 1, '2xlarge': 1, '4xlarge': 1, '8xlarge': 1, '12xlarge': 4, '16xlarge': 1, '24xlarge': 4, '48xlarge': 8 },
  g6e: { 'xlarge': 1, '2xlarge': 1, '4xlarge': 1, '8xlarge': 1, '12xlarge': 4, '16xlarge': 1, '24xlarge': 4, '48xlarge': 8 },
  p3: { '2xlarge': 1, '8xlarge': 4, '16xlarge': 8 },
  p3dn: { '24xlarge': 8 },
  p4d: { '24xlarge': 8 },
  p4de: { '24xlarge': 8 },
  p5: { '4xlarge': 1, '48xlarge': 8 },
  p5e: { '48xlarge': 8 },
  p5en: { '48xlarge': 8 },
};

/**
 * GPUs of one instance of an EC2 GPU type of the catalog (`g5.12xlarge` → 4), the count the NVIDIA device plugin
 * advertises as `nvidia.com/gpu` on its node; undefined for a type outside the GPU catalog (which config validation
 * refuses on its own: gpuInstanceTypeProblem).
 */
export function ec2GpuCount(instanceType: string): number | undefined {
  const [family, size] = instanceType.split('.');
  return Object.hasOwn(GPUS_PER_INSTANCE, family) ? GPUS_PER_INSTANCE[family][size ?? ''] : undefined;
}

/** vCPUs of sizes whose count does not follow `<n>xlarge` = 4n (EC2 instance type specifications). */
const VCPU_EXCEPTIONS: Record<string, number> = { 't3.medium': 2, 'm7g.medium': 1, 'g4dn.metal': 96 };

/**
 * vCPUs of an EC2 instance type of the catalog (what On-Demand vCPU quotas count): `large` 2,
 * `xlarge` 4, `<n>xlarge` 4n, with the exceptions AWS publishes.
 * Source: https://docs.aws.amazon.com/ec2/latest/instancetypes/ (per-family specifications).
 * @throws Error for a type outside the catalog or a size without a known count
 */
export function ec2Vcpus(instanceType: string): number {
  const type = instanceType.replace(/^(ml|db|cache)\./, '');
  if (VCPU_EXCEPTIONS[type] !== undefined) return VCPU_EXCEPTIONS[type];
  const size = /^[a-z0-9-]+\.([a-z0-9]+)$/.exec(type)?.[1];
  if (size === 'large') return 2;
  if (size === 'xlarge') return 4;
  const n = size ? /^(\d+)xlarge$/.exec(size)?.[1] : undefined;
  if (n) return 4 * Number(n);
  throw new Error(`ec2Vcpus: no vCPU count known for instance type "${instanceType}"`);
}

/**
 * The On-Demand vCPU quota an EC2 instance type counts against (quotas by instance family):
 * G and VT families → L-DB2E81BA, P → L-417A185B, everything else here → Standard L-1216C47A.
 * Source: https://docs.aws.amazon.com/ec2/latest/instancetypes/ec2-instance-quotas.html
 */
export function onDemandVcpuQuota(instanceType: string): { quotaCode: string; name: string } {
  const family = instanceType.replace(/^(ml|db|cache)\./, '').split('.')[0];
  if (/^(g|vt)/.test(family)) return { quotaCode: 'L-DB2E81BA', name: 'Running On-Demand G and VT instances' };
  if (/^p/.test(family)) return { quotaCode: 'L-417A185B', name: 'Running On-Demand P instances' };
  return { quotaCode: 'L-1216C47A', name: 'Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances' };
}
