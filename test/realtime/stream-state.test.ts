import { InvokeCommand } from '@aws-sdk/client-lambda';
import { UpdateCommand, type UpdateCommandInput } from '@aws-sdk/lib-dynamodb';
import type { EventBridgeEvent } from 'aws-lambda';
import { handler } from '../../lambda/handlers/stream-state';
import { mockAws } from '../aws-mocks';
import { lambdaContext } from '../handlers/events';
import { TEST_ENV } from '../setup-env';
import { CONTROL_TABLE, conditionFailed } from './ws-events';

const { ddb: ddbMock, lambda: lambdaMock } = mockAws();

const CHANNEL_ARN = TEST_ENV.CUECAST_CHANNEL_ARN;
const OTHER_CHANNEL_ARN = 'arn:aws:ivs:eu-west-1:123456789012:channel/zzzzOTHER999';
const FAN_OUT_FUNCTION = TEST_ENV.CUECAST_FAN_OUT_FUNCTION;
const FAN_OUT_SEGMENTS = Number(TEST_ENV.CUECAST_FAN_OUT_SEGMENTS);
const SHOW_KEY = { TableName: CONTROL_TABLE, Key: { pk: 'show' } } as const;

type EventName = 'Stream Start' | 'Stream End' | 'Session Created' | 'Stream Failure';
interface IvsStreamDetail {
  event_name: EventName;
  channel_name: string;
  stream_id: string;
}

/** An EventBridge `IVS Stream State Change` event as IVS sends it. */
function streamEvent(
  eventName: EventName,
  time: string,
  resources: string[] = [CHANNEL_ARN],
): EventBridgeEvent<'IVS Stream State Change', IvsStreamDetail> {
  return {
    version: '0',
    id: `event-${eventName}-${time}`,
    'detail-type': 'IVS Stream State Change',
    source: 'aws.ivs',
    account: '123456789012',
    time,
    region: 'eu-west-1',
    resources,
    detail: { event_name: eventName, channel_name: 'cuecast-test', stream_id: 'st-1AbCdEfGhIjKlMnOp' },
  };
}

const T1 = '2024-05-01T18:00:00Z';
const T2 = '2024-05-01T18:05:00Z';

const run = (event: unknown) => handler(event, lambdaContext());

/** The fan-out jobs handed over, checking each is an asynchronous invocation of the fan-out function. */
function fanOutJobs(): unknown[] {
  return lambdaMock.commandCalls(InvokeCommand).map((call) => {
    const { FunctionName, InvocationType, Payload } = call.args[0].input;
    expect(FunctionName).toBe(FAN_OUT_FUNCTION);
    expect(InvocationType).toBe('Event');
    return JSON.parse(Buffer.from(Payload as Uint8Array).toString('utf8'));
  });
}

const streamJobs = (state: 'live' | 'offline') =>
  Array.from({ length: FAN_OUT_SEGMENTS }, (_, segment) => ({
    kind: 'stream',
    state,
    segment,
    totalSegments: FAN_OUT_SEGMENTS,
  }));

/**
 * A control table that evaluates the stream update's condition the way DynamoDB would,
 * starting from `initial`, and answers UPDATED_OLD attributes.
 */
function statefulShowItem(initial: { stream?: string; streamChangedAt?: string } = {}) {
  const item = { ...initial };
  ddbMock.on(UpdateCommand, SHOW_KEY).callsFake((input: UpdateCommandInput) => {
    const at = String(input.ExpressionAttributeValues?.[':at']);
    if (item.streamChangedAt !== undefined && !(item.streamChangedAt < at)) throw conditionFailed();
    const old = { ...item };
    item.stream = String(input.ExpressionAttributeValues?.[':stream']);
    item.streamChangedAt = at;
    return { Attributes: Object.keys(old).length > 0 ? old : undefined };
  });
  return item;
}

beforeEach(() => {
  lambdaMock.on(InvokeCommand).resolves({ StatusCode: 202 });
});

