import { ProvisionedThroughputExceededException } from '@aws-sdk/client-dynamodb';
import { ChannelNotBroadcasting, PutMetadataCommand, ThrottlingException } from '@aws-sdk/client-ivs';
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { handler } from '../../lambda/handlers/send-event';
import { mockAws } from '../aws-mocks';
import { expectErrorReply, httpEvent, invoke } from './events';
import { allowPublishing, CHANNEL_ARN, fullRateWindow, GENERATED_ID, RATE_WINDOW } from './fixtures';

const { ivs: ivsMock, ddb: ddbMock } = mockAws();

const sendEvent = (body?: string | object, isBase64Encoded = false) =>
  invoke(handler, httpEvent('POST /events', { body, isBase64Encoded }));

interface SentBody {
  eventId: string;
  bytes: number;
}

function expectNothingSent(): void {
  expect(ivsMock.commandCalls(PutMetadataCommand)).toHaveLength(0);
}

beforeEach(() => {
  allowPublishing(ddbMock, ivsMock);
});

describe('when the host sends a product drop', () => {
  const DROP = {
    title: 'Tour tee',
    price: '€25',
    image: 'https://s.example/t.png',
    link: 'https://s.example/t',
  };

  it('sends the drop with its default seconds filled in', async () => {
    const reply = await sendEvent({ type: 'drop', data: DROP });

    expect(reply.statusCode).toBe(200);
    const cue = JSON.parse(String(ivsMock.commandCalls(PutMetadataCommand)[0].args[0].input.metadata));
    expect(cue).toStrictEqual({
      v: 1,
      type: 'drop',
      eventId: (reply.body as SentBody).eventId,
      data: { ...DROP, seconds: 20 },
    });
  });

  it('refuses a link that is not https with a 400 naming data.link, and sends nothing', async () => {
    const reply = await sendEvent({ type: 'drop', data: { ...DROP, link: 'http://s.example/t' } });

    expect(expectErrorReply(reply, 400, 'BAD_REQUEST')).toMatch(
      /^data\.link: must be an absolute https:\/\/ URL/,
    );
    expectNothingSent();
  });
});

describe('when the host sends a valid custom event', () => {
  const DATA = { title: 'Größte Stadt? 🌍', round: 3, tags: ['geo', null], nested: { ok: true } };

  it('answers 200 with the event id and the UTF-8 byte count of the metadata sent', async () => {
    const reply = await sendEvent({ type: 'poll_banner', data: DATA });

    expect(reply.statusCode).toBe(200);
    const body = reply.body as SentBody;
    expect(Object.keys(body).sort()).toEqual(['bytes', 'eventId']);
    expect(body.eventId).toMatch(GENERATED_ID);

    const calls = ivsMock.commandCalls(PutMetadataCommand);
    expect(calls).toHaveLength(1);
    const metadata = String(calls[0].args[0].input.metadata);
    expect(body.bytes).toBe(Buffer.byteLength(metadata, 'utf8'));
    expect(body.bytes).toBeGreaterThan(metadata.length);
  });

  it('sends one custom cue {v, type, eventId, data} to the channel', async () => {
    const reply = await sendEvent({ type: 'poll_banner', data: DATA });
    const { eventId } = reply.body as SentBody;

    const calls = ivsMock.commandCalls(PutMetadataCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0].args[0].input.channelArn).toBe(CHANNEL_ARN);
    expect(JSON.parse(String(calls[0].args[0].input.metadata))).toStrictEqual({
      v: 1,
      type: 'poll_banner',
      eventId,
      data: DATA,
    });
  });

  it('accepts an empty data object and a 32-character type', async () => {
    const type = `a${'b-_9'.repeat(7)}xyz`;
    expect(type).toHaveLength(32);

    const reply = await sendEvent({ type, data: {} });

    expect(reply.statusCode).toBe(200);
    expect(
      JSON.parse(String(ivsMock.commandCalls(PutMetadataCommand)[0].args[0].input.metadata)),
    ).toMatchObject({
      type,
      data: {},
    });
  });

  it('takes one rate-window slot', async () => {
    await sendEvent({ type: 'banner', data: {} });

    expect(ddbMock.commandCalls(GetCommand, RATE_WINDOW)).toHaveLength(1);
    expect(ddbMock.commandCalls(UpdateCommand, RATE_WINDOW)).toHaveLength(1);
  });

  it('decodes a base64-encoded body', async () => {
    const encoded = Buffer.from(JSON.stringify({ type: 'banner', data: { text: 'héllo' } })).toString(
      'base64',
    );

    const reply = await sendEvent(encoded, true);

    expect(reply.statusCode).toBe(200);
    expect(
      JSON.parse(String(ivsMock.commandCalls(PutMetadataCommand)[0].args[0].input.metadata)).data,
    ).toEqual({
      text: 'héllo',
    });
  });
});

