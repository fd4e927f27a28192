import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { randomUUID } from 'node:crypto';
import { platformClient } from '../../../lambdas/shared/aws-clients.js';
import { ENV, requireEnv } from '../../../lambdas/shared/environment.js';

/**
 * A Distributed Map state (a Map with `ItemReader`: the rolling upgrade's *Upgrade each tenant*) run on this machine,
 * where aws-local-stepfunctions reads no items from S3 and fails the state with `States.Runtime`. The runner
 * (workflow-runner.ts) runs it as a Task of the same name, input and ResultPath, whose handler is {@link runDistributedMap}:
 * it does what Step Functions does for the subset of the Amazon States Language the platform's definitions use
 * (Step Functions Developer Guide: "ItemReader", "ItemSelector", "ResultWriter", "Tolerated failure threshold"):
 * - reads the JSON array of items from S3 (ItemReader `Parameters` `Bucket`, `Key`/`Key.$`; `ReaderConfig.InputType` JSON);
 * - builds each child's input with `ItemSelector` (`$$.Map.Item.Value…`, `$$.Map.Item.Index`, `$…` of the state's input,
 *   literals), or the item itself without one;
 * - runs the ItemProcessor as one child execution per item, `MaxConcurrency` at a time (0 or none: all at once), each
 *   named `<state machine>/<execution name>:<index>` as a Distributed Map's children are;
 * - writes the results as ResultWriter does: `<Prefix>/<map run id>/SUCCEEDED_0.json`, `FAILED_0.json` (each child's
 *   `Status`, `Input`, `Output`, `Error`, `Cause`, JSON strings) and `manifest.json` (`DestinationBucket`, `MapRunArn`,
 *   `ResultFiles`), and returns `{ MapRunArn, ResultWriterDetails: { Bucket, Key } }`, the state's result;
 * - throws `States.ExceedToleratedFailureThreshold` when more than `ToleratedFailurePercentage` (default 0) of the
 *   items failed (exactly that share is tolerated: 7 of 100 at 7%, compared in integers, as `failed × 100 > tolerated ×
 *   items`), starting no child once the failures so far exceed it, as Step Functions fails the Map Run then (the items not
 *   started are in no result file); `States.ItemReaderFailed` when the items cannot be read or are not an array.
 * A bucket written as a CloudFormation placeholder (`<LifecycleWorkBucket…>`: the synthesized definitions keep the
 * bucket's logical id) is the lifecycle work bucket of the local platform (TESSERA_LIFECYCLE_WORK_BUCKET), the only
 * bucket the platform's Distributed Maps read and write. Not emulated: map run events and DescribeMapRun (the
 * upgrade's progress shows no per-tenant counts while it runs), `ItemBatcher`, CSV and manifest readers.
 */
export interface DistributedMapState {
  ItemReader: { Parameters?: Record<string, unknown>; ReaderConfig?: { InputType?: string } };
  ItemSelector?: Record<string, unknown>;
  ItemProcessor: { StartAt: string; States: Record<string, unknown>; ProcessorConfig?: unknown };
  ResultWriter?: { Parameters?: Record<string, unknown> };
  MaxConcurrency?: number;
  ToleratedFailurePercentage?: number;
}

/** One child execution's end, as the runner reports it. */
export interface ChildRun { status: string; output?: unknown; error?: { error?: string; cause?: string } }

/** The value at a JSONPath of the forms `$`, `$.a.b` (dotted names only: what the platform's definitions use). */
function at(path: string, value: unknown): unknown {
  if (path === '$') return value;
  if (!path.startsWith('$.')) throw namedError('States.Runtime', `JSONPath ${JSON.stringify(path)} is not of the form $.a.b (the local Distributed Map reads no other)`);
  return path.slice(2).split('.').reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], value);
}

/** A template's fields (`key.$`: a path into the item's context or the state's input; other keys literal, objects recursively). */
function fill(template: Record<string, unknown>, item: unknown, index: number, input: unknown): Record<string, unknown> {
  return Object.fromEntries(Object.entries(template).map(([key, value]) => {
    if (!key.endsWith('.$')) return [key, value !== null && typeof value === 'object' && !Array.isArray(value) ? fill(value as Record<string, unknown>, item, index, input) : value];
    const path = String(value);
    const resolved = path === '$$.Map.Item.Index' ? index
      : path.startsWith('$$.Map.Item.Value') ? at(`$${path.slice('$$.Map.Item.Value'.length)}`, item)
        : at(path, input);
    return [key.slice(0, -2), resolved];
  }));
}

/** An Error whose name is the Step Functions error the state fails with. */
function namedError(name: string, message: string): Error {
  const e = new Error(message);
  e.name = name;
  return e;
}

/** A `Bucket` of the definition, or the work bucket for a CloudFormation placeholder (see the module's comment). */
function bucketOf(parameters: Record<string, unknown>, input: unknown): string {
  const p = fill(parameters, undefined, 0, input);
  const bucket = String(p.Bucket ?? '');
  return bucket === '' || bucket.startsWith('<') ? requireEnv(ENV.workBucket) : bucket;
}

