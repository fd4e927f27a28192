/**
 * The control plane on this machine, kept up for your own `tessera` commands until Ctrl-C: moto plays AWS, the
 * synthesized state machines run in aws-local-stepfunctions with the real Lambda handlers, and the admin API handler
 * answers on 127.0.0.1 (test/integration/support/local-platform.ts), with the default config (tiers starter,
 * professional, enterprise) or your own (--config). It prints its own pid (`kill <pid>` stops it as Ctrl-C does), the
 * `unset …; export …` line to paste into another shell (TESSERA_API_URL, AWS_ENDPOINT_URL: moto, so that the AWS CLI and
 * SDKs run there reach it, not AWS; the region and placeholder credentials: the local admin API does not check the
 * signature; AWS_PROFILE unset, which would take precedence: local-shell-env.ts) and the
 * blueprint versions its catalog publishes (1.0.0, the platform's, and 2.0.0), then e.g.
 *   npx tessera tenants apply -f examples/tenants.yaml --dry-run   (the example tenants file of the checkout: example-tenants.ts)
 *   npx tessera tenants list
 *   npx tessera tenants show <id>
 * Ctrl-C (SIGINT) or SIGTERM to the printed pid (a `kill` of `npm run`'s own pid ends npm alone) lets the running executions end, closes the admin API and stops moto, then exits 0.
 * Usage: npm run local-platform [-- --port <n>] [-- --config <file>] (installs moto into .venv first when it is missing, as `npm test` does)
 *   --port <n>       the admin API's port on 127.0.0.1 (an integer 1-65535), so that TESSERA_API_URL is the same every
 *                    run; default: a free port, another each run. A taken port is refused (exit 1), a bad value too (exit 2).
 *   --config <file>  your tessera.config.yaml (YAML or JSON, merged with the embedded default as `cdk synth` does):
 *                    its tiers, regions and accounts, so your own tier names, tier changes and a DR tier's
 *                    `tenants failover-plan --config <file>` can be tried; AWS_REGION in the export line is its
 *                    homeRegion. Placeholders are allowed (nothing is deployed); an invalid config is refused with
 *                    synth's message (exit 2). Default: the embedded default config.
 */
// First: --help / -h prints the comment above and exits before anything runs (scripts/help-flag.ts).
import '../../scripts/help-flag.js';
// The platform's modules (the harness, the Lambda handlers, the AWS SDK) are imported only once the arguments are
// good (below): a refused argument or --help costs about 0.4 s of CPU instead of 2.4 s (loading them through tsx).

/**
 * The script's arguments: `--port <n>` or `--port=<n>`, n an integer 1-65535 (TCP's port range less 0, which would
 * mean "any"), and `--config <file>` or `--config=<file>`. Each undefined when not given (a free port; the default config).
 * @throws Error naming the argument or the value when it is not one of these (the script exits 2)
 */
function parseArgs(args: readonly string[]): { port?: number; config?: string } {
  let port: number | undefined;
  let config: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const name = ['--port', '--config'].find((n) => arg === n || arg.startsWith(`${n}=`));
    if (!name) throw new Error(`unknown argument ${JSON.stringify(arg)}: the options are --port <n> and --config <file> (see --help)`);
    const value = arg.startsWith(`${name}=`) ? arg.slice(name.length + 1) : args[++i];
    if (name === '--config') {
      if (value === undefined || value === '') throw new Error('--config needs a value: the path of your tessera.config.yaml');
      config = value;
      continue;
    }
    if (value === undefined) throw new Error('--port needs a value: an integer 1-65535');
    if (!/^\d{1,5}$/.test(value) || Number(value) < 1 || Number(value) > 65535) throw new Error(`--port ${JSON.stringify(value)} is not a port: an integer 1-65535`);
    port = Number(value);
  }
  return { port, config };
}

let port: number | undefined;
let configFile: string | undefined;
try {
  ({ port, config: configFile } = parseArgs(process.argv.slice(2)));
} catch (e) {
  process.stderr.write(`local-platform: ${(e as Error).message}\n`);
  process.exit(2);
}

