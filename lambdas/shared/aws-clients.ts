import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentity } from '@smithy/types';
import { httpHandler } from './http-handlers.js';
import type { HttpProfile } from '../../lib/aws-http-timeouts.js';

/**
 * Every AWS SDK client of the Lambdas is made here, so that one place decides retries and
 * credentials, and so that integration tests can add SDK middleware (fault injection: throttling,
 * failed account creation) to real clients talking to moto.
 */

export type ClientPlugin = (client: { middlewareStack: { add: (...args: never[]) => unknown } }) => void;

type Ctor<C> = new (config: { maxAttempts?: number; credentials?: AwsCredentialIdentity; region?: string; requestHandler?: ReturnType<typeof httpHandler> }) => C;

type PluggableClient = { middlewareStack: { add: (...args: never[]) => unknown } };

const plugins: ClientPlugin[] = [];
/**
 * The clients made so far that are still reachable, for registerClientPlugin. Weak: a warm Lambda
 * makes clients per assumed session and call, and a strong list kept every one of them (and its
 * credentials) for the container's life.
 */
const created = new Set<WeakRef<PluggableClient>>();
/** Dead references are dropped when the set has grown by this many since the last sweep. */
const SWEEP_EVERY = 256;
let sweepAt = SWEEP_EVERY;
/** platformClient's clients, per class and variant. */
const cache = new Map<unknown, Map<string, unknown>>();

/** The clients made so far that are still reachable. */
function liveClients(): PluggableClient[] {
  const live: PluggableClient[] = [];
  for (const ref of created) {
    const client = ref.deref();
    if (client) live.push(client);
    else created.delete(ref);
  }
  sweepAt = created.size + SWEEP_EVERY;
  return live;
}

/** The number of clients made so far that are still reachable (tests). */
export function trackedClientCount(): number {
  return liveClients().length;
}

/** The middleware each registered plugin added to each client, so that unregistering takes it out again. */
const pluginAdditions = new Map<ClientPlugin, WeakMap<PluggableClient, unknown[]>>();

/** Runs `plugin` on `client`, recording the middleware it adds (`add`, `addRelativeTo`). */
function applyPlugin(plugin: ClientPlugin, client: PluggableClient): void {
  const stack = client.middlewareStack as unknown as Record<'add' | 'addRelativeTo', (m: unknown, o: unknown) => unknown>;
  const added: unknown[] = [];
  const own = { add: stack.add, addRelativeTo: stack.addRelativeTo };
  for (const method of ['add', 'addRelativeTo'] as const) {
    if (typeof own[method] === 'function') stack[method] = (m: unknown, o: unknown) => (added.push(m), own[method].call(stack, m, o));
  }
  try {
    plugin(client);
  } finally {
    for (const method of ['add', 'addRelativeTo'] as const) if (typeof own[method] === 'function') stack[method] = own[method];
  }
  if (added.length) pluginAdditions.get(plugin)?.set(client, added);
}

/**
 * Applies `plugin` to every client made so far that is still in use, and to every one made from
 * now on. The function it returns unregisters it: no later client gets it, and the middleware it
 * added to clients still in use is removed from them (clients are reused per credentials, so a
 * test's fault must not outlive the test). Used by tests.
 */
export function registerClientPlugin(plugin: ClientPlugin): () => void {
  plugins.push(plugin);
  pluginAdditions.set(plugin, new WeakMap());
  for (const c of liveClients()) applyPlugin(plugin, c);
  return () => {
    const i = plugins.indexOf(plugin);
    if (i >= 0) plugins.splice(i, 1);
    const additions = pluginAdditions.get(plugin);
    pluginAdditions.delete(plugin);
    if (!additions) return;
    for (const c of liveClients()) {
      const stack = c.middlewareStack as unknown as { remove?: (m: unknown) => boolean };
      for (const m of additions.get(c) ?? []) stack.remove?.(m);
    }
  };
}

/**
 * The AWS SDK's logger middleware (`loggerMiddleware`, step `initialize`, added to every client by
 * @aws-sdk/core's getLoggerPlugin). After each call it copies the whole input and output through
 * the operation's schema (schemaLogFilter, which masks sensitive members) and hands the copies to
 * the client's `logger`. The clients made here are given no logger, so theirs is the SDK's
 * NoOpLogger, which drops them: that filtering is all the middleware does for them, on every
 * request and every page (an S3 listing of 1,000 keys, a DynamoDB item with its history). It is
 * taken out of each client `build` makes; nothing else in the stack changes, and requests,
 * retries and errors are the same (test/unit/aws-clients.test.ts). Measured: ~70 us of CPU less
 * per request (a document client's UpdateItem returning a record with 30 executions, in process);
 * the 8 lifecycle-harness integration files, three pairs started together: 35.3 -> 33.5,
 * 34.0 -> 31.7, 35.4 -> 36.4 s of the sending process's CPU (their bursts vary by timing).
 */