describe('when the stream starts', () => {
  it('stores live on the show item, conditioned on the event being newer than the last applied', async () => {
    ddbMock.on(UpdateCommand, SHOW_KEY).resolves({ Attributes: { stream: 'offline', streamChangedAt: T1 } });

    await run(streamEvent('Stream Start', T2));

    const calls = ddbMock.commandCalls(UpdateCommand);
    expect(calls).toHaveLength(1);
    const update = calls[0].args[0].input;
    expect(update.TableName).toBe(CONTROL_TABLE);
    expect(update.Key).toStrictEqual({ pk: 'show' });
    expect(update.UpdateExpression).toMatch(/\bSET\b.*\bstream = :stream\b/);
    expect(update.UpdateExpression).toContain('streamChangedAt = :at');
    expect(update.ConditionExpression).toContain('streamChangedAt < :at');
    expect(update.ExpressionAttributeValues).toStrictEqual({
      ':stream': 'live',
      ':at': new Date(T2).toISOString(),
    });
    expect(update.ReturnValues).toBe('UPDATED_OLD');
  });

  it('pushes the change: one asynchronous fan-out job per segment', async () => {
    ddbMock.on(UpdateCommand, SHOW_KEY).resolves({ Attributes: { stream: 'offline', streamChangedAt: T1 } });

    const outcome = await run(streamEvent('Stream Start', T2));

    expect(outcome).toStrictEqual({ applied: true, changed: true });
    expect(fanOutJobs()).toStrictEqual(streamJobs('live'));
  });

  it('pushes the change when no state was ever stored', async () => {
    ddbMock.on(UpdateCommand, SHOW_KEY).resolves({});

    await run(streamEvent('Stream Start', T2));

    expect(fanOutJobs()).toStrictEqual(streamJobs('live'));
  });

  it('pushes nothing when the stream was already live', async () => {
    ddbMock.on(UpdateCommand, SHOW_KEY).resolves({ Attributes: { stream: 'live', streamChangedAt: T1 } });

    const outcome = await run(streamEvent('Stream Start', T2));

    expect(outcome).toStrictEqual({ applied: true, changed: false });
    expect(lambdaMock.commandCalls(InvokeCommand)).toHaveLength(0);
  });
});

describe('when the stream ends', () => {
  it('stores offline and pushes {state: offline} to every segment', async () => {
    ddbMock.on(UpdateCommand, SHOW_KEY).resolves({ Attributes: { stream: 'live', streamChangedAt: T1 } });

    await run(streamEvent('Stream End', T2));

    expect(ddbMock.commandCalls(UpdateCommand)[0].args[0].input.ExpressionAttributeValues?.[':stream']).toBe(
      'offline',
    );
    expect(fanOutJobs()).toStrictEqual(streamJobs('offline'));
  });
});

describe('when the event is older than the last one applied', () => {
  it('ignores it: the conditional write fails, nothing is pushed and the handler succeeds', async () => {
    ddbMock.on(UpdateCommand, SHOW_KEY).rejects(conditionFailed());

    const outcome = await run(streamEvent('Stream Start', T1));

    expect(outcome).toStrictEqual({ applied: false, changed: false });
    expect(lambdaMock.commandCalls(InvokeCommand)).toHaveLength(0);
  });
});