/**
 * Runs `state` (a Distributed Map) on `input`, as the module's comment says.
 * @param parentArn the execution's ARN (`arn:…:execution:<machine>:<name>`): its children are `arn:…:execution:<machine>/<name>:<index>`
 * @param runChild runs the ItemProcessor (ProcessorConfig removed) on one child's input as the execution named
 * @returns `{ MapRunArn, ResultWriterDetails }` (ResultWriterDetails only with a ResultWriter), the Map state's result
 * @throws States.ItemReaderFailed, States.ExceedToleratedFailureThreshold (named errors: the state's Catch and Retry see them)
 */
export async function runDistributedMap(
  state: DistributedMapState, input: unknown, parentArn: string,
  runChild: (definition: { StartAt: string; States: Record<string, unknown> }, childInput: unknown, executionArn: string) => Promise<ChildRun>,
): Promise<{ MapRunArn: string; ResultWriterDetails?: { Bucket: string; Key: string } }> {
  const s3 = platformClient(S3Client);
  const reader = state.ItemReader.Parameters ?? {};
  const source = { Bucket: bucketOf(reader, input), Key: String(fill(reader, undefined, 0, input).Key) };
  let items: unknown;
  try {
    items = JSON.parse(await (await s3.send(new GetObjectCommand(source))).Body!.transformToString());
  } catch (e) {
    throw namedError('States.ItemReaderFailed', `s3://${source.Bucket}/${source.Key}: ${(e as Error).message}`);
  }
  if (!Array.isArray(items)) throw namedError('States.ItemReaderFailed', `s3://${source.Bucket}/${source.Key} holds no JSON array`);
  const { ProcessorConfig: _config, ...processor } = state.ItemProcessor;
  const [, machine, name] = /^(.*:execution:[^:]+):([^:]+)$/.exec(parentArn) ?? [];
  const mapRunId = randomUUID();
  const mapRunArn = `${(machine ?? parentArn).replace(':execution:', ':mapRun:')}/${name ?? 'local'}:${mapRunId}`;
  const results: Array<{ Status: string; Input: string; Output?: string; Error?: string; Cause?: string; ExecutionArn: string }> = new Array(items.length);
  const tolerated = state.ToleratedFailurePercentage ?? 0;
  // More than `tolerated` percent of all the items failed: integers compared (7 of 100 is 7.000000000000001% in floating point).
  const exceeded = (failures: number) => failures * 100 > tolerated * (items as unknown[]).length;
  let failures = 0;
  let next = 0;
  const worker = async () => {
    while (next < items.length && !exceeded(failures)) {
      const index = next++;
      const item = (items as unknown[])[index];
      const childInput = state.ItemSelector ? fill(state.ItemSelector, item, index, input) : item;
      const executionArn = `${machine ?? parentArn}/${name ?? 'local'}:${index}`;
      const r = await runChild(processor, childInput, executionArn);
      if (r.status !== 'SUCCEEDED') failures++;
      results[index] = {
        ExecutionArn: executionArn, Status: r.status, Input: JSON.stringify(childInput),
        ...(r.status === 'SUCCEEDED' ? { Output: JSON.stringify(r.output ?? null) } : { Error: r.error?.error, Cause: r.error?.cause }),
      };
    }
  };
  const width = state.MaxConcurrency && state.MaxConcurrency > 0 ? Math.min(state.MaxConcurrency, items.length) : items.length;
  await Promise.all(Array.from({ length: width }, worker));
  const failed = results.filter((r) => r.Status !== 'SUCCEEDED');
  let details: { Bucket: string; Key: string } | undefined;
  if (state.ResultWriter) {
    const writer = state.ResultWriter.Parameters ?? {};
    const bucket = bucketOf(writer, input);
    const prefix = `${String(fill(writer, undefined, 0, input).Prefix ?? '').replace(/\/$/, '')}/${mapRunId}`;
    const put = async (key: string, body: unknown) => {
      const text = JSON.stringify(body);
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: text, ContentType: 'application/json' }));
      return { Key: key, Size: Buffer.byteLength(text) };
    };
    const succeeded = results.filter((r) => r.Status === 'SUCCEEDED');
    const files = {
      FAILED: failed.length ? [await put(`${prefix}/FAILED_0.json`, failed)] : [],
      PENDING: [],
      SUCCEEDED: succeeded.length ? [await put(`${prefix}/SUCCEEDED_0.json`, succeeded)] : [],
    };
    const manifest = await put(`${prefix}/manifest.json`, { DestinationBucket: bucket, MapRunArn: mapRunArn, ResultFiles: files });
    details = { Bucket: bucket, Key: manifest.Key };
  }
  if (exceeded(failed.length)) {
    throw namedError('States.ExceedToleratedFailureThreshold', `${failed.length} of ${items.length} item(s) failed, more than the tolerated ${tolerated}% (map run ${mapRunArn})`);
  }
  return { MapRunArn: mapRunArn, ...(details ? { ResultWriterDetails: details } : {}) };
}