describe('when the type impersonates a platform cue', () => {
  it.each(['question', 'result'])('answers 400 for the reserved type %s and sends nothing', async (type) => {
    const reply = await sendEvent({ type, data: {} });

    expect(expectErrorReply(reply, 400, 'BAD_REQUEST')).toBe('type: is reserved for platform cues');
    expectNothingSent();
  });
});

describe('when the type breaks the pattern', () => {
  it.each<[string, unknown]>([
    ['upper case', 'Banner'],
    ['a leading digit', '1banner'],
    ['a space', 'big banner'],
    ['33 characters', `a${'b'.repeat(32)}`],
    ['the empty string', ''],
    ['a number', 7],
  ])('answers 400 naming type for %s', async (_label, type) => {
    const reply = await sendEvent({ type, data: {} });

    expect(expectErrorReply(reply, 400, 'BAD_REQUEST')).toMatch(/^type: /);
    expectNothingSent();
  });

  it('answers 400 when type is missing', async () => {
    const reply = await sendEvent({ data: {} });

    expect(expectErrorReply(reply, 400, 'BAD_REQUEST')).toBe('type: is required');
  });
});

describe('when data is not a JSON object', () => {
  it.each<[string, unknown]>([
    ['an array', [1, 2]],
    ['a string', 'hello'],
    ['a number', 42],
    ['null', null],
  ])('answers 400 naming data when it is %s', async (_label, data) => {
    const reply = await sendEvent({ type: 'banner', data });

    expect(expectErrorReply(reply, 400, 'BAD_REQUEST')).toBe('data: must be a JSON object');
    expectNothingSent();
  });

  it('answers 400 when data is missing', async () => {
    const reply = await sendEvent({ type: 'banner' });

    expect(expectErrorReply(reply, 400, 'BAD_REQUEST')).toBe('data: is required');
  });
});

describe('when the body is not a usable JSON object', () => {
  it.each<[string, string | undefined, RegExp]>([
    ['missing', undefined, /^body: a JSON object is required$/],
    ['not JSON', 'type=banner', /^body: is not valid JSON$/],
    ['a JSON string', '"banner"', /^body: must be a JSON object$/],
    ['carrying an unknown field', '{"type":"banner","data":{},"extra":1}', /^body: unknown field "extra"$/],
  ])('answers 400 when it is %s', async (_label, body, expected) => {
    const reply = await sendEvent(body);

    expect(expectErrorReply(reply, 400, 'BAD_REQUEST')).toMatch(expected);
    expectNothingSent();
  });
});

describe('when data nests 10,000 levels deep', () => {
  it('answers 400 BAD_REQUEST naming the nesting, not 500, and sends nothing', async () => {
    for (const deep of [
      `${'['.repeat(10_000)}${']'.repeat(10_000)}`,
      `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`,
    ]) {
      const reply = await sendEvent(`{"type":"poll","data":{"a":${deep}}}`);
      expect(expectErrorReply(reply, 400, 'BAD_REQUEST')).toMatch(/^body: nests deeper than 32 levels/);
    }
    expectNothingSent();
  });
});

describe('when the body is sent as text/plain', () => {
  it('answers 415 UNSUPPORTED_MEDIA_TYPE naming the type it got, and sends nothing', async () => {
    const event = httpEvent('POST /events', {
      body: { type: 'poll', data: {} },
      headers: { 'content-type': 'text/plain' },
    });
    const message = expectErrorReply(await invoke(handler, event), 415, 'UNSUPPORTED_MEDIA_TYPE');
    expect(message).toBe('content-type: must be application/json, got "text/plain"');
    expectNothingSent();
  });
});

describe('when the cue would exceed 1024 bytes', () => {
  it('answers 413 PAYLOAD_TOO_LARGE, takes no rate slot and sends nothing', async () => {
    const reply = await sendEvent({ type: 'banner', data: { text: 'é'.repeat(500) } });

    expect(expectErrorReply(reply, 413, 'PAYLOAD_TOO_LARGE')).toMatch(/limit is 1024/);
    expectNothingSent();
    expect(ddbMock.commandCalls(UpdateCommand)).toHaveLength(0);
  });

  // The bytes of the cue around `data.text`, with a 16-character event id.
  const FRAME_BYTES = Buffer.byteLength(
    JSON.stringify({ v: 1, type: 'banner', eventId: 'x'.repeat(16), data: { text: '' } }),
  );

  it('sends a cue of exactly 1024 bytes', async () => {
    const reply = await sendEvent({ type: 'banner', data: { text: 'x'.repeat(1024 - FRAME_BYTES) } });

    expect(reply.statusCode).toBe(200);
    expect((reply.body as SentBody).bytes).toBe(1024);
    expect(ivsMock.commandCalls(PutMetadataCommand)).toHaveLength(1);
  });

  it('refuses a cue of 1025 bytes with 413', async () => {
    const reply = await sendEvent({ type: 'banner', data: { text: 'x'.repeat(1025 - FRAME_BYTES) } });

    expect(expectErrorReply(reply, 413, 'PAYLOAD_TOO_LARGE')).toMatch(/would be 1025 bytes/);
    expectNothingSent();
  });
});