describe('when events arrive out of order', () => {
  it('keeps the newer End when the older Start arrives after it, and pushes only once', async () => {
    const show = statefulShowItem({ stream: 'live', streamChangedAt: '2024-05-01T17:00:00.000Z' });

    const newerEnd = await run(streamEvent('Stream End', T2));
    const olderStart = await run(streamEvent('Stream Start', T1));

    expect(newerEnd).toStrictEqual({ applied: true, changed: true });
    expect(olderStart).toStrictEqual({ applied: false, changed: false });
    expect(show).toStrictEqual({ stream: 'offline', streamChangedAt: new Date(T2).toISOString() });
    expect(fanOutJobs()).toStrictEqual(streamJobs('offline'));
  });

  it('ignores a duplicate delivery of the same event', async () => {
    const show = statefulShowItem({ stream: 'offline', streamChangedAt: '2024-05-01T17:00:00.000Z' });

    await run(streamEvent('Stream Start', T1));
    const again = await run(streamEvent('Stream Start', T1));

    expect(again).toStrictEqual({ applied: false, changed: false });
    expect(show.stream).toBe('live');
    expect(fanOutJobs()).toStrictEqual(streamJobs('live'));
  });

  it('compares event times in UTC whatever offset they carry', async () => {
    const show = statefulShowItem({ stream: 'offline', streamChangedAt: new Date(T2).toISOString() });

    // 19:04+01:00 is 18:04 UTC, older than T2 (18:05 UTC), though its digits sort after it.
    const outcome = await run(streamEvent('Stream Start', '2024-05-01T19:04:00+01:00'));

    expect(ddbMock.commandCalls(UpdateCommand)[0].args[0].input.ExpressionAttributeValues?.[':at']).toBe(
      '2024-05-01T18:04:00.000Z',
    );
    expect(outcome).toStrictEqual({ applied: false, changed: false });
    expect(show.stream).toBe('offline');
    expect(lambdaMock.commandCalls(InvokeCommand)).toHaveLength(0);
  });

  it('orders times with and without milliseconds correctly', async () => {
    // Stored with milliseconds; a later event whose time has none must still count as newer.
    const show = statefulShowItem({ stream: 'live', streamChangedAt: '2024-05-01T18:04:59.999Z' });

    const outcome = await run(streamEvent('Stream End', '2024-05-01T18:05:00Z'));

    expect(outcome).toStrictEqual({ applied: true, changed: true });
    expect(show.stream).toBe('offline');
  });
});

describe('when the event is for another channel', () => {
  it('is ignored without any write or push', async () => {
    const outcome = await run(streamEvent('Stream Start', T2, [OTHER_CHANNEL_ARN]));

    expect(outcome).toStrictEqual({ applied: false, changed: false });
    expect(ddbMock.calls()).toHaveLength(0);
    expect(lambdaMock.calls()).toHaveLength(0);
  });

  it('is ignored when no resource is given at all', async () => {
    await run(streamEvent('Stream End', T2, []));

    expect(ddbMock.calls()).toHaveLength(0);
    expect(lambdaMock.calls()).toHaveLength(0);
  });
});

describe('when the event does not change the stream state', () => {
  it.each(['Session Created', 'Stream Failure'] as const)(
    'ignores %s without any write or push',
    async (name) => {
      const outcome = await run(streamEvent(name, T2));

      expect(outcome).toStrictEqual({ applied: false, changed: false });
      expect(ddbMock.calls()).toHaveLength(0);
      expect(lambdaMock.calls()).toHaveLength(0);
    },
  );
});

describe('when the fan-out function cannot be invoked', () => {
  it('still records the state and resolves', async () => {
    ddbMock.on(UpdateCommand, SHOW_KEY).resolves({ Attributes: { stream: 'offline' } });
    lambdaMock.on(InvokeCommand).rejects(new Error('simulated Lambda outage'));

    const outcome = await run(streamEvent('Stream Start', T2));

    expect(outcome).toStrictEqual({ applied: true, changed: true });
    expect(lambdaMock.commandCalls(InvokeCommand)).toHaveLength(FAN_OUT_SEGMENTS);
  });
});

describe('when DynamoDB fails unexpectedly', () => {
  it('rejects so EventBridge retries, and pushes nothing', async () => {
    ddbMock.on(UpdateCommand, SHOW_KEY).rejects(new Error('simulated outage'));

    await expect(run(streamEvent('Stream Start', T2))).rejects.toThrow('simulated outage');
    expect(lambdaMock.commandCalls(InvokeCommand)).toHaveLength(0);
  });
});

describe('when the event is not an IVS stream state change', () => {
  it.each([
    [
      'another detail type',
      { ...streamEvent('Stream Start', T2), 'detail-type': 'IVS Recording State Change' },
      /^detail-type: /,
    ],
    ['a time that is not a date', { ...streamEvent('Stream Start', T2), time: 'yesterday' }, /^time: /],
    ['no detail', { ...streamEvent('Stream Start', T2), detail: undefined }, /^detail: /],
  ])('rejects %s without writing', async (_label, event, message) => {
    await expect(run(event)).rejects.toThrow(message);
    expect(ddbMock.calls()).toHaveLength(0);
  });
});
