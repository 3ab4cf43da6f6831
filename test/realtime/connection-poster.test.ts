/**
 * `ConnectionPoster` (`lambda/services/connection-poster.ts`), driven through the fan-out
 * handler: a post that fails for another reason than Gone is tried for POST_ROUNDS and then
 * counted as failed, a passing 500 is posted again, and a client error such as 403 is not.
 */
import { ForbiddenException, PostToConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import { DeleteCommand } from '@aws-sdk/lib-dynamodb';
import { POST_ROUNDS } from '../../lambda/services/connection-poster';
import { BROKEN, mockFanOut, RESULT_FRAME, resultJob, run } from './fan-out-fixtures';
import { framesTo } from './ws-events';

const { ddbMock, mgmtMock } = mockFanOut();

describe('when a post keeps failing for another reason than Gone', () => {
  it('counts a non-Gone failure as failed, keeps the record and still reaches the others', async () => {
    const report = await run(resultJob());

    expect(report.failed).toBe(1);
    // A throttled post is tried again once (POST_ROUNDS), then given up: bounded, never fatal.
    expect(mgmtMock.commandCalls(PostToConnectionCommand, { ConnectionId: BROKEN })).toHaveLength(
      POST_ROUNDS,
    );
    expect(ddbMock.commandCalls(DeleteCommand, { Key: { connectionId: BROKEN } })).toHaveLength(0);
    expect(framesTo(mgmtMock, 'legacy')).toHaveLength(2);
  });
});

describe('when a 500 from the @connections API passes', () => {
  it('posts again and delivers', async () => {
    mgmtMock
      .on(PostToConnectionCommand, { ConnectionId: 'carol' })
      .rejectsOnce(
        Object.assign(new Error('blip'), {
          name: 'InternalServerErrorException',
          $metadata: { httpStatusCode: 500 },
        }),
      )
      .resolves({});

    const report = await run(resultJob());

    expect(mgmtMock.commandCalls(PostToConnectionCommand, { ConnectionId: 'carol' })).toHaveLength(2);
    // Both attempts carried the result; the second one went through, so carol counts as delivered.
    expect(framesTo(mgmtMock, 'carol')).toStrictEqual([RESULT_FRAME, RESULT_FRAME]);
    expect(report).toStrictEqual({ connections: 7, delivered: 7, gone: 2, failed: 1 });
  });

  it('does not post again after a client error such as 403', async () => {
    mgmtMock
      .on(PostToConnectionCommand, { ConnectionId: 'carol' })
      .rejects(new ForbiddenException({ message: 'no', $metadata: { httpStatusCode: 403 } }));

    const report = await run(resultJob());

    expect(mgmtMock.commandCalls(PostToConnectionCommand, { ConnectionId: 'carol' })).toHaveLength(1);
    expect(report.failed).toBe(2);
  });
});
