import { Document, Scalar, YAMLMap, YAMLSeq, type Node } from 'yaml';
import { DEFAULT_CONFIG } from '../../config/default-config.js';
import type { InitAnswers } from './collect-answers.js';
import { DEFAULT_TIERS, SECRET_PROVIDERS } from './field-rules.js';
import type { GpuTypeChange } from './gpu-instance-types.js';

/** A comment block for yaml's `commentBefore`: each line gets "# " (yaml adds the "#"). */
function comment(...lines: string[]): string {
  return lines.map((line) => (line ? ` ${line}` : '')).join('\n');
}

/**
 * `image` with the region of its ECR registry host (`<account>.dkr.ecr.<region>.amazonaws.com`)
 * replaced by `region`: SageMaker pulls a job's images from the job's region (the schema refuses
 * an image of another region). The repository and tag are kept. An URI without an ECR host is
 * returned unchanged.
 */
export function imageInRegion(image: string, region: string): string {
  return image.replace(/^(\d{12}\.dkr\.ecr\.)[a-z0-9-]+(\.amazonaws\.com\/)/, `$1${region}$2`);
}

/** `fineTuning.baseModels` of the embedded default, restated with the engineer's weights bucket and home-region images. */
export function baseModelsFor(answers: Pick<InitAnswers, 'homeRegion' | 'baseModelsBucket'>): typeof DEFAULT_CONFIG.fineTuning.baseModels {
  return DEFAULT_CONFIG.fineTuning.baseModels.map((model) => ({
    ...model,
    trainingImage: imageInRegion(model.trainingImage, answers.homeRegion),
    servingImage: imageInRegion(model.servingImage, answers.homeRegion),
    weightsS3Uri: `s3://${answers.baseModelsBucket}/${model.id}/`,
  }));
}

/**
 * The text of the `tessera.config.yaml` that `tessera init` writes: a YAML document (yaml's
 * Document API) with a comment above each section saying what it is and what to change. It holds
 * only the values the engineer must own (organization, accounts, regions, Availability Zones, the
 * base models with their weights bucket and home-region images) and what differs from the embedded
 * default (provider secret names, removed tiers as `null`, the default tier when `starter` is
 * removed), and the GPU instance types of a node group whose default types the home region does not all offer
 * (`gpuTypes`, from gpuInstanceTypesFor). Account ids are double-quoted, so YAML never reads them as numbers.
 * @param gpuTypes @default [] (the home region offers every default GPU type)
 */
