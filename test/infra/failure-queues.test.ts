import { Match, type Template } from 'aws-cdk-lib/assertions';
import { buildStack } from './build-stack';

/** Where failed asynchronous work ends up (docs/architecture.md, "When delivery fails"). */
let template: Template;

beforeAll(() => {
  ({ template } = buildStack());
});

const queueIds = () => Object.keys(template.findResources('AWS::SQS::Queue'));
const fanOutId = () => {
  const [id] = Object.entries(template.findResources('AWS::Lambda::Function')).find(([, fn]) =>
    String(fn.Properties?.Description).includes('Pushes result'),
  ) ?? [''];
  return id;
};

describe('the failure queues', () => {
  it('are two, encrypted at rest, kept 14 days and kept when the stack is deleted', () => {
    expect(queueIds()).toHaveLength(2);
    template.allResourcesProperties('AWS::SQS::Queue', {
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 14 * 24 * 3600,
    });
    for (const queue of Object.values(template.findResources('AWS::SQS::Queue'))) {
      expect(queue.DeletionPolicy).toBe('Retain');
    }
  });

  it('refuse any request not sent over TLS', () => {
    for (const id of queueIds()) {
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: id }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Deny',
              Action: 'sqs:*',
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            }),
          ]),
        },
      });
    }
  });

  it('take the fan-out after two retries, or when a job is over 30 minutes old', () => {
    const config = template.findResources('AWS::Lambda::EventInvokeConfig');
    expect(Object.values(config)).toHaveLength(2);
    const invokeConfig = Object.values(config).find((c) => c.Properties.FunctionName.Ref === fanOutId());
    expect(invokeConfig?.Properties).toMatchObject({
      FunctionName: { Ref: fanOutId() },
      MaximumRetryAttempts: 2,
      MaximumEventAgeInSeconds: 1800,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [expect.any(String), 'Arn'] } } },
    });
    const destination = invokeConfig?.Properties.DestinationConfig.OnFailure.Destination['Fn::GetAtt'][0];
    expect(queueIds()).toContain(destination);
  });

  it('take a stream-state event the function failed on after two retries', () => {
    const config = Object.values(template.findResources('AWS::Lambda::EventInvokeConfig')).find(
      (c) => c.Properties.FunctionName.Ref !== fanOutId(),
    );
    expect(config?.Properties).toMatchObject({ MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 900 });
    const rule = Object.values(template.findResources('AWS::Events::Rule'))[0];
    // The same queue as the rule's dead-letter queue: one place for the stream's failures.
    expect(config?.Properties.DestinationConfig.OnFailure.Destination).toEqual(
      rule.Properties.Targets[0].DeadLetterConfig.Arn,
    );
  });

  it('take the stream-state events the rule could not deliver after four retries or 15 minutes', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      Targets: [
        Match.objectLike({
          RetryPolicy: { MaximumRetryAttempts: 4, MaximumEventAgeInSeconds: 900 },
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [Match.anyValue(), 'Arn'] } },
        }),
      ],
    });
  });

  it('are named in the stack outputs, for npm run host -- ops failures', () => {
    template.hasOutput('FanOutFailuresQueueUrl', { Value: { Ref: Match.anyValue() } });
    template.hasOutput('StreamStateFailuresQueueUrl', { Value: { Ref: Match.anyValue() } });
  });
});
