import { UsageMeter, usageBetween, WEBSOCKET_MESSAGE_UNIT_BYTES } from '../../local/usage';

describe('UsageMeter', () => {
  it('bills invocations one at a time at their own durations, rounded up to the millisecond', () => {
    const meter = new UsageMeter();
    meter.started('Answer', 0);
    meter.finished('Answer', 12.2);
    meter.started('Answer', 20);
    meter.finished('Answer', 20.4);
    expect(meter.snapshot().functions.Answer).toMatchObject({ invocations: 2, busyMs: 13 + 1 });
  });

  it('counts the overlap of concurrent invocations once (each gets its own container on AWS)', () => {
    const meter = new UsageMeter();
    // Four fan-out segments interleaved on one worker from 0 to 400 ms.
    for (const at of [0, 1, 2, 3]) meter.started('FanOut', at);
    for (const at of [397, 398, 399, 400]) meter.finished('FanOut', at);
    expect(meter.snapshot().functions.FanOut).toMatchObject({ invocations: 4, busyMs: 400 });
  });

  it('meters WebSocket messages in 32 KB units, a small message being one', () => {
    const meter = new UsageMeter();
    meter.messageIn(40);
    meter.messageOut(WEBSOCKET_MESSAGE_UNIT_BYTES);
    meter.messageOut(WEBSOCKET_MESSAGE_UNIT_BYTES + 1);
    expect(meter.snapshot()).toMatchObject({
      messagesIn: 1,
      messageUnitsIn: 1,
      messagesOut: 2,
      messageUnitsOut: 3,
    });
  });

  it('finds the custom metrics of EMF lines, one per dimension set, and ignores other lines', () => {
    const meter = new UsageMeter();
    const emf = {
      _aws: {
        Timestamp: 1,
        CloudWatchMetrics: [
          {
            Namespace: 'cuecast',
            Dimensions: [['service', 'code']],
            Metrics: [{ Name: 'AnswersRefused', Unit: 'Count' }],
          },
        ],
      },
      service: 'Cuecast',
      code: 'QUIZ_CLOSED',
      AnswersRefused: 1,
    };
    meter.logLine('Answer', JSON.stringify(emf));
    meter.logLine('Answer', JSON.stringify({ ...emf, code: 'ALREADY_ANSWERED' }));
    meter.logLine('Answer', JSON.stringify(emf));
    meter.logLine('Answer', '{"level":"INFO","message":"not "CloudWatchMetrics" json');
    const usage = meter.snapshot();
    expect([...usage.metrics].sort()).toEqual([
      'cuecast/AnswersRefused{service=Cuecast,code=ALREADY_ANSWERED}',
      'cuecast/AnswersRefused{service=Cuecast,code=QUIZ_CLOSED}',
    ]);
    expect(usage.functions.Answer.logEvents).toBe(4);
  });

  it('takes the difference of two snapshots, and a snapshot does not move with the meter', () => {
    const meter = new UsageMeter();
    meter.httpRequest();
    meter.capacity(0.5, 0);
    const before = meter.snapshot();
    meter.httpRequest();
    meter.capacity(0, 2);
    meter.started('Ping', 0);
    meter.finished('Ping', 3);
    const after = meter.snapshot();
    expect(before.httpRequests).toBe(1);
    expect(usageBetween(before, after)).toMatchObject({
      httpRequests: 1,
      readUnits: 0,
      writeUnits: 2,
      dynamoDbRequests: 1,
      functions: { Ping: { invocations: 1, busyMs: 3 } },
    });
  });
});
