import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';

export interface AlarmTopicProps {
  /** The platform key: encrypts the topic; its policy gains CloudWatch's use of it for alarms named `${alarmNamePrefix}*`. */
  readonly encryptionKey: kms.IKey;
  /** Email addresses subscribed to the topic (config `operations.alarmEmails`); each confirms from SNS's email. */
  readonly emails: readonly string[];
  /** Prefix of every alarm that publishes here, e.g. `Tessera` (scopes the key grant's `aws:SourceArn`). */
  readonly alarmNamePrefix: string;
}

/**
 * The SNS topic the platform's alarms publish to, encrypted with the platform key, TLS only, with
 * one email subscription per configured address. CloudWatch cannot publish to a KMS-encrypted topic
 * unless the key policy lets `cloudwatch.amazonaws.com` call kms:Decrypt and kms:GenerateDataKey*
 * ("Enable compatibility between event sources from AWS services and encrypted topics", SNS
 * Developer Guide); the grant here is limited to this account's alarms named `<prefix>*`.
 */
export class AlarmTopic extends Construct {
  readonly topic: sns.Topic;

  constructor(scope: Construct, id: string, props: AlarmTopicProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.topic = new sns.Topic(this, 'Topic', { displayName: 'Tessera platform alarms', masterKey: props.encryptionKey, enforceSSL: true });
    for (const email of props.emails) this.topic.addSubscription(new subscriptions.EmailSubscription(email));
    // The statement lands in the key's policy (the platform stack): it names no resource of this stack.
    props.encryptionKey.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'CloudWatchAlarmsToEncryptedTopic',
      principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
      actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
      resources: ['*'],
      conditions: {
        StringEquals: { 'aws:SourceAccount': stack.account },
        ArnLike: { 'aws:SourceArn': `arn:${stack.partition}:cloudwatch:${stack.region}:${stack.account}:alarm:${props.alarmNamePrefix}*` },
      },
    }));
  }
}
