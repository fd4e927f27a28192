import type { PlatformConfig } from '../../config/schema.js';
import type { AwsClients } from './clients.js';

/** `pass`: the prerequisite holds; `fail`: a deploy or onboarding would fail; `warn`: it may, or doctor could not tell. */
export type CheckStatus = 'pass' | 'fail' | 'warn';

/** One line of the report (and one element of `--json`'s `checks`). */
export interface CheckResult {
  /** Stable id, e.g. `organization`, `cdk-bootstrap:platform`, `bedrock-model:bedrock/amazon.nova-lite`. */
  readonly id: string;
  /** Short name printed after the mark. */
  readonly title: string;
  readonly status: CheckStatus;
  /** What doctor found (one line). */
  readonly detail: string;
  /** For `fail` and `warn`: the exact command or console step, with the real ids. */
  readonly fix?: string;
  /** The AWS account the check read. */
  readonly account?: string;
  /** The AWS Region the check read. */
  readonly region?: string;
}

/** Clients in one account, or why doctor cannot read it (the fix names the bootstrap/trust step). */
export type AccountClients =
  | { readonly ok: true; readonly clients: AwsClients; /** how the account is read: `your credentials`, `profile x`, `role arn` */ readonly via: string }
  | { readonly ok: false; readonly detail: string; readonly fix: string };

/** What every check group gets. */
export interface DoctorContext {
  readonly config: PlatformConfig;
  /** Region of every call (`--region`, @default - config homeRegion). */
  readonly region: string;
  /** Account of the engineer's credentials (STS GetCallerIdentity). */
  readonly callerAccount: string;
  /** Clients with the engineer's own credentials. */
  readonly caller: AwsClients;
  /** Clients with the engineer's own credentials in another Region (IAM Identity Center's). */
  callerIn(region: string): AwsClients;
  /** Region of the IAM Identity Center instance (`--identity-center-region`). @default - `region` */
  readonly identityCenterRegion?: string;
  /** Clients in `accountId` (cached per account): the caller's, a `--account-profile`, or the CDK lookup role. */
  clientsIn(accountId: string): Promise<AccountClients>;
  /** The day date-based checks judge from (`model-shutdown`). @default - the clock's (new Date()) */
  readonly today?: Date;
}

/** A group of checks: never throws (an unexpected error becomes a `fail` line in the runner). */
export type CheckGroup = (ctx: DoctorContext) => Promise<CheckResult[]>;

/** `--json`'s shape. */
export interface DoctorReport {
  readonly checks: CheckResult[];
  readonly summary: { pass: number; fail: number; warn: number };
}