const SDK_LOGGER_MIDDLEWARE = 'loggerMiddleware';

/**
 * The HTTP handler of every client made here: the shared one of its kind of use (`http`, an
 * HttpProfile of lib/aws-http-timeouts.ts: `request`, `control` or `model`, each with its timeouts and
 * reasons there), handed to the client as its `requestHandler`. Clients are per assumed session
 * (clientWith), and each new client used to open its own connections: in AWS a TCP and TLS
 * handshake per session and endpoint, here a connection (and a server thread) per client. Sharing
 * one handler per profile (a NodeHttpHandler, whose keep-alive agents pool sockets per endpoint, at
 * most 50 each), a session's first request reuses an idle connection of an earlier one. A
 * connection carries no credentials (every request is signed with its client's). The handler's
 * settings are its profile's only: the SDK's defaults mode (AWS_DEFAULTS_MODE) sets none of them.
 * Nothing calls a client's destroy(), which would close the shared pool. Measured with the logger
 * change above in both arms (one handler for all, before the profiles), two pairs of the 8
 * lifecycle-harness integration files: 34.1 -> 33.3 and 40.7 -> 39.0 s of the sending process's
 * CPU, moto's 48.2 -> 47.8 and 58.0 -> 55.3 s.
 */
function build<C>(ctor: Ctor<C>, credentials?: AwsCredentialIdentity, maxAttempts = 3, region?: string, http: HttpProfile = 'control'): C {
  // The SDK retries throttling three times with backoff; past that the error reaches the state
  // machine, whose Retry policy backs off far longer than a Lambda invocation should wait.
  const client = new ctor({ maxAttempts, credentials, ...(region ? { region } : {}), requestHandler: httpHandler(http) });
  const withStack = client as unknown as PluggableClient;
  (client as unknown as { middlewareStack: { remove(name: string): boolean } }).middlewareStack.remove(SDK_LOGGER_MIDDLEWARE);
  created.add(new WeakRef(withStack));
  if (created.size >= sweepAt) liveClients();
  for (const p of plugins) applyPlugin(p, withStack);
  return client;
}

/**
 * A client with the Lambda's own credentials, cached per class, `variant` and `maxAttempts`.
 * @param variant keeps this client apart from the class's other cached clients: a client whose
 *   config another object writes to (a DynamoDB document client's marshalling options:
 *   document-clients.ts) gets one of its own. @default '' (the class's shared client)
 * @param options.maxAttempts the SDK's attempts per call: 1 where a caller has a retry layer of
 *   its own (the inference gateway's UpstreamCalls for Bedrock: the SDK's hidden retries would
 *   outlast its timeout and multiply its retries). @default 3
 * @param options.http the kind of use, whose HTTP timeouts the client has (lib/aws-http-timeouts.ts
 *   HTTP_TIMEOUTS): `request` for the gateway's small calls, `model` for model invocations.
 *   @default 'control'
 * @param options.region another region than the Lambda's own (a Bedrock deployment's: `gateway.models[].deployments[].region`).
 *   @default - the environment's (AWS_REGION)
 */
export function platformClient<C>(ctor: Ctor<C>, variant = '', options: { maxAttempts?: number; http?: HttpProfile; region?: string } = {}): C {
  let byVariant = cache.get(ctor);
  if (!byVariant) cache.set(ctor, (byVariant = new Map()));
  const http = options.http ?? 'control';
  const key = options.maxAttempts === undefined && http === 'control' && options.region === undefined ? variant : `${variant}\u0000${options.maxAttempts ?? ''}\u0000${http}\u0000${options.region ?? ''}`;
  if (!byVariant.has(key)) byVariant.set(key, build(ctor, undefined, options.maxAttempts, options.region, http));
  return byVariant.get(key) as C;
}

/** A client made on first call and reused after: `lazy(() => clientWith(EC2Client, credentials))`. */
export function lazy<C>(make: () => C): () => C {
  let client: C | undefined;
  return () => (client ??= make());
}

