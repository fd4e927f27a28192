// What `tessera --json` writes when a command fails: one JSON object on one line, the last line of stderr, with the same
// exit code as the text line it replaces. The admin API's error body is passed on as it came; the CLI's own failures
// (usage, config, credentials, the connection, API Gateway) are said in the same `{"error": {...}}` shape.
import { ConfigError } from '../config/config-error.js';
import { AdminApiError } from './admin-api-errors.js';
import { CliError } from './cli-error.js';

/** The flag as typed: the program's global option (and doctor's and dev-key's own). */
export const JSON_FLAG = '--json';

/**
 * Whether the command line asks for JSON (`--json` before a `--`). Read from the arguments, not from commander, so that a
 * refusal commander makes before the command runs (an unknown option, a missing argument) is said in JSON too.
 * @param args the arguments after `tessera`
 */
export function asksJson(args: readonly string[]): boolean {
  const end = args.indexOf('--');
  return (end === -1 ? args : args.slice(0, end)).includes(JSON_FLAG);
}

/**
 * The `error` object of `--json`: OpenAI's error shape, as the admin API answers (`message`, `type`, `param`, `code`),
 * with `status` and `request_id` when an HTTP answer came, and `cli_message` when the CLI said more than the API's message
 * (the flag that carried a field, the request id to send again).
 */
export interface JsonErrorObject {
  message: string;
  type: string;
  code?: string | null;
  param?: string | null;
  /** The HTTP status of the answer (the admin API's or API Gateway's); absent when none came. */
  status?: number;
  /** API Gateway's request id (`x-amzn-RequestId`), or the AWS SDK's (`$metadata.requestId`) for a direct AWS call. */
  request_id?: string;
  /** The CLI's own line when it differs from the admin API's `message` (its text-mode line, without `error: `). */
  cli_message?: string;
  [more: string]: unknown;
}

/** An AWS SDK v3 service error (`$metadata` from the answer): the cause of a CliError of a command that calls AWS directly (dlq, admins). */
interface AwsServiceError extends Error {
  $metadata: { httpStatusCode?: number; requestId?: string };
  $fault?: string;
}

const isAwsServiceError = (e: unknown): e is AwsServiceError =>
  e instanceof Error && typeof (e as Partial<AwsServiceError>).$metadata === 'object' && (e as Partial<AwsServiceError>).$metadata !== null;

const isConfigError = (e: unknown): e is ConfigError => e instanceof ConfigError || (e as Error | undefined)?.name === 'ConfigError';

/** `e` and its causes, outermost first. */
function chain(e: unknown): unknown[] {
  const out: unknown[] = [];
  for (let err: unknown = e; err !== undefined && err !== null && !out.includes(err); err = (err as Error).cause) {
    out.push(err);
    if (!(err instanceof Error)) break;
  }
  return out;
}

/** The admin API's own error body (`{"error": {...}}`, with any key beside it) an AdminApiError kept, when it has one. */
function adminErrorBody(e: AdminApiError): { error: Record<string, unknown>; [beside: string]: unknown } | undefined {
  const body = e.answer.body;
  const error = body?.error;
  return error !== null && typeof error === 'object' && !Array.isArray(error) ? (body as { error: Record<string, unknown> }) : undefined;
}

/** The flag a CLI usage error's message starts with (`--port abc: …`, `--tenants-file x.yaml: no such file`, `--role=x …`). */
const LEADING_FLAG = /^(--[a-z0-9][a-z0-9-]*)(?=[ :=])/;

/**
 * The JSON a failure prints with `--json` (stringified on one line by the caller):
 * - the admin API answered with its error: that body as it came (`error.message`, `type`, `param`, `code`, and any key
 *   beside `error`, such as a 409's `operation`), with `status` and `request_id` added to `error`, and `cli_message` when
 *   the CLI said it in other words (a field as the flag that carried it, a next step);
 * - any other failed admin API call: the CLI's message, `type` `credentials_error` (no credentials to sign),
 *   `connection_error` (DNS, the connection, TLS, no answer in time: `code` the network code or `timeout`),
 *   `api_gateway_error` (API Gateway's own refusal or answer: `code` as the text line's, or its `x-amzn-ErrorType`),
 *   `unexpected_response` (a server that is not the admin API), with `status` and `request_id` when an answer came;
 * - an AWS SDK error of a direct AWS call: the CLI's message, `type` `aws_error`, `code` the SDK's error name, `status`
 *   and `request_id` from its `$metadata`;
 * - a ConfigError (or a CliError that says one with its fix): `config_error`, code `invalid_config`, its `problems` and
 *   `source` (the config's files);
 * - another CliError: its own class, else `usage_error` (exit 2: nothing was done) or `cli_error` (exit 1); a
 *   `usage_error` whose message starts with a flag (`--port abc: …`) has it as `param`;
 * - anything else: `internal_error` with the first line of its message.
 * @param e the error that ended the command
 */
