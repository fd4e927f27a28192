import {
  CreateAccountCommand, CreateAccountStatusNotFoundException, DuplicateAccountException, ListAccountsCommand, ListChildrenCommand, ListCreateAccountStatusCommand, ListParentsCommand,
  OrganizationalUnitNotEmptyException, OrganizationsClient, SourceParentNotFoundException,
  type ChildType, type CreateAccountCommandInput, type CreateAccountState, type CreateAccountStatus, type MoveAccountCommandInput,
} from '@aws-sdk/client-organizations';
import type { AwsCredentialIdentity } from '@smithy/types';
import { randomBytes } from 'node:crypto';
import { registerClientPlugin } from '../../../lambdas/shared/aws-clients.js';
import { harnessHttp } from './harness-http.js';

/**
 * Organizations account creation as AWS behaves, on top of moto's, for the Lambdas' real clients
 * (SDK middleware, innermost at the initialize step like the CloudFormation emulation, so injected
 * faults and rewrites still wrap it). What moto lacks, and only that:
 *
 * - **One account per email.** AWS refuses a second account whose email an account of the
 *   organization (a closed, SUSPENDED one included: ListAccounts still lists it) or an earlier
 *   request still in progress already uses: CreateAccount itself succeeds (State IN_PROGRESS),
 *   then DescribeCreateAccountStatus answers State FAILED, FailureReason EMAIL_ALREADY_EXISTS,
 *   and no account is created. moto creates the duplicate. Emails compare case-insensitively.
 * - **CreateAccount answers IN_PROGRESS**, as AWS always does (moto answers SUCCEEDED with the
 *   account id); the outcome is read with DescribeCreateAccountStatus.
 * - **Asynchronous creation, under the test's control.** AWS takes minutes; moto is done at once.
 *   `hold()`: from then on a CreateAccount stays IN_PROGRESS (moto is not called: ListAccounts does
 *   not show the account) under a request id of AWS's shape (`car-` + 32 hex) until `release()`
 *   completes it: moto's CreateAccount is called then, and the request answers SUCCEEDED with
 *   the account id, or FAILED EMAIL_ALREADY_EXISTS.
 * - DescribeCreateAccountStatus and ListCreateAccountStatus (States filter, MaxResults, NextToken)
 *   include the held and the emulated requests (moto only knows accounts it created, all
 *   SUCCEEDED); a request id nobody issued fails with CreateAccountStatusNotFoundException (moto:
 *   AccountNotFoundException).
 *
 * - **MoveAccount checks where the account is** (AWS Organizations API Reference, MoveAccount): an account already in
 *   the DestinationParentId is `DuplicateAccountException` ("That account is already present in the specified
 *   destination"), a SourceParentId that is not the account's parent `SourceParentNotFoundException`. moto moves it
 *   from wherever it is, so a MoveAccount resent after its first call took effect (an answer lost) succeeds again.
 * - **DeleteOrganizationalUnit refuses an OU that is not empty** (`OrganizationalUnitNotEmptyException`: accounts or
 *   child OUs in it, DeleteOrganizationalUnit); moto deletes it and leaves its accounts under a parent that is gone
 *   (ListParents then names none).
 *
 * Without `hold()`, a CreateAccount whose email is free goes to moto at once, under moto's id,
 * exactly as before (only its State reads IN_PROGRESS); DescribeCreateAccountStatus of it is moto's.
 */

export interface OrganizationsEmulation {
  /** New CreateAccount requests stay IN_PROGRESS until released. */
  hold(): void;
  /**
   * Completes held requests: one by its request id (holding stays on), or, without an id, every held
   * request in the order they were made and holding off. Resolves with the completed requests' statuses.
   */
  release(requestId?: string): Promise<CreateAccountStatus[]>;
  /** The ids of the requests held now, oldest first. */
  held(): string[];
  /** Every request the emulation answered itself (held, released, refused), oldest first. */
  requests(): CreateAccountStatus[];
  uninstall(): void;
}

interface Request {
  status: CreateAccountStatus;
  readonly input: CreateAccountCommandInput;
  readonly credentials: AwsCredentialIdentity;
  /** moto's request id once moto created the account (ListCreateAccountStatus lists it under ours). */
  motoId?: string;
}

const ALL_STATES: CreateAccountState[] = ['IN_PROGRESS', 'SUCCEEDED', 'FAILED'];
const requestId = () => `car-${randomBytes(16).toString('hex')}`;
const emailKey = (email: string | undefined) => (email ?? '').trim().toLowerCase();

