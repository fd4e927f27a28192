import { EventBridgeClient, EventBridgeServiceException, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { mockStrict } from '../../support/strict-mock.js';
import { ENV } from '../../../lambdas/shared/environment.js';
import { boundDetail, PUT_EVENTS_ENTRY_LIMIT, putEventsEntrySize } from '../../../lambdas/shared/event-entry-size.js';
import { emitLifecycleEvent } from '../../../lambdas/shared/events.js';
import { serviceLogger } from '../../../lambdas/shared/service-logger.js';
import { LIFECYCLE_EVENTS, LIFECYCLE_EVENT_SOURCE } from '../../../lib/tenant-record.js';
import { setLifecycleEnv } from './support.js';

/**
 * A PutEvents entry's size as EventBridge counts it ("Calculating Amazon EventBridge PutEvents event entry size": Time 14
 * bytes if present, Source, DetailType, Detail and each Resources entry their UTF-8 bytes; the entry must be less than
 * 256 KB), the lifecycle events bounded to it, and an entry EventBridge did not accept (FailedEntryCount, no exception).
 */
const bus = mockStrict(EventBridgeClient, 'events', EventBridgeServiceException);
const sent = () => bus.commandCalls(PutEventsCommand).map((c) => c.args[0].input.Entries![0]);

beforeEach(() => {
  setLifecycleEnv();
  process.env[ENV.eventBus] = 'tessera-lifecycle';
  bus.reset();
});
afterEach(() => vi.restoreAllMocks());

describe('putEventsEntrySize: AWS\'s rule', () => {
  it('counts Time as 14 bytes, Source, DetailType, Detail and each resource in UTF-8 bytes', () => {
    expect(putEventsEntrySize({ Source: 'tessera.lifecycle', DetailType: 'Tenant Lifecycle Failed', Detail: '{"a":"b"}' })).toBe(17 + 23 + 9);
    expect(putEventsEntrySize({ Time: new Date(), Source: 'a', DetailType: 'b' })).toBe(14 + 2);
    // 失 is 3 bytes, 🔥 4 (2 UTF-16 code units): the count is in bytes, not String#length
    expect(putEventsEntrySize({ Source: 's', DetailType: 'd', Detail: '"失🔥"', Resources: ['arn:aws:s3:::é', 'x'] })).toBe(1 + 1 + (2 + 3 + 4) + (14 + 1) + 1);
  });
});

describe('boundDetail', () => {
  const source = LIFECYCLE_EVENT_SOURCE;
  const type = LIFECYCLE_EVENTS.failed;

  it('gives a detail that fits back as it is', () => {
    const detail = { tenantId: 'acme', reason: 'StackFailed: x' };
    expect(boundDetail(source, type, detail)).toEqual({ detail, cut: { fields: [], before: expect.any(Number), after: expect.any(Number) } });
  });

  it('clips a reason of 300,000 bytes of CJK on a character boundary, saying its length, to an entry under 256 KB', () => {
    const reason = '変更に失敗🔥'.repeat(20_000);
    const { detail, cut } = boundDetail(source, type, { tenantId: 'acme', reason, step: 'Deploy blueprint' });
    const entry = { Source: source, DetailType: type, Detail: JSON.stringify(detail) };
    expect(putEventsEntrySize(entry)).toBeLessThan(PUT_EVENTS_ENTRY_LIMIT);
    expect(putEventsEntrySize(entry)).toBeGreaterThan(PUT_EVENTS_ENTRY_LIMIT - 200);
    expect(cut).toMatchObject({ fields: ['reason'], before: expect.any(Number) });
    expect(cut.before).toBeGreaterThan(PUT_EVENTS_ENTRY_LIMIT);
    expect(detail).toMatchObject({ tenantId: 'acme', step: 'Deploy blueprint' });
    expect(detail.reason).toMatch(new RegExp(` … \\(${reason.length} characters; cut to fit EventBridge's 256 KB entry\\)$`));
    expect(detail.reason).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])|\ufffd/);
    expect(reason.startsWith((detail.reason as string).split(' … (')[0])).toBe(true);
  });

  it('shortens the largest list, adding the count of the rest to <field>Omitted, then clips strings: every field still there', () => {
    const refusedChanges = Array.from({ length: 3_000 }, (_, i) => ({ logicalId: `Table${i}`, type: 'AWS::DynamoDB::Table', action: 'Remove', physicalId: `tessera-acme-${'t'.repeat(100)}-${i}` }));
    const leftBehind = [{ stack: 'tessera-acme', logicalId: 'Logs', type: 'AWS::Logs::LogGroup', status: 'DELETE_SKIPPED' }];
    const { detail, cut } = boundDetail(source, type, { tenantId: 'acme', reason: 'ChangeRefused: x', refusedChanges, leftBehind, leftBehindOmitted: 3 });
    expect(putEventsEntrySize({ Source: source, DetailType: type, Detail: JSON.stringify(detail) })).toBeLessThan(PUT_EVENTS_ENTRY_LIMIT);
    expect(cut.fields).toEqual(['refusedChanges']);
    const kept = detail.refusedChanges as unknown[];
    expect(kept).toEqual(refusedChanges.slice(0, kept.length));
    expect(detail.refusedChangesOmitted).toBe(3_000 - kept.length);
    expect(detail).toMatchObject({ reason: 'ChangeRefused: x', leftBehind, leftBehindOmitted: 3 });
  });

  it('counts JSON escapes: a reason of quotes and newlines still ends under the limit', () => {
    const { detail } = boundDetail(source, type, { tenantId: 'acme', reason: '"\n'.repeat(200_000) });
    expect(putEventsEntrySize({ Source: source, DetailType: type, Detail: JSON.stringify(detail) })).toBeLessThan(PUT_EVENTS_ENTRY_LIMIT);
  });

  it('clips a string once, its marker naming the whole length, when the loop comes back to it (before: the marker was clipped and named its own length)', () => {
    // Many fields each shorter than the marker: once the reason is its marker, the marker is the largest string left.
    const many = Object.fromEntries(Array.from({ length: 6_000 }, (_, i) => [`f${i}`, 'v'.repeat(50)]));
    const { detail, cut } = boundDetail(source, type, { tenantId: 'acme', reason: 'r'.repeat(1_000), ...many });
    expect(detail.reason).toBe(" … (1000 characters; cut to fit EventBridge's 256 KB entry)");
    expect(cut.fields).toEqual(['reason']);
    expect(detail).toMatchObject({ tenantId: 'acme', ...many });
    expect(cut.after).toBeGreaterThanOrEqual(PUT_EVENTS_ENTRY_LIMIT);
  });

  it('cuts an object field (the tenant\'s tags) to its first keys, the count of the rest in <field>Omitted; before, a detail an object filled was given back over the limit', () => {
    const tags = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`key-${String(i).padStart(2, '0')}`, '値'.repeat(2_300)]));
    const { detail, cut } = boundDetail(source, type, { tenantId: 'acme', kind: 'change', reason: 'r'.repeat(100), tags }, 64 * 1024);
    const kept = Object.keys(detail.tags as object);
    expect(kept.length).toBeGreaterThan(0);
    expect(kept).toEqual(Object.keys(tags).slice(0, kept.length));
    expect(detail.tagsOmitted).toBe(40 - kept.length);
    expect(detail).toMatchObject({ tenantId: 'acme', kind: 'change', reason: 'r'.repeat(100) });
    expect(cut.fields).toEqual(['tags']);
    expect(cut.after).toBe(putEventsEntrySize({ Source: source, DetailType: type, Detail: JSON.stringify(detail) }));
    expect(cut.after).toBeLessThan(64 * 1024);
  });

  it('names what the cut fits in a clipped string\'s marker (the owed announcements\' bound)', () => {
    const { detail } = boundDetail(source, type, { tenantId: 'acme', reason: 'r'.repeat(10_000) }, 4_096, 'the tenant record\'s owed announcements');
    expect(detail.reason).toMatch(/ … \(10000 characters; cut to fit the tenant record's owed announcements\)$/);
  });
});

