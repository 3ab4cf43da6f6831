/**
 * The custom metrics (lambda/metric-names.ts) as CloudWatch reads them: embedded metric format
 * lines on stdout, one per flush, in the `cuecast` namespace with the `service` dimension.
 * Metrics are off in the other test files (setup-env.ts); this one turns them on before the
 * handlers load, and reads what they print.
 */
import { PostToConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import { ChannelNotBroadcasting, PutMetadataCommand } from '@aws-sdk/client-ivs';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { METRIC, METRICS_NAMESPACE } from '../../lambda/metric-names';
import { mockAws } from '../aws-mocks';
import { wsEvent } from '../realtime/ws-events';
import { httpEvent, invoke, lambdaContext } from './events';
import { allowPublishing, quizItem, SHOW_ITEM, storedQuiz } from './fixtures';

process.env.POWERTOOLS_METRICS_DISABLED = 'false';
// Loaded after the switch: each handler builds its metrics buffer at import, as at a cold start.
const createQuiz = require('../../lambda/handlers/create-quiz').handler;
const answer = require('../../lambda/handlers/ws-answer').handler;
const connect = require('../../lambda/handlers/ws-connect').handler;
const authorize = require('../../lambda/handlers/ws-authorize').handler;

const { ivs: ivsMock, ddb: ddbMock, mgmt: mgmtMock, secrets: secretsMock } = mockAws();

interface EmfLine {
  _aws: {
    Timestamp: number;
    CloudWatchMetrics: Array<{
      Namespace: string;
      Dimensions: string[][];
      Metrics: Array<{ Name: string; Unit: string }>;
    }>;
  };
  [key: string]: unknown;
}

let printed: string[];
beforeEach(() => {
  printed = [];
  jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    printed.push(String(chunk));
    return true;
  });
  mgmtMock.on(PostToConnectionCommand).resolves({});
});
afterEach(() => jest.restoreAllMocks());

/** Every EMF line printed so far, parsed. */
const emf = (): EmfLine[] =>
  printed
    .flatMap((chunk) => chunk.split('\n'))
    .filter((line) => line.includes('"_aws"'))
    .map((line) => JSON.parse(line));

/** The lines that carry `name`, with the metric's unit and its dimensions. */
function metric(name: string) {
  return emf().flatMap((line) =>
    line._aws.CloudWatchMetrics.flatMap((group) =>
      group.Metrics.filter((m) => m.Name === name).map((m) => ({
        namespace: group.Namespace,
        dimensions: group.Dimensions,
        unit: m.Unit,
        value: line[name],
        service: line.service,
        code: line.code,
        reason: line.reason,
      })),
    ),
  );
}

describe('when a viewer answers', () => {
  const QUIZ = storedQuiz({ quizId: 'quiz_metrics', choices: ['A', 'B'] }, -5);
  const inTime = Date.parse(QUIZ.closesAt) - 10_000;
  const send = (body: object, requestTimeEpoch = inTime) =>
    answer(wsEvent('answer', { connectionId: 'viewer-1', body, requestTimeEpoch }), lambdaContext());

  beforeEach(() => {
    ddbMock.on(GetCommand, quizItem(QUIZ.quizId)).resolves({ Item: QUIZ });
    ddbMock.on(PutCommand).resolves({});
    ddbMock.on(UpdateCommand).resolves({});
  });

  it('counts an accepted answer and times the route, in one EMF line', async () => {
    await send({ action: 'answer', quizId: QUIZ.quizId, choiceIndex: 1 });

    expect(metric(METRIC.answersAccepted)).toEqual([
      expect.objectContaining({
        namespace: METRICS_NAMESPACE,
        dimensions: [['service']],
        unit: 'Count',
        value: 1,
        service: 'Cuecast',
      }),
    ]);
    const [duration] = metric(METRIC.answerDuration);
    expect(duration).toMatchObject({ unit: 'Milliseconds', service: 'Cuecast' });
    expect(duration.value).toEqual(expect.any(Number));
    expect(emf()).toHaveLength(1);
  });

  it('counts a refusal under its error code', async () => {
    await send({ action: 'answer', quizId: QUIZ.quizId, choiceIndex: 1 }, Date.parse(QUIZ.closesAt) + 60_000);

    expect(metric(METRIC.answersRefused)).toEqual([
      expect.objectContaining({ dimensions: [['service', 'code']], code: 'QUIZ_CLOSED', value: 1 }),
    ]);
    expect(metric(METRIC.answersAccepted)).toEqual([]);
  });
});

describe('when the host sends a cue', () => {
  const VALID = { question: 'Largest?', choices: ['Mars', 'Jupiter'], correctIndex: 1 };

  beforeEach(() => {
    allowPublishing(ddbMock, ivsMock);
    ddbMock.on(PutCommand).resolves({});
    ddbMock.on(UpdateCommand, SHOW_ITEM).resolves({});
  });

  it('counts a cue IVS accepted', async () => {
    await invoke(createQuiz, httpEvent('POST /quizzes', { body: VALID }));

    expect(metric(METRIC.cuesSent)).toEqual([expect.objectContaining({ value: 1, unit: 'Count' })]);
    expect(metric(METRIC.cuesRefused)).toEqual([]);
  });

  it('counts a refused cue by reason, and the refused request by code', async () => {
    ivsMock.on(PutMetadataCommand).rejects(new ChannelNotBroadcasting({ message: 'offline', $metadata: {} }));

    await invoke(createQuiz, httpEvent('POST /quizzes', { body: VALID }));

    expect(metric(METRIC.cuesRefused)).toEqual([
      expect.objectContaining({ dimensions: [['service', 'reason']], reason: 'CHANNEL_NOT_BROADCASTING' }),
    ]);
    expect(metric(METRIC.hostRequestsRefused)).toEqual([
      expect.objectContaining({ dimensions: [['service', 'code']], code: 'CHANNEL_NOT_BROADCASTING' }),
    ]);
    expect(metric(METRIC.cuesSent)).toEqual([]);
  });
});

describe('when a viewer connects', () => {
  it('counts the connection opened', async () => {
    ddbMock.on(PutCommand).resolves({});

    await connect(
      wsEvent('$connect', { connectionId: 'viewer-2', requestTimeEpoch: Date.now() }),
      lambdaContext(),
    );

    expect(metric(METRIC.connectionsOpened)).toEqual([expect.objectContaining({ value: 1 })]);
  });
});

describe('when the $connect authorizer refuses a viewer', () => {
  const authorizerEvent = (token?: string) => ({
    type: 'REQUEST',
    methodArn: 'arn:aws:execute-api:eu-west-1:123456789012:abc123/live/$connect',
    headers: {},
    queryStringParameters: token === undefined ? {} : { token },
    requestContext: { identity: { sourceIp: '203.0.113.7' } },
  });

  beforeEach(() => {
    secretsMock.on(GetSecretValueCommand).resolves({ SecretString: 'S'.repeat(64) });
  });

  it('counts the refusal, so the alarm on its errors can leave expected refusals out', async () => {
    for (const token of [undefined, 'not-a-token'])
      await expect(authorize(authorizerEvent(token), lambdaContext())).rejects.toThrow(/^Unauthorized$/);

    expect(metric(METRIC.viewersRefused)).toEqual([
      expect.objectContaining({ dimensions: [['service']], value: 1, unit: 'Count', service: 'Cuecast' }),
      expect.objectContaining({ dimensions: [['service']], value: 1, unit: 'Count', service: 'Cuecast' }),
    ]);
  });
});
