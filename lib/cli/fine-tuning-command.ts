import { Command } from 'commander';
import { stringify } from 'yaml';
import { trainingJobManifest } from '../training-job-manifest.js';

/** `tessera fine-tuning job-manifest`: the Kubernetes Job of the EKS training path, as YAML for kubectl. */
export function fineTuningCommand(): Command {
  const fineTuning = new Command('fine-tuning').description('fine-tuning helpers (SageMaker jobs go through the OpenAI-compatible API)');
  fineTuning.command('job-manifest')
    .description('print a Kubernetes Job that trains on the tenant\'s own GPU node group (dedicated cluster), as the tenant\'s workload role')
    .requiredOption('--tenant <id>', 'tenant id')
    .requiredOption('--name <name>', 'job name (DNS label)')
    .requiredOption('--image <uri>', 'training container image')
    .requiredOption('--bucket <name>', 'the tenant bucket (stack output BucketName)')
    .requiredOption('--training-file <key>', 'key under training-data/ of the tenant bucket')
    .option('--gpus <n>', 'GPUs', '1')
    .option('--cpu <n>', 'vCPUs', '7')
    .option('--memory <GiB>', 'memory in GiB', '28')
    .option('--max-runtime-hours <h>', 'deadline', '24')
    .action((o) => {
      process.stdout.write(stringify(trainingJobManifest({
        tenantId: o.tenant, name: o.name, image: o.image, bucket: o.bucket, trainingFile: o.trainingFile,
        gpus: Number(o.gpus), cpu: Number(o.cpu), memoryGiB: Number(o.memory), maxRuntimeHours: Number(o.maxRuntimeHours),
      })));
    });
  return fineTuning;
}
