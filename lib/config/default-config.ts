import type { PlatformConfig } from './schema.js';
import { IDENTITY_CENTER_TENANT_ADMIN_ROLES } from '../tenant-naming.js';

/**
 * The embedded default: lets `npx cdk synth` run on a fresh machine with no credentials and no
 * config file. Values marked PLACEHOLDER (listed in lib/config/placeholders.ts: account,
 * organization and root ids, the tenant accounts' root email, the base models' bucket and images) must be replaced: synth with a
 * config file refuses them, and without one the stacks carry a rule that refuses every deployment
 * (see docs/configuration.md).
 */
export const DEFAULT_CONFIG: PlatformConfig = {
  organization: {
    managementAccountId: '111111111111', // PLACEHOLDER
    organizationId: 'o-exampleorg1', // PLACEHOLDER
    rootId: 'r-ex01', // PLACEHOLDER
    quarantineOuName: 'Quarantine',
    suspendedOuName: 'Suspended',
    externalQuarantinePolicies: [],
    // The root email of each account-isolation tenant's account, {tenantId} replaced: an address of the platform's.
    accountEmail: 'aws+tessera-{tenantId}@example.com', // PLACEHOLDER
  },
  platformAccountId: '222222222222', // PLACEHOLDER
  workloadAccountId: '333333333333', // PLACEHOLDER
  homeRegion: 'us-east-1',
  allowedRegions: ['us-east-1', 'us-west-2'],
  roles: {
    provisioningRoleName: 'TesseraProvisioning',
    breakGlassRoleName: 'TesseraBreakGlass',
    blueprintExecutionRoleName: 'TesseraBlueprintExecution',
    tenantAdminRoleNamePatterns: [...IDENTITY_CENTER_TENANT_ADMIN_ROLES],
  },
  audit: { objectLockRetentionDays: 365, logRetentionDays: 365 },
  /** The platform's own DR (registry backup copies, audit replication): off by default; `{ region }` builds TesseraPlatformDr there. */
  platformDisasterRecovery: 'none',
  platformNetwork: { cidr: '10.0.0.0/16', maxAzs: 2 },
  sharedCluster: {
    kubernetesVersion: '1.35',
    systemNodes: { instanceType: 'm7i.xlarge', minSize: 2, maxSize: 6 },
    gpu: { amiType: 'BOTTLEROCKET_x86_64_NVIDIA', instanceTypes: ['g5.2xlarge', 'g6.2xlarge'], minSize: 0, maxSize: 4, diskSizeGiB: 200 },
  },
  defaultTier: 'starter',
  gateway: {
    // The embedding model of new vector stores (/v1/vector_stores: docs/gateway.md "Vector stores").
    vectorStores: { embeddingModel: 'openai/text-embedding-3-small' },
    models: [
      // Prompt-cache prices (cachedInputPricePer1k: cache reads; cacheWritePricePer1k: cache writes), from AWS's Amazon Bedrock
      // pricing page as reported by public sources in 2026 (not read from the page itself): Anthropic's Claude models bill a
      // cache read at 10% and a 5-minute cache write at 125% of the input price (Claude 3.5 Haiku: USD 0.08 and 1.00 per 1M);
      // Amazon Nova bills a cache read at 25% (75% off: Nova Lite USD 0.015 per 1M) and no write premium (writes at the input price).
      // contextWindow (tokens; Responses truncation "auto" fits the input into it): the providers' published windows (Claude
      // 3.5 Haiku 200K, Nova Lite 300K, gpt-4o-mini 128K, gpt-5.4-mini 400K as below, Llama 3.1 128K = 131,072); none for
      // openai-compatible/default, whose server the platform chooses.
      { id: 'bedrock/anthropic.claude-3-5-haiku', upstream: 'anthropic.claude-3-5-haiku-20241022-v1:0', inputPricePer1k: 0.0008, outputPricePer1k: 0.004, cachedInputPricePer1k: 0.00008, cacheWritePricePer1k: 0.001, maxOutputTokens: 8192, contextWindow: 200_000 },
      { id: 'bedrock/amazon.nova-lite', upstream: 'amazon.nova-lite-v1:0', inputPricePer1k: 0.00006, outputPricePer1k: 0.00024, cachedInputPricePer1k: 0.000015, maxOutputTokens: 5000, contextWindow: 300_000 },
      // OpenAI shuts gpt-4o-mini down on 2027-01-14 (lib/config/openai-model-shutdowns.ts): kept until then for the tenants,
      // keys, fallbacks and aliases that name it; `npm run preflight` warns on it (rule model-shutdown-dates) and fails from that day.
      // OpenAI bills cached input (usage.prompt_tokens_details.cached_tokens) at a fraction of the input price, per model on its
      // API pricing page: the gpt-4o family at 50% (gpt-4o-mini: USD 0.075 per 1M), and no cache-write charge (OpenAI caches
      // by itself: writes are billed as input, so cacheWritePricePer1k stays at its default, the input price).
      { id: 'openai/gpt-4o-mini', upstream: 'gpt-4o-mini', inputPricePer1k: 0.00015, outputPricePer1k: 0.0006, cachedInputPricePer1k: 0.000075, maxOutputTokens: 16384, contextWindow: 128_000 },
      // Its successor: a GPT-5 family reasoning model. USD 0.75 / 4.50 per 1M input / output tokens, 400K context, 128K max
      // output, cached input USD 0.075 per 1M (90% off, as for the whole GPT-5 family): public list prices and limits as
      // reported by several sources in 2026 (not read from OpenAI's own pricing page).
      // Reasoning tokens count in OpenAI's completion_tokens (billed as output) and in max_completion_tokens, which the gateway
      // sends for a caller's max_tokens (OpenAI's reasoning models refuse max_tokens); maxOutputTokens is that whole limit.
      // temperature, developer and system messages go as sent: OpenAI's 400 for a value the model refuses reaches the caller.
      { id: 'openai/gpt-5.4-mini', upstream: 'gpt-5.4-mini', inputPricePer1k: 0.00075, outputPricePer1k: 0.0045, cachedInputPricePer1k: 0.000075, maxOutputTokens: 128_000, contextWindow: 400_000 },
      // No cache prices below: the Hugging Face router and an openai-compatible server of the platform's publish none (their
      // cached tokens, if they report any, cost the input price: the default).
      { id: 'huggingface/meta-llama/Llama-3.1-8B-Instruct', upstream: 'meta-llama/Llama-3.1-8B-Instruct', inputPricePer1k: 0.0001, outputPricePer1k: 0.0001, maxOutputTokens: 4096, contextWindow: 131_072 },
      { id: 'openai-compatible/default', upstream: 'default', inputPricePer1k: 0, outputPricePer1k: 0, maxOutputTokens: 4096 },
      // Embedding models (POST /v1/embeddings), priced by input tokens only (USD per 1,000, on-demand list prices, Nov 2026);
      // maxOutputTokens is the schema's default, unused: an embedding produces no output tokens.
      { id: 'bedrock/amazon.titan-embed-text-v2', upstream: 'amazon.titan-embed-text-v2:0', kind: 'embedding', inputPricePer1k: 0.00002, outputPricePer1k: 0, maxOutputTokens: 4096, maxInputTokens: 8192 },
      { id: 'bedrock/cohere.embed-english-v3', upstream: 'cohere.embed-english-v3', kind: 'embedding', inputPricePer1k: 0.0001, outputPricePer1k: 0, maxOutputTokens: 4096, maxInputTokens: 512 },
      { id: 'openai/text-embedding-3-small', upstream: 'text-embedding-3-small', kind: 'embedding', inputPricePer1k: 0.00002, outputPricePer1k: 0, maxOutputTokens: 4096, maxInputTokens: 8192 },
      // A TEI or vLLM embedding server of the platform's (its served model name as upstream).
      { id: 'openai-compatible/embeddings', upstream: 'default', kind: 'embedding', inputPricePer1k: 0, outputPricePer1k: 0, maxOutputTokens: 4096 },
      // OpenAI's moderation model (POST /v1/moderations; the default when a request names none): free, so priced 0.
      { id: 'openai/omni-moderation-latest', upstream: 'omni-moderation-latest', kind: 'moderation', inputPricePer1k: 0, outputPricePer1k: 0, maxOutputTokens: 4096 },
      // OpenAI's image model (POST /v1/images/generations and /edits; the default when a request names none): gpt-image-2.5-flare,
      // the faster of the two models the openai package (7.55.0, images.d.ts) names in gpt-image-1's place ("shut down on
      // October 23, 2026. Use gpt-image-2.5-sunburst or gpt-image-2.5-flare instead"). OpenAI bills it by tokens, which grow
      // with size and quality; no per-image price is published in the package, so USD 0.25 an image (gpt-image-1's dearest
      // list price, kept) is a placeholder bound: the platform sets its own price, at least its dearest image (size and
      // quality it allows) so that a reservation covers what a request costs.
      { id: 'openai/gpt-image-2.5-flare', upstream: 'gpt-image-2.5-flare', kind: 'image', pricePerImageUsd: 0.25, inputPricePer1k: 0, outputPricePer1k: 0, maxOutputTokens: 4096 },
    ],
    // Every openai/* entry above by its bare OpenAI name, the `model` unchanged OpenAI code sends (docs/gateway.md,
    // "Model aliases"): `gpt-5.4-mini` is served as openai/gpt-5.4-mini, checked, priced and audited as it. A config
    // whose gateway.models leaves out a target drops that embedded alias (lib/config/load-config.ts
    // dropEmbeddedAliasesWithoutTarget); `gateway: { modelAliases: { <name>: null } }` drops one, `modelAliases: null` all.
    modelAliases: {
      'gpt-4o-mini': 'openai/gpt-4o-mini',
      'gpt-5.4-mini': 'openai/gpt-5.4-mini',
      'text-embedding-3-small': 'openai/text-embedding-3-small',
      'omni-moderation-latest': 'openai/omni-moderation-latest',
      'gpt-image-2.5-flare': 'openai/gpt-image-2.5-flare',
    },
    providers: {
      openai: { baseUrl: 'https://api.openai.com/v1', apiKeySecretId: 'tessera/providers/openai' },
      huggingface: { baseUrl: 'https://router.huggingface.co/v1', apiKeySecretId: 'tessera/providers/huggingface' },
    },
    upstreamTimeoutMs: 60_000,
    upstreamRetries: 2,
    // A model whose requests keep failing is skipped for a while (lambdas/inference/model-health.ts); null or false: off.
    cooldown: { failures: 3, windowSeconds: 60, seconds: 30 },
    maxRequestBytes: 1_048_576,
  },
  fineTuning: {
    // PLACEHOLDER, the whole list: the weights bucket is in the placeholder platform account, and the
    // images are AWS Deep Learning Containers (account 763104351884) for us-east-1 that a platform
    // team must choose for its own region and tags.
    // Hugging Face deep learning containers (training: PyTorch + transformers; serving: TGI, which
    // answers the OpenAI messages API). Weights are uploaded once by the platform team.
    baseModels: [
      {
        id: 'llama-3.1-8b-instruct',
        trainingImage: '763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-training:2.1.0-transformers4.36.0-gpu-py310-cu121-ubuntu20.04',
        servingImage: '763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-tgi-inference:2.3.0-tgi2.2.0-gpu-py310-cu121-ubuntu22.04',
        weightsS3Uri: 's3://tessera-base-models-222222222222/llama-3.1-8b-instruct/',
        inputPricePer1k: 0.0002, outputPricePer1k: 0.0002, maxOutputTokens: 4096,
      },
      {
        id: 'mistral-7b-instruct',
        trainingImage: '763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-training:2.1.0-transformers4.36.0-gpu-py310-cu121-ubuntu20.04',
        servingImage: '763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-tgi-inference:2.3.0-tgi2.2.0-gpu-py310-cu121-ubuntu22.04',
        weightsS3Uri: 's3://tessera-base-models-222222222222/mistral-7b-instruct/',
        inputPricePer1k: 0.0002, outputPricePer1k: 0.0002, maxOutputTokens: 4096,
      },
    ],
  },
  operations: { alarmEmails: [], alarms: { gatewayServerErrorPercent: 5, gatewayP99LatencyMs: 60_000, upstreamErrorPercent: 10 }, topTenants: 10 },
  tiers: {
    starter: {
      isolation: 'vpc',
      network: { tenantCidrPool: '10.64.0.0/12', tenantVpcPrefixLength: 22, maxAzs: 2, internetEgress: false },
      database: { engineMajorVersion: '17', instanceClass: 'db.t4g.medium', allocatedStorageGiB: 20, maxAllocatedStorageGiB: 100, multiAz: false, backupRetentionDays: 7, port: 5438 },
      cache: { nodeType: 'cache.t4g.small', replicasPerShard: 0, multiAz: false, snapshotRetentionDays: 15, port: 6390 },
      compute: { mode: 'shared', quota: { cpu: 4, memoryGiB: 16, gpus: 0, pods: 50 } },
      limits: { requestsPerMinute: 100, requestsPerHour: 1_000, requestsPerDay: 10_000, tokensPerDay: 1_000_000 },
      models: { providers: ['bedrock', 'openai'], allowed: ['*'] },
      training: { enabled: false, maxConcurrentJobs: 0, maxDeployedModels: 2, instanceTypes: [], endpointInstanceTypes: [], baseModels: [], spot: false, maxRuntimeHours: 24, dataRetentionDays: 30 },
    },
    professional: {
      isolation: 'vpc',
      network: { tenantCidrPool: '10.80.0.0/12', tenantVpcPrefixLength: 20, maxAzs: 2, internetEgress: true },
      database: { engineMajorVersion: '17', instanceClass: 'db.m7g.large', allocatedStorageGiB: 100, maxAllocatedStorageGiB: 500, multiAz: true, backupRetentionDays: 14, port: 5438 },
      cache: { nodeType: 'cache.m7g.large', replicasPerShard: 1, multiAz: true, snapshotRetentionDays: 21, port: 6390 },
      compute: { mode: 'shared', quota: { cpu: 32, memoryGiB: 128, gpus: 2, pods: 200 } },
      limits: { requestsPerMinute: 500, requestsPerHour: 5_000, requestsPerDay: 50_000, tokensPerDay: 10_000_000 },
      models: { providers: ['bedrock', 'openai', 'huggingface', 'sagemaker'], allowed: ['*'] },
      training: { enabled: true, maxConcurrentJobs: 1, maxDeployedModels: 2, instanceTypes: ['ml.g5.2xlarge'], endpointInstanceTypes: ['ml.g5.xlarge'], baseModels: ['llama-3.1-8b-instruct'], spot: true, maxRuntimeHours: 12, dataRetentionDays: 30 },
    },
    enterprise: {
      isolation: 'account',
      network: { tenantCidrPool: '10.96.0.0/12', tenantVpcPrefixLength: 18, maxAzs: 3, internetEgress: true },
      database: { engineMajorVersion: '17', instanceClass: 'db.r7g.xlarge', allocatedStorageGiB: 200, maxAllocatedStorageGiB: 2000, multiAz: true, backupRetentionDays: 35, port: 5438 },
      cache: { nodeType: 'cache.r7g.large', replicasPerShard: 2, multiAz: true, snapshotRetentionDays: 35, port: 6390 },
      compute: {
        mode: 'dedicated',
        kubernetesVersion: '1.35',
        systemNodes: { instanceType: 'm7i.xlarge', minSize: 2, maxSize: 6 },
        gpu: { amiType: 'BOTTLEROCKET_x86_64_NVIDIA', instanceTypes: ['g5.2xlarge', 'g5.4xlarge', 'p4d.24xlarge'], minSize: 1, maxSize: 5, diskSizeGiB: 200 },
      },
      limits: { requestsPerMinute: 1_000, requestsPerHour: 10_000, requestsPerDay: 100_000, tokensPerDay: 100_000_000 },
      models: { providers: ['bedrock', 'openai', 'huggingface', 'sagemaker', 'openai-compatible'], allowed: ['*'] },
      training: { enabled: true, maxConcurrentJobs: 4, maxDeployedModels: 4, instanceTypes: ['ml.g5.2xlarge', 'ml.g5.12xlarge', 'ml.p4d.24xlarge'], endpointInstanceTypes: ['ml.g5.2xlarge', 'ml.g5.12xlarge'], baseModels: ['*'], spot: false, maxRuntimeHours: 72, dataRetentionDays: 90 },
    },
  },
};
