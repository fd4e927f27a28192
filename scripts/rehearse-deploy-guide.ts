/**
 * The deploy guide (docs/deploying.md, "Deploying into a real organization"), rehearsed end to end on this machine against
 * moto: every `tessera` command runs through the real CLI (`node bin/tessera.mjs`, or the file
 * TESSERA_REHEARSAL_CLI names: the same program bundled, as the test runs it; AWS_ENDPOINT_URL
 * = moto, fake credentials of the made-up organization's accounts) and is printed with its real
 * output, as a transcript. Kept true by test/integration/deploy-guide-rehearsal.test.ts.
 *
 *   npm run rehearse:deploy-guide
 *
 * What it cannot rehearse, and says so in the transcript: `cdk bootstrap`/`cdk deploy` (moto's
 * CloudFormation is no judge of the real stacks; the estate of
 * test/integration/support/doctor-estate.ts stands in for what steps 2-4 leave behind), Bedrock
 * model access and EC2 GPU quotas (moto has no Bedrock GetFoundationModelAvailability and answers
 * Service Quotas for VPC only), and the tenant onboarding (`npm run demo:onboarding` runs that).
 * Exit code 0 when every step did what the guide says, 1 otherwise (the step is named); every
 * process it starts is stopped and its temp dir removed, on failure and on Ctrl-C too.
 */
/**
 * The script takes no arguments: it writes its own config (the made-up organization's, in a temp
 * dir) and starts its own moto. `--help` prints the usage (exit 0); anything else is refused with
 * the usage (exit 2), before moto or any process is started.
 */
const USAGE = 'usage: npm run rehearse:deploy-guide (no arguments): rehearses the deploy guide (docs/deploying.md) against a local moto server, with a config of its own (a made-up organization, written by its `tessera init` step; never your tessera.config.yaml) and no AWS account; exit 0 when every step did what the guide says, 1 otherwise';
{
  const args = process.argv.slice(2);
  if (args.length === 1 && (args[0] === '--help' || args[0] === '-h')) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  if (args.length > 0) {
    process.stderr.write(`npm run rehearse:deploy-guide: unknown argument${args.length > 1 ? 's' : ''} ${args.join(' ')}\n${USAGE}\n`);
    process.exit(2);
  }
}
await import('./deploy-guide-rehearsal.js');