export function emulateOrganizations(): OrganizationsEmulation {
  const requests: Request[] = [];
  let holding = false;
  /** CreateAccount and release run one at a time: the email check and the create must not interleave. */
  let queue: Promise<unknown> = Promise.resolve();
  const serially = <T>(work: () => Promise<T>): Promise<T> => {
    const run = queue.then(work, work);
    queue = run.catch(() => undefined);
    return run;
  };

  /** The emulation's own client per identity and endpoint (a new SDK client costs ~1.3 ms more on its first call; it holds nothing but its config). */
  const clients = new Map<string, OrganizationsClient>();
  const raw = (credentials: AwsCredentialIdentity) => {
    const key = JSON.stringify([credentials.accessKeyId, credentials.secretAccessKey, credentials.sessionToken ?? null, process.env.AWS_REGION ?? null, process.env.AWS_ENDPOINT_URL ?? null]);
    let client = clients.get(key);
    if (!client) {
      if (clients.size >= 500) clients.clear();
      clients.set(key, (client = new OrganizationsClient(harnessHttp({ credentials, maxAttempts: 1 }))));
    }
    return client;
  };

  async function accountEmails(credentials: AwsCredentialIdentity): Promise<Set<string>> {
    const emails = new Set<string>();
    let NextToken: string | undefined;
    do {
      const page = await raw(credentials).send(new ListAccountsCommand({ NextToken }));
      for (const a of page.Accounts ?? []) emails.add(emailKey(a.Email));
      NextToken = page.NextToken;
    } while (NextToken);
    return emails;
  }

  /** Whether `request`'s email is taken: by an account, or by a request made before it and still in progress. */
  async function emailTaken(request: Request): Promise<boolean> {
    const email = emailKey(request.input.Email);
    if ((await accountEmails(request.credentials)).has(email)) return true;
    const earlier = requests.slice(0, requests.indexOf(request));
    return earlier.some((r) => r.status.State === 'IN_PROGRESS' && emailKey(r.input.Email) === email);
  }

  const fail = (request: Request, reason: 'EMAIL_ALREADY_EXISTS') => {
    request.status = { ...request.status, State: 'FAILED', FailureReason: reason, CompletedTimestamp: new Date() };
  };

  async function complete(request: Request): Promise<CreateAccountStatus> {
    if (request.status.State !== 'IN_PROGRESS') return request.status;
    if (await emailTaken(request)) {
      fail(request, 'EMAIL_ALREADY_EXISTS');
      return request.status;
    }
    const out = (await raw(request.credentials).send(new CreateAccountCommand(request.input))).CreateAccountStatus!;
    request.motoId = out.Id;
    request.status = { ...request.status, State: 'SUCCEEDED', AccountId: out.AccountId, CompletedTimestamp: new Date() };
    return request.status;
  }

  type Output = { output: Record<string, unknown> };
  const inProgress = (s: CreateAccountStatus): CreateAccountStatus => ({ Id: s.Id, AccountName: s.AccountName, State: 'IN_PROGRESS', RequestedTimestamp: s.RequestedTimestamp });

  const handlers: Record<string, (input: any, credentials: AwsCredentialIdentity, next: () => Promise<Output>) => Promise<Output>> = {
    CreateAccountCommand: (input: CreateAccountCommandInput, credentials, next) => serially(async () => {
      const request: Request = { input, credentials, status: { Id: requestId(), AccountName: input.AccountName, State: 'IN_PROGRESS', RequestedTimestamp: new Date() } };
      if (holding) {
        requests.push(request);
        return { output: { CreateAccountStatus: inProgress(request.status), $metadata: {} } };
      }
      requests.push(request);
      if (await emailTaken(request)) {
        fail(request, 'EMAIL_ALREADY_EXISTS');
        return { output: { CreateAccountStatus: inProgress(request.status), $metadata: {} } };
      }
      // Free email, no hold: moto's account and moto's request id, as before the emulation.
      requests.splice(requests.indexOf(request), 1);
      const out = await next();
      const status = out.output.CreateAccountStatus as CreateAccountStatus;
      return { output: { ...out.output, CreateAccountStatus: inProgress(status) } };
    }),
    DescribeCreateAccountStatusCommand: async (input: { CreateAccountRequestId?: string }, _credentials, next) => {
      const request = requests.find((r) => r.status.Id === input.CreateAccountRequestId);
      if (request) return { output: { CreateAccountStatus: { ...request.status }, $metadata: {} } };
      try {
        return await next();
      } catch (e) {
        if ((e as Error).name === 'AccountNotFoundException') {
          throw new CreateAccountStatusNotFoundException({ message: 'We can\'t find an create account request with the CreateAccountRequestId that you specified.', $metadata: { httpStatusCode: 400 } });
        }
        throw e;
      }
    },
    MoveAccountCommand: async (input: MoveAccountCommandInput, credentials, next) => {
      let parent: string | undefined;
      try {
        parent = (await raw(credentials).send(new ListParentsCommand({ ChildId: input.AccountId }))).Parents?.[0]?.Id;
      } catch {
        return next(); // an account moto does not know: moto's own answer
      }
      if (parent === input.DestinationParentId) {
        throw new DuplicateAccountException({ message: 'That account is already present in the specified destination.', $metadata: { httpStatusCode: 400 } });
      }
      if (parent !== input.SourceParentId) {
        throw new SourceParentNotFoundException({ message: 'We can\'t find a source root or OU with the ParentId that you specified.', $metadata: { httpStatusCode: 400 } });
      }
      return next();
    },
    DeleteOrganizationalUnitCommand: async (input: { OrganizationalUnitId?: string }, credentials, next) => {
      const children = async (ChildType: ChildType) => {
        try {
          return (await raw(credentials).send(new ListChildrenCommand({ ParentId: input.OrganizationalUnitId, ChildType }))).Children ?? [];
        } catch {
          return []; // an OU moto does not know: moto's own answer below
        }
      };
      if ((await children('ACCOUNT')).length || (await children('ORGANIZATIONAL_UNIT')).length) {
        throw new OrganizationalUnitNotEmptyException({
          message: 'The specified OU is not empty. Move all accounts to another root or to other OUs, remove all child OUs, and try the operation again.', $metadata: { httpStatusCode: 400 },
        });
      }
      return next();
    },
    ListCreateAccountStatusCommand: async (input: { States?: CreateAccountState[]; MaxResults?: number; NextToken?: string }, credentials) => {
      const moto: CreateAccountStatus[] = [];
      let NextToken: string | undefined;
      do {
        const page = await raw(credentials).send(new ListCreateAccountStatusCommand({ NextToken }));
        moto.push(...(page.CreateAccountStatuses ?? []));
        NextToken = page.NextToken ?? undefined;
      } while (NextToken);
      const released = new Set(requests.map((r) => r.motoId).filter(Boolean));
      const states = input.States?.length ? input.States : ALL_STATES;
      const all = [...moto.filter((s) => !released.has(s.Id)), ...requests.map((r) => ({ ...r.status }))].filter((s) => states.includes(s.State!));
      const start = input.NextToken ? Number(input.NextToken) : 0;
      const size = input.MaxResults ?? 20;
      const page = all.slice(start, start + size);
      return { output: { CreateAccountStatuses: page, NextToken: start + size < all.length ? String(start + size) : undefined, $metadata: {} } };
    },
  };

  const uninstall = registerClientPlugin((client) => {
    const config = (client as unknown as { config: { credentials: () => Promise<AwsCredentialIdentity> } }).config;
    const stack = client.middlewareStack as unknown as { add(m: unknown, o: Record<string, unknown>): void };
    stack.add(
      (next: (args: { input: Record<string, unknown> }) => Promise<Output>, context: { clientName?: string; commandName?: string }) => async (args: { input: Record<string, unknown> }) => {
        const handler = context.clientName === 'OrganizationsClient' ? handlers[context.commandName ?? ''] : undefined;
        if (!handler) return next(args);
        return handler(args.input, await config.credentials(), () => next(args));
      },
      { step: 'initialize', priority: 'low', name: 'tesseraOrganizationsEmulation', override: true },
    );
  });

  return {
    hold: () => void (holding = true),
    release: (id) => serially(async () => {
      const held = requests.filter((r) => r.status.State === 'IN_PROGRESS');
      if (id !== undefined && !held.some((r) => r.status.Id === id)) throw new Error(`no held CreateAccount request ${id} (held: ${held.map((r) => r.status.Id).join(', ') || 'none'})`);
      if (id === undefined) holding = false;
      const done: CreateAccountStatus[] = [];
      for (const r of held) if (id === undefined || r.status.Id === id) done.push({ ...(await complete(r)) });
      return done;
    }),
    held: () => requests.filter((r) => r.status.State === 'IN_PROGRESS').map((r) => r.status.Id!),
    requests: () => requests.map((r) => ({ ...r.status })),
    uninstall,
  };
}
