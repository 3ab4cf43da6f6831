import * as vm from 'node:vm';

/** A viewer request as a CloudFront Function sees it (the parts cuecast's function reads). */
export interface ViewerRequest {
  readonly uri: string;
  /** `?a=1&b=2` as CloudFront passes it: each name with its `value` (and `multiValue` when repeated). */
  readonly querystring: Record<string, { value: string; multiValue?: Array<{ value: string }> }>;
}

/** What the function decided: the request to pass on (its uri maybe changed), or a response. */
export type ViewerRequestOutcome =
  | { readonly request: ViewerRequest }
  | { readonly response: { statusCode: number; headers: Record<string, string> } };

/**
 * A CloudFront Function (viewer request) from the template, run as CloudFront runs it: its own
 * code, in a context of its own with nothing of Node's, given the event and returning the request
 * or a response. A stand-in for the JavaScript runtime 2.0, which is ECMAScript 2020-compliant
 * plus a few modules; the pages' function uses none of them.
 */
export function viewerRequestFunction(code: string): (request: ViewerRequest) => ViewerRequestOutcome {
  const context = vm.createContext({});
  new vm.Script(code, { filename: 'cloudfront-function.js' }).runInContext(context, { timeout: 1000 });
  type Returned =
    | { statusCode?: unknown; headers?: Record<string, { value: string }>; uri?: unknown }
    | undefined;
  const handler = context.handler as ((event: unknown) => Returned) | undefined;
  if (typeof handler !== 'function') throw new Error('the CloudFront function defines no handler');
  return (request) => {
    const event = {
      version: '1.0',
      context: { eventType: 'viewer-request' },
      viewer: { ip: '127.0.0.1' },
      // A copy the function may change, as CloudFront's event is its own.
      request: {
        method: 'GET',
        uri: request.uri,
        querystring: structuredClone(request.querystring),
        headers: {},
      },
    };
    const result = handler(event);
    if (result && typeof result.statusCode === 'number') {
      const headers: Record<string, string> = {};
      for (const [name, header] of Object.entries(
        (result.headers ?? {}) as Record<string, { value: string }>,
      ))
        headers[name] = header.value;
      return { response: { statusCode: result.statusCode, headers } };
    }
    return { request: { uri: String(result?.uri ?? request.uri), querystring: request.querystring } };
  };
}

/** A URL's query as CloudFront gives it to a function. */
export function cloudFrontQuerystring(search: URLSearchParams): ViewerRequest['querystring'] {
  const out: ViewerRequest['querystring'] = {};
  for (const name of new Set(search.keys())) {
    const values = search.getAll(name);
    out[name] =
      values.length > 1
        ? { value: values[0], multiValue: values.map((value) => ({ value })) }
        : { value: values[0] };
  }
  return out;
}
