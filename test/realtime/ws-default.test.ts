import { PostToConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import { handler } from '../../lambda/handlers/ws-default';
import { mockAws } from '../aws-mocks';
import { lambdaContext } from '../handlers/events';
import { errorFrame, goneException, onlyFrameTo, wsEvent } from './ws-events';

const { ddb: ddbMock, mgmt: mgmtMock } = mockAws();

const SENDER = 'ZGVmYXVsdC1zZW5kZXI=';

async function send(body: string | undefined): Promise<Record<string, unknown>> {
  const result = await handler(wsEvent('$default', { connectionId: SENDER, body }), lambdaContext());
  expect(result).toStrictEqual({ statusCode: 200 });
  return onlyFrameTo(mgmtMock, SENDER);
}

beforeEach(() => {
  mgmtMock.on(PostToConnectionCommand).resolves({});
});

describe('when the frame is not JSON', () => {
  it.each([
    ['broken JSON', '{"action":'],
    ['plain text', 'hello'],
    ['an empty frame', ''],
    ['no body at all', undefined],
  ])('replies BAD_REQUEST for %s', async (_label, body) => {
    const frame = await send(body);

    expect(frame).toStrictEqual(errorFrame('BAD_REQUEST'));
    expect(String(frame.message)).toMatch(/^message: /);
  });
});

describe('when the frame is JSON but not an object', () => {
  it.each([
    ['a number', '42'],
    ['a string', '"answer"'],
    ['null', 'null'],
    ['an array', '[{"action":"ping"}]'],
    ['a boolean', 'true'],
  ])('replies BAD_REQUEST for %s', async (_label, body) => {
    expect(await send(body)).toStrictEqual(errorFrame('BAD_REQUEST'));
  });
});

describe('when the frame has no usable action', () => {
  it.each([
    ['an empty object', '{}'],
    ['no action field', '{"quizId":"q1","choiceIndex":0}'],
    ['a numeric action', '{"action":7}'],
    ['a null action', '{"action":null}'],
  ])('replies BAD_REQUEST naming action for %s', async (_label, body) => {
    const frame = await send(body);

    expect(frame).toStrictEqual(errorFrame('BAD_REQUEST'));
    expect(String(frame.message)).toMatch(/^action: /);
  });
});

describe('when the action is unknown', () => {
  it('replies UNKNOWN_ACTION naming the action', async () => {
    const frame = await send('{"action":"dance"}');

    expect(frame).toStrictEqual(errorFrame('UNKNOWN_ACTION'));
    expect(String(frame.message)).toContain('"dance"');
  });

  it('does not echo an overlong action in full', async () => {
    const frame = await send(JSON.stringify({ action: 'x'.repeat(10_000) }));

    expect(frame.code).toBe('UNKNOWN_ACTION');
    expect(JSON.stringify(frame).length).toBeLessThan(1_000);
  });
});

describe('when an answer with a wrong shape reaches $default', () => {
  it('replies BAD_REQUEST naming the field', async () => {
    const frame = await send('{"action":"answer","quizId":"q1","choiceIndex":"one"}');

    expect(frame).toStrictEqual(errorFrame('BAD_REQUEST'));
    expect(String(frame.message)).toMatch(/^choiceIndex: /);
  });
});

describe('when anything reaches $default', () => {
  it('touches no table', async () => {
    await send('{"action":"dance"}');

    expect(ddbMock.calls()).toHaveLength(0);
  });

  it('still answers 200 when the sender is gone', async () => {
    mgmtMock.on(PostToConnectionCommand).rejects(goneException());

    const result = await handler(wsEvent('$default', { connectionId: SENDER, body: 'x' }), lambdaContext());

    expect(result).toStrictEqual({ statusCode: 200 });
    expect(mgmtMock.commandCalls(PostToConnectionCommand)).toHaveLength(1);
  });
});