describe('emitLifecycleEvent', () => {
  it('sends a Tenant Lifecycle Failed whose reason passed 256 KB bounded, and warns that it was cut (before: EventBridge refused the entry)', async () => {
    bus.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e-1' }] });
    const warn = vi.spyOn(serviceLogger('tessera-events'), 'warn').mockImplementation(() => undefined);
    await emitLifecycleEvent(LIFECYCLE_EVENTS.failed, { tenantId: 'acme', reason: `StackFailed: ${'失'.repeat(100_000)}`, leftBehind: [] });
    const [entry] = sent();
    expect(putEventsEntrySize(entry)).toBeLessThan(PUT_EVENTS_ENTRY_LIMIT);
    expect(JSON.parse(entry.Detail!)).toMatchObject({ tenantId: 'acme', reason: expect.stringMatching(/^StackFailed: 失+ … \(100013 characters; cut to fit EventBridge's 256 KB entry\)$/), leftBehind: [] });
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('256 KB'), expect.objectContaining({ tenantId: 'acme', detailType: 'Tenant Lifecycle Failed', fields: ['reason'] }));
  });

  it('an entry EventBridge did not accept (FailedEntryCount 1, HTTP 200): logs an error with the tenant, ErrorCode and ErrorMessage, and throws named after the ErrorCode', async () => {
    bus.on(PutEventsCommand).resolves({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'ThrottlingException', ErrorMessage: 'Rate exceeded' }] });
    const error = vi.spyOn(serviceLogger('tessera-events'), 'error').mockImplementation(() => undefined);
    await expect(emitLifecycleEvent(LIFECYCLE_EVENTS.failed, { tenantId: 'acme', reason: 'StackFailed: x' }))
      .rejects.toMatchObject({ name: 'ThrottlingException', message: 'EventBridge rejected "Tenant Lifecycle Failed": ThrottlingException Rate exceeded' });
    expect(error).toHaveBeenCalledWith(expect.stringContaining('not delivered'), expect.objectContaining({
      tenantId: 'acme', detailType: 'Tenant Lifecycle Failed', errorCode: 'ThrottlingException', errorMessage: 'Rate exceeded', entryBytes: expect.any(Number),
    }));
  });
});
