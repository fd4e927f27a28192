import { Command } from 'commander';
import { stringify } from 'yaml';
import { TRAINING_DATA_PREFIX } from '../fine-tuning.js';
import { TenantId } from '../tenant-record.js';
import { trainingJobObjects } from '../training-job-manifest.js';
import { CliError } from './cli-error.js';
import { numberIn } from './option-parsers.js';

const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * `tessera fine-tuning job-manifest`: the Kubernetes objects of the EKS training path (the tenant namespace,
 * its `workload` service account, the Job), as one YAML stream for `kubectl apply -f -`.
 * Each flag is checked here, so a bad one is refused naming the flag (exit 2), not the manifest's field.
 */
export function fineTuningCommand(): Command {
  const fineTuning = new Command('fine-tuning').description('fine-tuning helpers (SageMaker jobs go through the OpenAI-compatible API)');
  fineTuning.command('job-manifest')
    .description('print a Kubernetes Job that trains on the tenant\'s own GPU node group (dedicated cluster), as the tenant\'s workload role, after the namespace and service account it runs in (for kubectl apply -f -)')
    .requiredOption('--tenant <id>', 'tenant id')
    .requiredOption('--name <name>', 'job name (DNS label)')
    .requiredOption('--image <uri>', 'training container image')
    .requiredOption('--bucket <name>', 'the tenant bucket (stack output BucketName)')
    .requiredOption('--training-file <key>', `key under ${TRAINING_DATA_PREFIX} of the tenant bucket`)
    .option('--gpus <n>', 'GPUs (1-8)', numberIn(1, 8, 'GPUs', true), 1)
    .option('--cpu <n>', 'vCPUs', numberIn(0.1, 192, 'vCPUs'), 7)
    .option('--memory <GiB>', 'memory in GiB', numberIn(1, 2048, 'GiB'), 28)
    .option('--max-runtime-hours <h>', 'deadline', numberIn(0.1, 720, 'hours'), 24)
    .action((o) => {
      const tenant = TenantId.safeParse(o.tenant);
      if (!tenant.success) throw new CliError(`--tenant ${JSON.stringify(o.tenant)}: ${tenant.error.issues[0]!.message}, e.g. --tenant acme`);
      if (!DNS_LABEL.test(o.name)) throw new CliError(`--name ${JSON.stringify(o.name)}: must be a DNS label (a-z, 0-9 and -, at most 63 characters, starting and ending with a letter or digit), e.g. --name llama-ft-1`);
      if (!o.trainingFile.startsWith(TRAINING_DATA_PREFIX) || o.trainingFile.split('/').includes('..')) {
        throw new CliError(`--training-file ${JSON.stringify(o.trainingFile)}: must be a key under ${TRAINING_DATA_PREFIX} of the tenant bucket, e.g. --training-file ${TRAINING_DATA_PREFIX}train.jsonl`);
      }
      const objects = trainingJobObjects({
        tenantId: o.tenant, name: o.name, image: o.image, bucket: o.bucket, trainingFile: o.trainingFile,
        gpus: o.gpus, cpu: o.cpu, memoryGiB: o.memory, maxRuntimeHours: o.maxRuntimeHours,
      });
      process.stdout.write(objects.map((object) => stringify(object)).join('---\n'));
    });
  return fineTuning;
}