export function errorJson(e: unknown): { error: JsonErrorObject; [beside: string]: unknown } {
  const errors = chain(e);
  const message = e instanceof Error ? e.message : String(e);
  const api = errors.find((x): x is AdminApiError => x instanceof AdminApiError);
  if (api) {
    const said = api === e ? {} : { cli_message: message };
    const answered = { ...(api.status ? { status: api.status } : {}), ...(api.answer.requestId ? { request_id: api.answer.requestId } : {}) };
    const body = adminErrorBody(api);
    if (body) return { ...body, error: { ...(body.error as JsonErrorObject), ...answered, ...said } };
    const errorClass = api.errorClass ?? { type: 'api_error' };
    return { error: { message, type: errorClass.type, ...(errorClass.code ? { code: errorClass.code } : {}), ...answered } };
  }
  const aws = errors.find(isAwsServiceError);
  if (aws) {
    return {
      error: {
        message, type: 'aws_error', code: aws.name,
        ...(aws.$metadata.httpStatusCode ? { status: aws.$metadata.httpStatusCode } : {}), ...(aws.$metadata.requestId ? { request_id: aws.$metadata.requestId } : {}),
      },
    };
  }
  // A config file's problems, also when a command said them with its own fix (`--config <file>`).
  const config = errors.find(isConfigError);
  if (config) return { error: { message, type: 'config_error', code: 'invalid_config', source: config.source, problems: [...config.problems] } };
  if (e instanceof CliError) {
    const errorClass = e.errorClass ?? { type: e.exitCode === 2 ? 'usage_error' : 'cli_error' };
    // An invalid tenants file (tenants apply) lists every problem, as its text line does up to ten.
    const problems = (e as CliError & { problems?: unknown }).problems;
    // A usage error that starts by naming its flag (`--port abc: expected a whole number …`) names it in `param`, as commander's do.
    const flag = errorClass.type === 'usage_error' ? LEADING_FLAG.exec(message)?.[1] : undefined;
    return {
      error: { message, type: errorClass.type, ...(errorClass.code ? { code: errorClass.code } : {}), ...(flag ? { param: flag } : {}), ...(Array.isArray(problems) ? { problems } : {}) },
    };
  }
  return { error: { message: message.split('\n')[0]!, type: 'internal_error' } };
}

/**
 * The JSON of a refusal commander makes (an unknown option or command, a missing argument or required option, a bad
 * value): `type` `usage_error`, `code` commander's code in snake_case (`commander.unknownOption` → `unknown_option`),
 * `param` the option or command at fault when the line names one (an unknown one; an option whose value is missing or
 * refused, by its long flag).
 * @param line the house-style line (report-error.ts usageLine), whose first line is the message
 * @param commanderCode commander's `CommanderError.code`
 */
export function usageErrorJson(line: string, commanderCode: string): { error: JsonErrorObject } {
  const first = line.split('\n')[0]!.replace(/^error: /, '');
  // usageLine reports a misspelt required option as unknown, though commander's code says a required option is missing.
  const code = /^unknown option '/.test(first) ? 'unknown_option' : commanderCode.replace(/^commander\./, '').replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
  const named = /^unknown (?:option|command) '([^']+)'/.exec(first)?.[1]?.split('=')[0] ?? optionOfValue(first);
  return { error: { message: first, type: 'usage_error', code, ...(named ? { param: named } : {}) } };
}

/**
 * The option a refusal of its value names (commander's `option '-f, --file <tenants.yaml>' argument missing` and
 * `option '--status <status>' argument 'BOGUS' is invalid. …`): its long flag (`--file`), else its short one.
 * @param message commander's message, without `error: `
 * @returns undefined when the message names no option's value
 */
function optionOfValue(message: string): string | undefined {
  const flags = /^option '([^']+)' argument /.exec(message)?.[1];
  if (!flags) return undefined;
  const names = flags.split(/[ ,|]+/).filter((f) => f.startsWith('-'));
  return names.find((f) => f.startsWith('--')) ?? names[0];
}

/** One JSON line for stderr. */
export const jsonLine = (value: unknown): string => `${JSON.stringify(value)}\n`;

/**
 * What a Ctrl-C (SIGINT) that stops a command says on stderr: `message` as one text line, or with `json` (`tessera --json`)
 * one JSON line in the `{"error": {...}}` shape of every other failure, `type` `interrupted` and `code` what was stopped,
 * so that a script reading the last line of stderr reads it as it reads any other end (it printed text, s46's finding).
 * The exit code stays 130, as a shell reports a SIGINT.
 * @param message the line, e.g. `stopped following tenant acme (Ctrl-C): …`
 * @param code `start_unanswered` (the request that starts an operation had no answer yet: lib/cli/interrupted-start.ts),
 *   `watch_stopped` (a watch ended, the execution goes on: lib/cli/execution-watch.ts), `redrive_stopped` (`tessera dlq
 *   redrive`, its report on stdout), `command_stopped` (any other command: program.ts sayInterruptedInJson)
 * @param json whether the command line asked for JSON (asksJson)
 * @returns the text for stderr, ending in a newline
 */
export function interruptionLine(message: string, code: 'start_unanswered' | 'watch_stopped' | 'redrive_stopped' | 'command_stopped', json: boolean): string {
  return json ? jsonLine({ error: { message, type: 'interrupted', code } }) : `${message}\n`;
}
