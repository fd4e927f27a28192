import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { LIFECYCLE_EVENT_SOURCE, PLATFORM_EVENT_BUS_NAME } from '../lib/lifecycle-constants.js';

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
    this.bus.archive('Archive', {
      description: 'Every Tessera lifecycle event, for audit and replay',
      eventPattern: { source: [LIFECYCLE_EVENT_SOURCE] },
      retention: props.archiveRetention ?? Duration.days(365),
    });
  }
}
