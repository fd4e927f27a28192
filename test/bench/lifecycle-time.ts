/**
 * Orchestration time of onboarding against moto: the synthesized state machines run by
 * aws-local-stepfunctions with the real handlers, Wait states shortened to 1 ms (100 ms for the
 * concurrent run), so the figure is
 * Tessera's own work (handlers, registry, SDK calls), not AWS's provisioning time.
 * Usage: npm run bench:lifecycle [-- runs concurrent]
 */
// First: --help / -h prints the comment above and exits before anything runs (scripts/help-flag.ts).
import '../../scripts/help-flag.js';
import { configWith } from '../support/synth.js';
import { LocalWorkflows } from '../integration/support/local-workflows.js';
import { startMoto } from '../integration/support/moto-server.js';
import { createPlatformFixture } from '../integration/support/platform-fixture.js';

process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
const runs = Number(process.argv[2] ?? 10);
const concurrent = Number(process.argv[3] ?? 50);
const config = configWith();
const moto = await startMoto();
const workflows = new LocalWorkflows(config);
const fixture = await createPlatformFixture(moto.endpoint, config);
Object.assign(process.env, fixture.env);

const request = (id: string, tier: string) => ({ tenantId: id, name: id, tier, adminEmail: `admin@${id}.example.com`, requestId: `bench-${id}` });
async function timed(id: string, tier: string, waitMs = 1): Promise<number> {
  const start = performance.now();
  const r = await workflows.run('onboard', request(id, tier), { waitMs });
  if (r.error) throw new Error(`${id}: ${r.error.message}`);
  return performance.now() - start;
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

try {
  await timed('warmup', 'starter'); // module loading and first connections
  const vpc: number[] = [];
  const account: number[] = [];
  for (let i = 0; i < runs; i++) vpc.push(await timed(`vpc${i}`, 'starter'));
  for (let i = 0; i < runs; i++) account.push(await timed(`acct${i}`, 'enterprise'));
  console.log(`one onboarding, VPC isolation (starter, ${runs} runs): median ${fmt(median(vpc))}, min ${fmt(Math.min(...vpc))}, max ${fmt(Math.max(...vpc))}`);
  console.log(`one onboarding, account isolation (enterprise, ${runs} runs): median ${fmt(median(account))}, min ${fmt(Math.min(...account))}, max ${fmt(Math.max(...account))}`);
  const start = performance.now();
  // Queued onboardings poll for a slot every 100 ms here (30 s in AWS), so that the queue does not
  // spend moto's single worker on polling.
  const all = await Promise.all(Array.from({ length: concurrent }, (_, i) => timed(`burst${i}`, 'enterprise', 100)));
  const wall = performance.now() - start;
  console.log(`${concurrent} concurrent onboardings, account isolation, 5 account creations at a time: all ACTIVE in ${fmt(wall)} (per onboarding: median ${fmt(median(all))}, max ${fmt(Math.max(...all))})`);
} finally {
  await moto.stop();
}
