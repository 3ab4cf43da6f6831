/**
 * SNS's API for the local runtime, in SNS's query protocol (a form body with `Action`, an XML
 * answer): `ListSubscriptionsByTopic` over the topics {@link LocalSns} serves. An email
 * subscription counts as confirmed locally (docs/local-runtime.md), so each has a real
 * `SubscriptionArn`, never `PendingConfirmation`.
 */
import { randomUUID } from 'node:crypto';
import { localUuid } from './intrinsics';
import type { LocalTopic } from './sns';

const XMLNS = 'http://sns.amazonaws.com/doc/2010-03-31/';

/** An SNS answer: the status and its XML. */
export interface SnsReply {
  readonly status: number;
  readonly xml: string;
}

const escapeXml = (text: string) =>
  text.replace(/[<>&'"]/g, (c) => `&${{ '<': 'lt', '>': 'gt', '&': 'amp', "'": 'apos', '"': 'quot' }[c]};`);

/** SNS's error document (`ErrorResponse`), as the SDK's query protocol parses it. */
export function snsError(status: number, code: string, message: string): SnsReply {
  const type = status < 500 ? 'Sender' : 'Receiver';
  return {
    status,
    xml: `<ErrorResponse xmlns="${XMLNS}"><Error><Type>${type}</Type><Code>${code}</Code><Message>${escapeXml(message)}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`,
  };
}

/** Answers one SNS action of `form` over `topics`, owned by `accountId`. */
export function snsCall(form: URLSearchParams, topics: readonly LocalTopic[], accountId: string): SnsReply {
  const action = form.get('Action') ?? '';
  if (action !== 'ListSubscriptionsByTopic')
    return snsError(400, 'InvalidAction', `The action ${action || '(none)'} is not valid for this endpoint.`);
  const topicArn = form.get('TopicArn');
  if (!topicArn) return snsError(400, 'InvalidParameter', 'Invalid parameter: TopicArn');
  const topic = topics.find((t) => t.arn === topicArn);
  if (!topic) return snsError(404, 'NotFound', 'Topic does not exist');
  const members = topic.subscriptions.map((s) => {
    // Stable across calls, as a subscription's ARN is.
    const arn = `${topic.arn}:${localUuid(`${topic.arn}/${s.protocol}/${s.endpoint}`)}`;
    const fields = {
      TopicArn: topic.arn,
      Protocol: s.protocol,
      SubscriptionArn: arn,
      Owner: accountId,
      Endpoint: s.endpoint,
    };
    return `<member>${Object.entries(fields)
      .map(([name, value]) => `<${name}>${escapeXml(value)}</${name}>`)
      .join('')}</member>`;
  });
  return {
    status: 200,
    xml: `<ListSubscriptionsByTopicResponse xmlns="${XMLNS}"><ListSubscriptionsByTopicResult><Subscriptions>${members.join('')}</Subscriptions></ListSubscriptionsByTopicResult><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></ListSubscriptionsByTopicResponse>`,
  };
}
