import { Aws, Duration, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { LIFECYCLE_EVENT_SOURCE, PLATFORM_EVENT_BUS_NAME } from '../lib/lifecycle-constants.js';
import { SERVICE_ROLE_PATH } from '../lib/tenant-naming.js';
import { StatementOnlyEventBusPolicy } from './statement-only-event-bus-policy.js';

export interface LifecycleEventBusProps {
  /** Encrypts events at rest. */
  readonly encryptionKey: kms.IKey;
  /**
   * Bus name.
   * @default 'tessera-lifecycle'
   */
  readonly eventBusName?: string;
  /**
   * How long every event is archived for replay.
   * @default Duration.days(365)
   */
  readonly archiveRetention?: Duration;
}


/** The platform's lifecycle event bus, encrypted with the platform key, with a replayable archive. */
export class LifecycleEventBus extends Construct {
  readonly bus: events.EventBus;

  constructor(scope: Construct, id: string, props: LifecycleEventBusProps) {
    super(scope, id);
    this.bus = new events.EventBus(this, 'Bus', {
      eventBusName: props.eventBusName ?? PLATFORM_EVENT_BUS_NAME,
      kmsKey: props.encryptionKey,
      description: 'Tessera tenant lifecycle: requests and state changes',
    });
    // The archive holds the same events as the bus, so the same key: without one EventBridge encrypts
    // it with an AWS owned key (KmsKeyIdentifier ""). The key policy EventBridge's archive encryption
    // page gives: kms:DescribeKey, and kms:GenerateDataKey, kms:Decrypt, kms:ReEncrypt* only with the
    // encryption context kms:EncryptionContext:aws:events:event-bus:arn = this bus
    // (https://docs.aws.amazon.com/eventbridge/latest/userguide/encryption-archives.html).
    // Not through the Archive's kmsKey prop: aws-cdk-lib 2.276's EventBus.archive() drops it, and an
    // Archive given it writes the bus's Fn::GetAtt Arn into the key policy, a cycle (the bus names the
    // key). The bus's ARN is known from its name instead.
    const archive = this.bus.archive('Archive', {
      description: 'Every Tessera lifecycle event, for audit and replay',
      eventPattern: { source: [LIFECYCLE_EVENT_SOURCE] },
      retention: props.archiveRetention ?? Duration.days(365),
    });
    (archive.node.defaultChild as events.CfnArchive).kmsKeyIdentifier = props.encryptionKey.keyArn;
    const busArn = Stack.of(this).formatArn({ service: 'events', resource: 'event-bus', resourceName: props.eventBusName ?? PLATFORM_EVENT_BUS_NAME });
    const eventBridge = new iam.ServicePrincipal('events.amazonaws.com');
    props.encryptionKey.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'EventBridgeDescribesKeyForLifecycleArchive', principals: [eventBridge], actions: ['kms:DescribeKey'], resources: ['*'],
    }));
    props.encryptionKey.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'EventBridgeEncryptsLifecycleArchive', principals: [eventBridge], actions: ['kms:GenerateDataKey', 'kms:Decrypt', 'kms:ReEncrypt*'], resources: ['*'],
      conditions: { StringEquals: { 'kms:EncryptionContext:aws:events:event-bus:arn': busArn } },
    }));
  }
}

export interface OrganizationForwardedEventsProps {
  /** The bus whose policy gains the statement (may live in another stack of the app: only its name is used). */
  readonly eventBus: events.IEventBus;
  /** Statement id, unique on the bus: replacing the resource removes the statement it shares a StatementId with. */
  readonly statementId: string;
  /** The Organizations id whose accounts may forward (`aws:PrincipalOrgID`). */
  readonly organizationId: string;
  /** The only event sources admitted (`events:source`), e.g. `aws.cloudwatch`. */
  readonly sources: readonly string[];
  /** The only detail types admitted (`events:detail-type`). */
  readonly detailTypes: readonly string[];
}

/**
 * One statement of the platform bus's policy: roles on the service-role path
 * (`/tessera/service-role/`, the blueprints' forwarder roles) of any account of the organization may
 * put events of the given sources and detail types on the bus, nothing else. `events:source` and
 * `events:detail-type` are multivalued (one value per entry of a PutEvents call): every entry must
 * match (`ForAllValues`), and the keys must be present (`Null` false; ForAllValues is true of an
 * empty set). An `aws.*` source can come only from the AWS service in the sending account, by a
 * rule there, so the event's `account` is the account it arose in.
 *
 * Rendered as `EventBus.addToResourcePolicy` renders (`StatementId` + `Statement`) through a
 * `CfnEventBusPolicy` that does not answer its deprecated statement-less props: cdk-nag's
 * AwsSolutions-EVB1 reads `principal`, and aws-cdk-lib prints a deprecation notice on each read
 * (the same reason as constructs/fine-tuning.ts's training-events statement).
 */
export class OrganizationForwardedEvents extends Construct {
  readonly policy: events.CfnEventBusPolicy;

  constructor(scope: Construct, id: string, props: OrganizationForwardedEventsProps) {
    super(scope, id);
    const statement = new iam.PolicyStatement({
      sid: props.statementId, principals: [new iam.AnyPrincipal()], actions: ['events:PutEvents'], resources: [props.eventBus.eventBusArn],
      conditions: {
        StringEquals: { 'aws:PrincipalOrgID': props.organizationId },
        'ForAllValues:StringEquals': { 'events:source': [...props.sources], 'events:detail-type': [...props.detailTypes] },
        Null: { 'events:source': 'false', 'events:detail-type': 'false' },
        ArnLike: { 'aws:PrincipalArn': `arn:${Aws.PARTITION}:iam::*:role${SERVICE_ROLE_PATH}*` },
      },
    });
    this.policy = new StatementOnlyEventBusPolicy(this, 'Resource', { eventBusName: props.eventBus.eventBusName, statementId: props.statementId, statement: statement.toJSON() });
  }
}
