/**
 * Config overrides that set every key the embedded default holds a placeholder in
 * (lib/config/placeholders.ts PLACEHOLDER_KEYS) to values of no real organization: with them a
 * config file is deployable as far as the placeholder check goes (synth and
 * `tessera tenants failover-plan` refuse a config that keeps placeholders). The platform VPC's
 * zones are pinned, so a synth makes no context lookup.
 */
export const COMPLETE = {
  organization: { managementAccountId: '444444444444', organizationId: 'o-abcdefghij', rootId: 'r-abcd', accountEmail: 'aws+tessera-{tenantId}@platform.acme.test' },
  platformAccountId: '555555555555',
  workloadAccountId: '666666666666',
  availabilityZones: { 'us-east-1': ['us-east-1b', 'us-east-1d'] },
  fineTuning: {
    baseModels: [{
      id: 'llama-3.1-8b-instruct',
      trainingImage: '444444444444.dkr.ecr.us-east-1.amazonaws.com/tessera/llama-training:1.0.0',
      servingImage: '444444444444.dkr.ecr.us-east-1.amazonaws.com/tessera/llama-serving:1.0.0',
      weightsS3Uri: 's3://acme-base-models-555555555555/llama-3.1-8b-instruct/',
      inputPricePer1k: 0.0002, outputPricePer1k: 0.0002, maxOutputTokens: 4096,
    }],
  },
};
