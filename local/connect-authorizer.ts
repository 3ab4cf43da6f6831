import type { LambdaHost, LocalFunction } from './lambda-host';

/** A WebSocket Lambda REQUEST authorizer as the template declares it. */
export interface ConnectAuthorizer {
  readonly fn: LocalFunction;
  /** e.g. `route.request.querystring.token`: each must be present, or API Gateway answers 401 itself. */
  readonly identitySource: readonly string[];
  /** `arn:aws:execute-api:{region}:{account}:{apiId}/{stage}/$connect`, handed to the authorizer. */
  readonly methodArn: string;
}

/** The authorizer's verdict: the status of the upgrade, and on Allow what routes see as `requestContext.authorizer`. */
export interface ConnectVerdict {
  readonly status: number;
  /** Why, for the log. */
  readonly detail: string;
  readonly context?: Record<string, unknown>;
}

/** API Gateway's `multiValueHeaders` for a request whose headers are single-valued. */
export const multiValueHeaders = (headers: Record<string, string>) =>
  Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, [value]]));

/**
 * Runs the `$connect` authorizer as API Gateway does: a missing identity source is 401 without
 * invoking anything; an `Unauthorized` error is 401; a Deny (or no Allow) is 403; any other
 * failure is 500. On Allow, `principalId` and the context ride on every event of the connection.
 */
export async function authorizeConnect(
  host: LambdaHost,
  authorizer: ConnectAuthorizer,
  request: { readonly url: URL; readonly headers: Record<string, string>; readonly requestContext: object },
): Promise<ConnectVerdict> {
  const { url, headers } = request;
  const present = authorizer.identitySource.every((source) => {
    const query = /^route\.request\.querystring\.(.+)$/.exec(source);
    if (query) return (url.searchParams.get(query[1]) ?? '') !== '';
    const header = /^route\.request\.header\.(.+)$/i.exec(source);
    if (header) return (headers[header[1].toLowerCase()] ?? '') !== '';
    return false;
  });
  if (!present) return { status: 401, detail: 'no identity source' };
  const outcome = await host.invoke(authorizer.fn, {
    type: 'REQUEST',
    methodArn: authorizer.methodArn,
    headers,
    multiValueHeaders: multiValueHeaders(headers),
    queryStringParameters: Object.fromEntries(url.searchParams),
    stageVariables: {},
    requestContext: request.requestContext,
  });
  const detail = `authorizer ${authorizer.fn.logicalId} ${outcome.ms}ms`;
  if (!outcome.ok) return { status: outcome.error?.message === 'Unauthorized' ? 401 : 500, detail };
  const result = (outcome.result ?? {}) as {
    principalId?: string;
    policyDocument?: { Statement?: Array<{ Effect?: string; Resource?: unknown }> };
    context?: Record<string, unknown>;
  };
  const statements = result.policyDocument?.Statement ?? [];
  const allowed =
    statements.some((st) => st.Effect === 'Allow') && !statements.some((st) => st.Effect === 'Deny');
  if (!allowed) return { status: 403, detail };
  return { status: 200, detail, context: { principalId: result.principalId, ...result.context } };
}