export function renderConfig(answers: InitAnswers, gpuTypes: readonly GpuTypeChange[] = []): string {
  const doc = new Document();
  const root = new YAMLMap();
  doc.contents = root;
  doc.commentBefore = comment(
    'Tessera platform configuration, written by `tessera init`.',
    'Each key here overrides the embedded default (lib/config/default-config.ts): maps merge key',
    'by key, lists replace the default\'s list, and `null` removes a default key. Keys not set here',
    'keep the default; docs/configuration.md lists them all. Unknown keys are refused.',
  );
  const add = (key: string, value: unknown, text: string, tweak?: (node: Node) => void): void => {
    const node = value instanceof Scalar || value instanceof YAMLMap || value instanceof YAMLSeq ? value : doc.createNode(value);
    tweak?.(node as Node);
    const pair = doc.createPair(key, node);
    const keyNode = pair.key as Scalar;
    keyNode.commentBefore = text;
    keyNode.spaceBefore = root.items.length > 0;
    root.items.push(pair);
  };
  const accountId = (id: string): Scalar => {
    const scalar = new Scalar(id);
    scalar.type = Scalar.QUOTE_DOUBLE;
    return scalar;
  };
  const flow = (node: Node) => { (node as YAMLSeq).flow = true; };

  const organization = new YAMLMap();
  organization.set('managementAccountId', accountId(answers.managementAccountId));
  organization.set('organizationId', answers.organizationId);
  organization.set('rootId', answers.rootId);
  if (answers.accountEmail !== undefined) organization.set('accountEmail', answers.accountEmail);
  add('organization', organization, comment(
    'Your AWS Organization (aws organizations describe-organization; aws organizations list-roots).',
    'TesseraOrganization deploys to the management account: OUs per tier, SCP guardrails, the role',
    'the lifecycle acts through. Blueprint assets are readable by this organization\'s accounts only.',
    ...(answers.accountEmail === undefined ? [] : [
      'accountEmail: the root email of each account tenant\'s AWS account ({tenantId} is replaced), a mailbox',
      'of your platform team\'s, never the tenant admin\'s: whoever reads it can reset the account\'s root password.',
    ]),
  ));
  add('platformAccountId', accountId(answers.platformAccountId), comment(
    'The account TesseraPlatform deploys to: tenant registry, lifecycle workflows, gateway, audit',
    'bucket and trail (an organization trail if this is the management account), fine-tuning.',
    'Keep it apart from the management account and from workloadAccountId.',
  ));
  add('workloadAccountId', accountId(answers.workloadAccountId), comment(
    'The account where VPC-isolated tenants (tiers with isolation: vpc) get their VPC and data stores.',
    'It needs the TesseraProvisioning role, trusted by the management account (see the deploy guide).',
  ));
  add('homeRegion', answers.homeRegion, comment('The region the platform runs in; it must be one of allowedRegions.'));
  add('allowedRegions', answers.allowedRegions, comment(
    'Regions tenants may be deployed to; SCPs deny the others. Add a region here before onboarding a tenant to it.',
  ), flow);
  const zones = new YAMLMap();
  zones.flow = false;
  for (const [region, names] of Object.entries(answers.availabilityZones)) {
    const seq = doc.createNode(names) as YAMLSeq;
    seq.flow = true;
    zones.set(region, seq);
  }
  if (zones.items.length > 0) add('availabilityZones', zones, comment(
    'Availability Zone names per region, used by the stacks `cdk deploy` puts in your accounts (the',
    'platform VPC takes the home region\'s first platformNetwork.maxAzs), so synth needs no lookup.',
    'Zone names map to different physical zones in each account: check the platform account\'s with',
    '`aws ec2 describe-availability-zones --region <region>` and list the zones it offers. With a tier',
    'of shared compute the platform VPC holds the shared EKS cluster, and EKS refuses subnets in zone IDs',
    'use1-az3, usw1-az2 and cac1-az3 (cdk deploy fails with UnsupportedAvailabilityZoneException): list',
    'zones whose IDs are none of these, seen with `aws ec2 describe-availability-zones --region <region>',
    '--query "AvailabilityZones[].[ZoneName,ZoneId]" --output text`.',
  ));

  const changedSecrets = SECRET_PROVIDERS.filter((p) => answers.providerSecrets[p] !== DEFAULT_CONFIG.gateway.providers[p].apiKeySecretId);
  if (changedSecrets.length > 0) {
    add('gateway', { providers: Object.fromEntries(changedSecrets.map((p) => [p, { apiKeySecretId: answers.providerSecrets[p] }])) }, comment(
      'Secrets Manager secrets (in the platform account, home region) holding the providers\' API keys;',
      'the embedded default names the others. Create each before the first request (deploy guide).',
    ));
  }

  const gpuNote = (change: GpuTypeChange) => `${change.key}: ${change.to.join(', ')} instead of the default's ${change.from.join(', ')}`;
  const regionGpuComment = (changes: readonly GpuTypeChange[]) => [
    `GPU instance types ${answers.homeRegion} offers (cfn-lint's Region data, which npm run preflight checks):`,
    ...changes.map(gpuNote),
    'The list is a priority order: EKS launches the first type it has capacity for.',
  ];
  const sharedGpu = gpuTypes.find((c) => c.key === 'sharedCluster.gpu.instanceTypes');
  if (sharedGpu) {
    add('sharedCluster', { gpu: { instanceTypes: [...sharedGpu.to] } }, comment(...regionGpuComment([sharedGpu])));
  }

  add('fineTuning', { baseModels: baseModelsFor(answers) }, comment(
    'Base models tenants may fine-tune. Upload each model\'s weights under its weightsS3Uri, a bucket',
    'in the platform account in the home region (the training container has no internet access).',
    `The images are AWS Deep Learning Containers for ${answers.homeRegion}: confirm each tag is still`,
    'published there (https://aws.github.io/deep-learning-containers/reference/available_images/);',
    'a few regions serve them from an account other than 763104351884. This list replaces the',
    'default\'s: add or remove base models here.',
  ));

  const removed = DEFAULT_TIERS.filter((t) => !answers.tiers.includes(t));
  if (!answers.tiers.includes(DEFAULT_CONFIG.defaultTier)) {
    add('defaultTier', answers.tiers[0], comment(
      `Must name a tier of this file: the default's (${DEFAULT_CONFIG.defaultTier}) is removed below. No onboarding falls back on it`,
      '(tessera tenants create needs --tier; each entry of tenants apply\'s file names its tier); tessera serve\'s examples name it.',
    ));
  }
  const keptNote = `The tiers kept (${answers.tiers.join(', ')}) are the embedded default's; override any of their keys`;
  const tierGpus = gpuTypes.flatMap((c) => {
    const tier = /^tiers\.([^.]+)\.compute\.gpu\.instanceTypes$/.exec(c.key)?.[1];
    return tier === undefined ? [] : [{ tier, change: c }];
  });
  if (removed.length > 0 || tierGpus.length > 0) {
    add('tiers', {
      ...Object.fromEntries(removed.map((t) => [t, null])),
      ...Object.fromEntries(tierGpus.map(({ tier, change }) => [tier, { compute: { gpu: { instanceTypes: [...change.to] } } }])),
    }, comment(
      ...(removed.length > 0 ? ['Default tiers removed (null deletes a default key).'] : []),
      ...(tierGpus.length > 0 ? regionGpuComment(tierGpus.map((t) => t.change)) : []),
      `${keptNote} here,`,
      `e.g. tiers.${answers.tiers[0]}.limits.requestsPerMinute, or add a tier of your own.`,
    ));
  } else {
    doc.comment = comment(`${keptNote} under a top-level tiers: key (none is written here: every default tier is kept as it is),`, `e.g. tiers.${answers.tiers[0]}.limits.requestsPerMinute, or add a tier of your own there (docs/configuration.md).`);
  }
  return doc.toString({ flowCollectionPadding: false, lineWidth: 0 });
}