describe('when the channel is offline', () => {
  it('answers 409 CHANNEL_NOT_BROADCASTING', async () => {
    ivsMock.on(PutMetadataCommand).rejects(new ChannelNotBroadcasting({ message: 'x', $metadata: {} }));

    const reply = await sendEvent({ type: 'banner', data: {} });

    expectErrorReply(reply, 409, 'CHANNEL_NOT_BROADCASTING');
    expect(ivsMock.commandCalls(PutMetadataCommand)).toHaveLength(1);
  });
});

describe('when the rate window is full', () => {
  it('answers 429 RATE_LIMITED with Retry-After and never calls IVS', async () => {
    ddbMock.on(GetCommand, RATE_WINDOW).resolves({ Item: fullRateWindow(Date.now()) });

    const reply = await sendEvent({ type: 'banner', data: {} });

    expectErrorReply(reply, 429, 'RATE_LIMITED');
    expect(Number(reply.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expectNothingSent();
  });

  it('keeps a 150 ms safety margin: the oldest of the last five must be 1,150 ms old, not 1,000', async () => {
    ddbMock.on(GetCommand, RATE_WINDOW).resolves({ Item: fullRateWindow(Date.now() - 1050) });
    expectErrorReply(await sendEvent({ type: 'banner', data: {} }), 429, 'RATE_LIMITED');
    expectNothingSent();

    ddbMock.on(GetCommand, RATE_WINDOW).resolves({ Item: fullRateWindow(Date.now() - 1200) });
    expect((await sendEvent({ type: 'banner', data: {} })).statusCode).toBe(200);
    expect(ivsMock.commandCalls(PutMetadataCommand)).toHaveLength(1);
  });
});

describe('when IVS throttles the call', () => {
  it('answers 429 RATE_LIMITED with Retry-After 1', async () => {
    ivsMock.on(PutMetadataCommand).rejects(new ThrottlingException({ message: 'x', $metadata: {} }));

    const reply = await sendEvent({ type: 'banner', data: {} });

    expectErrorReply(reply, 429, 'RATE_LIMITED');
    expect(reply.headers['retry-after']).toBe('1');
  });
});

describe('when DynamoDB throttles the rate window past the SDK retries', () => {
  it('answers 429 RATE_LIMITED with Retry-After 1 and sends nothing', async () => {
    ddbMock
      .on(GetCommand, RATE_WINDOW)
      .rejects(new ProvisionedThroughputExceededException({ message: 'x', $metadata: {} }));

    const reply = await sendEvent({ type: 'banner', data: {} });

    expect(expectErrorReply(reply, 429, 'RATE_LIMITED')).toMatch(/throttling/);
    expect(reply.headers['retry-after']).toBe('1');
    expect(ivsMock.commandCalls(PutMetadataCommand)).toHaveLength(0);
  });
});

describe('when IVS fails in an unexpected way', () => {
  it('answers 500 INTERNAL_ERROR in the error envelope', async () => {
    ivsMock.on(PutMetadataCommand).rejects(new Error('socket hang up'));

    const reply = await sendEvent({ type: 'banner', data: {} });

    expect(expectErrorReply(reply, 500, 'INTERNAL_ERROR')).not.toContain('socket');
  });
});

describe('when a request is refused', () => {
  it('logs the refusal with its code and reason, in keys the logger keeps', async () => {
    const { logger } = await import('../../lambda/clients/logger');
    const lines: string[] = [];
    const write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    logger.setLogLevel('INFO');
    try {
      await sendEvent({ type: 'question', data: {} });
    } finally {
      logger.setLogLevel('SILENT');
      write.mockRestore();
    }
    const refusal = lines
      .map((line) => JSON.parse(line))
      .find((entry) => entry.message === 'request refused');
    expect(refusal).toMatchObject({ code: 'BAD_REQUEST', reason: expect.stringMatching(/^type: /) });
    // Powertools drops a reserved key such as `message` with a warning: none was passed.
    expect(warn.mock.calls.flat().join(' ')).not.toMatch(/reserved key/);
    warn.mockRestore();
  });
});
