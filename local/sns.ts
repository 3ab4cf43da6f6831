import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { evaluateResourcePolicy } from './resource-policy';

/** A topic of the template, resolved: its policy, its key's policy, and its subscriptions. */
export interface LocalTopic {
  readonly arn: string;
  readonly name: string;
  /** The topic's access policy (an `AWS::SNS::TopicPolicy`); none means SNS's default one. */
  readonly policy?: { Statement?: unknown };
  /** When the topic is encrypted: the key's ARN and its key policy. */
  readonly key?: { readonly arn: string; readonly policy: { Statement?: unknown } };
  readonly subscriptions: ReadonlyArray<{ readonly protocol: string; readonly endpoint: string }>;
}

type Resolve = (value: unknown) => unknown;
type Resource = { Type: string; Properties?: Record<string, unknown> };

/** Reads the template's topics, their policies, their keys' policies and their subscriptions. */
export function readTopics(resources: Readonly<Record<string, Resource>>, resolve: Resolve): LocalTopic[] {
  const entries = Object.entries(resources);
  return entries
    .filter(([, r]) => r.Type === 'AWS::SNS::Topic')
    .map(([id, topic]) => {
      const arn = String(resolve({ Ref: id }));
      const policy = entries.find(
        ([, r]) =>
          r.Type === 'AWS::SNS::TopicPolicy' &&
          ((resolve(r.Properties?.Topics) as unknown[]) ?? []).includes(arn),
      )?.[1];
      const keyRef = topic.Properties?.KmsMasterKeyId as { 'Fn::GetAtt'?: [string, string] } | undefined;
      const keyId = keyRef?.['Fn::GetAtt']?.[0];
      const key = keyId ? resources[keyId] : undefined;
      return {
        arn,
        name: arn.slice(arn.lastIndexOf(':') + 1),
        policy: policy ? (resolve(policy.Properties?.PolicyDocument) as { Statement?: unknown }) : undefined,
        key:
          keyId && key
            ? {
                arn: String(resolve({ 'Fn::GetAtt': [keyId, 'Arn'] })),
                policy: resolve(key.Properties?.KeyPolicy) as { Statement?: unknown },
              }
            : undefined,
        subscriptions: entries
          .filter(([, r]) => r.Type === 'AWS::SNS::Subscription' && resolve(r.Properties?.TopicArn) === arn)
          .map(([, r]) => ({
            protocol: String(r.Properties?.Protocol),
            endpoint: String(resolve(r.Properties?.Endpoint)),
          })),
      };
    });
}

/** SNS's refusal of a publish, with its error code and message. */
export class SnsError extends Error {
  constructor(
    readonly code: 'AuthorizationError' | 'NotFound' | 'KMSAccessDenied',
    message: string,
  ) {
    super(message);
    this.name = code;
  }
}

/**
 * SNS for the local runtime, as an AWS service publishes to it (CloudWatch's alarm actions): the
 * topic's access policy decides, as SNS decides for a service principal, with the request's
 * `aws:SourceAccount` and `aws:SourceArn`; an encrypted topic also needs the key's policy to let
 * the service use the key. Email subscriptions are delivered as files in `outbox`, one message per
 * file, in SNS's JSON shape with the address it went to. Locally an email subscription counts as
 * confirmed (AWS mails a confirmation link first): docs/local-runtime.md.
 */
export class LocalSns {
  private delivered = 0;

  constructor(
    /** The topics it serves, with their policies, keys and subscriptions. */
    readonly topics: readonly LocalTopic[],
    private readonly outbox: string,
    private readonly log: (line: string) => void = () => undefined,
  ) {}

  /** Publishes as `service` on behalf of `source` (an account and a resource ARN); returns the message id. */
  publishAsService(
    topicArn: string,
    from: { service: string; sourceAccount: string; sourceArn: string },
    subject: string,
    message: string,
  ): string {
    const topic = this.topics.find((t) => t.arn === topicArn);
    if (!topic) throw new SnsError('NotFound', 'Topic does not exist');
    const request = {
      principal: { service: from.service },
      action: 'SNS:Publish',
      resource: topicArn,
      context: {
        'aws:SourceAccount': from.sourceAccount,
        'aws:SourceArn': from.sourceArn,
        'aws:SecureTransport': 'true',
      },
    };
    // No policy: SNS's default one lets only the topic owner's account in, never a service.
    if (evaluateResourcePolicy(topic.policy, request) !== 'Allowed')
      throw new SnsError(
        'AuthorizationError',
        `User: ${from.service} is not authorized to perform: SNS:Publish on resource: ${topicArn}`,
      );
    if (topic.key) {
      const use = { ...request, resource: topic.key.arn };
      const can = (action: string) =>
        evaluateResourcePolicy(topic.key?.policy, { ...use, action }) === 'Allowed';
      if (!can('kms:GenerateDataKey') || !can('kms:Decrypt'))
        throw new SnsError(
          'KMSAccessDenied',
          `${from.service} may not use the key ${topic.key.arn} of ${topicArn}`,
        );
    }
    const messageId = randomUUID();
    const timestamp = new Date().toISOString();
    for (const subscription of topic.subscriptions) {
      if (subscription.protocol !== 'email' && subscription.protocol !== 'email-json') continue;
      fs.mkdirSync(this.outbox, { recursive: true });
      const file = path.join(this.outbox, `${timestamp.replace(/[:.]/g, '-')}-${++this.delivered}.json`);
      const notification = {
        to: subscription.endpoint,
        Type: 'Notification',
        MessageId: messageId,
        TopicArn: topicArn,
        Subject: subject,
        Message: message,
        Timestamp: timestamp,
      };
      fs.writeFileSync(file, `${JSON.stringify(notification, null, 2)}\n`);
      this.log(`sns: ${topic.name}: "${subject}" mailed to ${subscription.endpoint} (${file})`);
    }
    return messageId;
  }
}