/**
 * Clients made by clientWith, per credentials object (an assumed session), class, options, region
 * and endpoint of the environment. Weak: they go when the session's credentials object does (a
 * session cache dropped it, or the call that assumed it ended).
 */
const withCredentials = new WeakMap<AwsCredentialIdentity, Map<unknown, Map<string, unknown>>>();

/**
 * A client with the given credentials; `region` for another region than the Lambda's own (a
 * tenant's DR region). One client per credentials object, class and options: a session's clients
 * are reused while the caller holds the session (AWS's advice: a client per call resolves its
 * config again and opens a new connection, with its TLS handshake), and go with it. A client holds
 * nothing but its config and connections, so a reused one answers as a new one would.
 * `options.http`: the kind of use, whose HTTP timeouts the client has (lib/aws-http-timeouts.ts
 * HTTP_TIMEOUTS). @default 'control'
 */
export function clientWith<C>(ctor: Ctor<C>, credentials: AwsCredentialIdentity, options: { maxAttempts?: number; region?: string; variant?: string; http?: HttpProfile } = {}): C {
  let byClass = withCredentials.get(credentials);
  if (!byClass) withCredentials.set(credentials, (byClass = new Map()));
  let byOptions = byClass.get(ctor);
  if (!byOptions) byClass.set(ctor, (byOptions = new Map()));
  const key = JSON.stringify([options.maxAttempts ?? null, options.region ?? null, process.env.AWS_REGION ?? null, process.env.AWS_ENDPOINT_URL ?? null, options.variant ?? null, options.http ?? 'control']);
  let client = byOptions.get(key) as C | undefined;
  if (client === undefined) byOptions.set(key, (client = build(ctor, credentials, options.maxAttempts, options.region, options.http)));
  return client;
}

/**
 * A new client with the Lambda's own credentials and `maxAttempts` (1: a call that must not be sent
 * twice), with the HTTP timeouts of `http` (lib/aws-http-timeouts.ts HTTP_TIMEOUTS, @default 'control').
 */
export function platformClientWith<C>(ctor: Ctor<C>, options: { maxAttempts: number; http?: HttpProfile }): C {
  return build(ctor, undefined, options.maxAttempts, undefined, options.http);
}

export interface AssumeRoleInput {
  roleArn: string;
  sessionName: string;
  tenantId?: string;
  /** Recorded by CloudTrail in every account the session reaches (needs sts:SetSourceIdentity in the trust). */
  sourceIdentity?: string;
  credentials?: AwsCredentialIdentity;
  /** Session length; a role chained from a Lambda's own role can have at most an hour. @default 900 */
  durationSeconds?: number;
  /**
   * An inline session policy (JSON, STS `Policy`): the session may do only what both it and the role allow (IAM User
   * Guide, "Session policies"). @default - none: the role's own permissions
   */
  policy?: string;
}

/**
 * `name` as an STS RoleSessionName: each character outside the set STS accepts (`[\w+=,.@-]`, 2 to 64 characters:
 * AssumeRole's RoleSessionName in the STS API Reference) replaced by `-`, cut to 64. A step's name (`Record failure`,
 * `End stopped execution`) becomes `Record-failure`; STS answers a space with a ValidationException.
 */
export function roleSessionName(name: string): string {
  return name.replace(/[^\w+=,.@-]/g, '-').slice(0, 64);
}

/**
 * STS AssumeRole; the session name is made one STS accepts (roleSessionName); the session carries the tenant id as a session tag when one is given. STS has the
 * `request` HTTP timeouts (lib/aws-http-timeouts.ts): a small call, on the gateway's path for the
 * tenant-data and model-invoker sessions.
 */
export async function assumeRole(input: AssumeRoleInput): Promise<AwsCredentialIdentity> {
  const sts = input.credentials ? clientWith(STSClient, input.credentials, { http: 'request' }) : platformClient(STSClient, '', { http: 'request' });
  const out = await sts.send(
    new AssumeRoleCommand({
      RoleArn: input.roleArn,
      RoleSessionName: roleSessionName(input.sessionName),
      DurationSeconds: input.durationSeconds ?? 900,
      Tags: input.tenantId ? [{ Key: 'tessera:tenant-id', Value: input.tenantId }] : undefined,
      SourceIdentity: input.sourceIdentity,
      Policy: input.policy,
    }),
  );
  const c = out.Credentials;
  if (!c?.AccessKeyId || !c.SecretAccessKey) throw new Error(`AssumeRole ${input.roleArn} returned no credentials`);
  return { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken, expiration: c.Expiration };
}