// --config is loaded (and refused, exit 2, with synth's message) before moto or the platform's modules start.
let config: import('../../lib/config/schema.js').PlatformConfig | undefined;
if (configFile !== undefined) {
  const [{ loadConfig }, { readAccountCustomizations }] = await Promise.all([import('../../lib/config/load-config.js'), import('../../lib/config/customization-templates.js')]);
  try {
    config = loadConfig({ file: configFile });
    // Its account customizations' templates, checked as synth checks them, before the catalog is built: a bad one is
    // refused here naming the config file, the key and the template (it failed the platform's start with a stack trace).
    readAccountCustomizations(config, process.cwd(), configFile);
  } catch (e) {
    // A ConfigError (every problem, one line each, as synth prints it), or the file's own (missing, not YAML).
    process.stderr.write(`local-platform: --config ${configFile}: ${(e as Error).message}\n`);
    process.exit(2);
  }
}

// A taken --port is refused before the platform's modules load (2 s of CPU through tsx): a listen on it, closed again.
// LocalPlatform.start binds it again and still refuses it should another process take it in between.
if (port !== undefined) {
  const wanted = port;
  const { LocalPortError } = await import('../integration/support/local-port-error.js');
  const { createServer } = await import('node:net');
  const probe = createServer();
  const refused = await new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
    probe.once('error', resolve);
    probe.listen(wanted, '127.0.0.1', () => probe.close(() => resolve(undefined)));
  });
  if (refused) {
    process.stderr.write(`local-platform: ${new LocalPortError(wanted, refused).message}; give another --port, or none for a free one\n`);
    process.exit(1);
  }
}

const [{ LocalPortError }, { startDemoPlatform }, { BLUEPRINT_VERSION }, { localShellEnv, serviceEndpointVariables, shellLine }, { exampleApplyLine }] = await Promise.all([
  import('../integration/support/local-platform.js'), import('./demo-platform.js'),
  import('../integration/support/platform-fixture.js'), import('./local-shell-env.js'), import('./example-tenants.js'),
]);
// A service's AWS_ENDPOINT_URL_<SERVICE> in this shell would send the platform's own calls for it past moto (it comes before
// the AWS_ENDPOINT_URL the platform sets): read for the export line, then unset here.
const overridden = serviceEndpointVariables(process.env);
const startedIn = { ...process.env };
for (const k of overridden) delete process.env[k];
let started: Awaited<ReturnType<typeof startDemoPlatform>>;
try {
  started = await startDemoPlatform({ port, config });
} catch (e) {
  if (!(e instanceof LocalPortError)) throw e;
  process.stderr.write(`local-platform: ${e.message}; give another --port, or none for a free one\n`);
  process.exit(1);
}
const { platform } = started;

/** The environment a shell needs for the CLI to reach this admin API, and the AWS CLI and SDKs this moto (local-shell-env.ts). */
export const shellEnv = localShellEnv({ apiUrl: platform.apiUrl, motoEndpoint: platform.moto.endpoint, region: platform.config.homeRegion }, startedIn);
/** The blueprint versions the local catalog publishes (blueprint-catalog.ts CATALOG_VERSIONS): the platform's first, then the others. */
const versions = [BLUEPRINT_VERSION, ...new Set(platform.fixture.catalog.map((b) => b.version).filter((v) => v !== BLUEPRINT_VERSION))];

process.stdout.write([
  'Tessera local platform: the admin API on moto, up until Ctrl-C.',
  `  admin API  ${platform.apiUrl}`,
  `  AWS (moto) ${platform.moto.endpoint}`,
  `  server pid ${process.pid} (stop it from another shell: kill ${process.pid})`,
  '',
  'In another shell:',
  `  ${shellLine(shellEnv)}`,
  `  ${exampleApplyLine(Object.keys(platform.config.tiers))}`,
  '  npx tessera tenants list',
  '  npx tessera tenants show <id>',
  `(or, with the credentials and AWS_ENDPOINT_URL exported, --api-url ${platform.apiUrl} --region ${platform.config.homeRegion} on each command)`,
  ...(overridden.length ? [`(${overridden.join(', ')}, set in this shell, unset on that line and here: each sends its service's calls past moto)`] : []),
  `Tiers (${configFile ?? 'the default config'}): ${Object.keys(platform.config.tiers).join(', ')}`,
  `Blueprint versions (the catalog): ${versions.join(', ')}; new tenants get the platform's, ${versions[0]}`
    + (versions[1] ? `; to move one: npx tessera tenants update <id> --blueprint-version ${versions[1]}` : ''),
  '',
].join('\n'));

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`${signal}: letting running executions end, then stopping the admin API and moto\n`);
    platform.stop().then(
      () => { process.stderr.write('stopped\n'); process.exit(0); },
      (e: unknown) => { process.stderr.write(`stopping failed: ${e instanceof Error ? e.message : String(e)}\n`); process.exit(1); },
    );
  });
}
