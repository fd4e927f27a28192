import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentity } from '@smithy/types';

/**
 * Every AWS SDK client of the Lambdas is made here, so that one place decides retries and
 * credentials, and so that integration tests can add SDK middleware (fault injection: throttling,
 * failed account creation) to real clients talking to moto.
 */

export type ClientPlugin = (client: { middlewareStack: { add: (...args: never[]) => unknown } }) => void;

type Ctor<C> = new (config: { maxAttempts?: number; credentials?: AwsCredentialIdentity; region?: string }) => C;

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
const cache = new Map<unknown, unknown>();

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

/** Applies `plugin` to every client made so far that is still in use, and to every one made from now on. Used by tests. */
export function registerClientPlugin(plugin: ClientPlugin): () => void {
  plugins.push(plugin);
  for (const c of liveClients()) plugin(c);
  return () => {
    const i = plugins.indexOf(plugin);
    if (i >= 0) plugins.splice(i, 1);
  };
}

function build<C>(ctor: Ctor<C>, credentials?: AwsCredentialIdentity, maxAttempts = 3, region?: string): C {
  // The SDK retries throttling three times with backoff; past that the error reaches the state
  // machine, whose Retry policy backs off far longer than a Lambda invocation should wait.
  const client = new ctor({ maxAttempts, credentials, ...(region ? { region } : {}) });
  const withStack = client as unknown as PluggableClient;
  created.add(new WeakRef(withStack));
  if (created.size >= sweepAt) liveClients();
  for (const p of plugins) p(withStack);
  return client;
}

/** A client with the Lambda's own credentials (cached per class). */
export function platformClient<C>(ctor: Ctor<C>): C {
  if (!cache.has(ctor)) cache.set(ctor, build(ctor));
  return cache.get(ctor) as C;
}

/** A client made on first call and reused after: `lazy(() => clientWith(EC2Client, credentials))`. */
export function lazy<C>(make: () => C): () => C {
  let client: C | undefined;
  return () => (client ??= make());
}

/**
 * A client with the given credentials (not cached: sessions expire); `region` for another region
 * than the Lambda's own (a tenant's DR region).
 */
export function clientWith<C>(ctor: Ctor<C>, credentials: AwsCredentialIdentity, options: { maxAttempts?: number; region?: string } = {}): C {
  return build(ctor, credentials, options.maxAttempts, options.region);
}

/** A new client with the Lambda's own credentials and `maxAttempts` (1: a call that must not be sent twice). */
export function platformClientWith<C>(ctor: Ctor<C>, options: { maxAttempts: number }): C {
  return build(ctor, undefined, options.maxAttempts);
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
}

/** STS AssumeRole; the session carries the tenant id as a session tag when one is given. */
export async function assumeRole(input: AssumeRoleInput): Promise<AwsCredentialIdentity> {
  const sts = input.credentials ? clientWith(STSClient, input.credentials) : platformClient(STSClient);
  const out = await sts.send(
    new AssumeRoleCommand({
      RoleArn: input.roleArn,
      RoleSessionName: input.sessionName.slice(0, 64),
      DurationSeconds: input.durationSeconds ?? 900,
      Tags: input.tenantId ? [{ Key: 'tessera:tenant-id', Value: input.tenantId }] : undefined,
      SourceIdentity: input.sourceIdentity,
    }),
  );
  const c = out.Credentials;
  if (!c?.AccessKeyId || !c.SecretAccessKey) throw new Error(`AssumeRole ${input.roleArn} returned no credentials`);
  return { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken, expiration: c.Expiration };
}
