/**
 * What the local runtime did, in the units AWS bills: Lambda invocations and their duration, the
 * bytes functions log, WebSocket messages each way (in 32 KB units, as API Gateway meters them),
 * connection time, HTTP API requests, and DynamoDB read and write request units as dynalite
 * computes them (`ReturnConsumedCapacity`). `npm run bench` (P7) reads it between the phases of
 * a show and turns the differences into dollars. Counting costs a few additions per event, so
 * it is always on; only the DynamoDB units need `LocalDynamoDb.meterCapacity`.
 */

/** API Gateway meters WebSocket messages in 32 KB increments. */
export const WEBSOCKET_MESSAGE_UNIT_BYTES = 32 * 1024;

export interface FunctionUsage {
  invocations: number;
  /**
   * Milliseconds the function had at least one invocation in flight, each stretch rounded up to
   * the next millisecond as Lambda rounds a duration. Invocations one at a time count their own
   * durations. Concurrent ones share one worker here but get a container each on AWS, where each
   * takes about its share of the time: their overlap counts once.
   */
  busyMs: number;
  /** Bytes of the lines the function printed (its CloudWatch log events, EMF included). */
  logBytes: number;
  logEvents: number;
}

export interface Usage {
  readonly functions: Record<string, FunctionUsage>;
  /** Requests the HTTP API routed or refused (CORS preflights excluded: they are free). */
  httpRequests: number;
  /** Frames from clients, and their 32 KB units. */
  messagesIn: number;
  messageUnitsIn: number;
  /** Frames to clients (`@connections` posts and the gateway's own error frames), and their units. */
  messagesOut: number;
  messageUnitsOut: number;
  /** Connections accepted, and the milliseconds of those that closed. */
  connections: number;
  connectedMs: number;
  /** Route invocations the WebSocket API logged ($connect, messages, $disconnect). */
  webSocketRouteEvents: number;
  readUnits: number;
  writeUnits: number;
  dynamoDbRequests: number;
  /** Distinct custom metrics seen in EMF lines: namespace, name and dimension values. */
  readonly metrics: Set<string>;
}

export function emptyUsage(): Usage {
  return {
    functions: {},
    httpRequests: 0,
    messagesIn: 0,
    messageUnitsIn: 0,
    messagesOut: 0,
    messageUnitsOut: 0,
    connections: 0,
    connectedMs: 0,
    webSocketRouteEvents: 0,
    readUnits: 0,
    writeUnits: 0,
    dynamoDbRequests: 0,
    metrics: new Set(),
  };
}

const units = (bytes: number) => Math.max(1, Math.ceil(bytes / WEBSOCKET_MESSAGE_UNIT_BYTES));

export class UsageMeter {
  private readonly usage = emptyUsage();
  private readonly inFlight = new Map<string, { count: number; since: number }>();

  /** An invocation starts running. */
  started(logicalId: string, now = performance.now()): void {
    const flight = this.inFlight.get(logicalId) ?? { count: 0, since: now };
    if (flight.count === 0) flight.since = now;
    flight.count++;
    this.inFlight.set(logicalId, flight);
  }

  /** An invocation that {@link started} has finished (or failed, or timed out). */
  finished(logicalId: string, now = performance.now()): void {
    const fn = this.fn(logicalId);
    fn.invocations++;
    const flight = this.inFlight.get(logicalId);
    if (!flight || flight.count === 0) return;
    flight.count--;
    if (flight.count === 0) fn.busyMs += Math.max(1, Math.ceil(now - flight.since));
  }

  logLine(logicalId: string, line: string): void {
    const fn = this.fn(logicalId);
    fn.logBytes += Buffer.byteLength(line, 'utf8');
    fn.logEvents++;
    if (line.includes('"CloudWatchMetrics"')) this.emf(line);
  }

  httpRequest(): void {
    this.usage.httpRequests++;
  }

  messageIn(bytes: number): void {
    this.usage.messagesIn++;
    this.usage.messageUnitsIn += units(bytes);
  }

  messageOut(bytes: number): void {
    this.usage.messagesOut++;
    this.usage.messageUnitsOut += units(bytes);
  }

  connected(): void {
    this.usage.connections++;
  }

  disconnected(ms: number): void {
    this.usage.connectedMs += ms;
  }

  routeEvent(): void {
    this.usage.webSocketRouteEvents++;
  }

  capacity(read: number, write: number): void {
    this.usage.dynamoDbRequests++;
    this.usage.readUnits += read;
    this.usage.writeUnits += write;
  }

  /** A copy of everything counted so far. */
  snapshot(): Usage {
    const copy = { ...this.usage, metrics: new Set(this.usage.metrics), functions: {} as Usage['functions'] };
    for (const [id, fn] of Object.entries(this.usage.functions)) copy.functions[id] = { ...fn };
    return copy;
  }

  private fn(logicalId: string): FunctionUsage {
    let fn = this.usage.functions[logicalId];
    if (!fn) {
      fn = { invocations: 0, busyMs: 0, logBytes: 0, logEvents: 0 };
      this.usage.functions[logicalId] = fn;
    }
    return fn;
  }

  /** Records the metrics an embedded-metric-format line defines (a line that is not EMF is ignored). */
  private emf(line: string): void {
    let record: {
      _aws?: {
        CloudWatchMetrics?: Array<{
          Namespace?: string;
          Dimensions?: string[][];
          Metrics?: Array<{ Name?: string }>;
        }>;
      };
      [key: string]: unknown;
    };
    try {
      record = JSON.parse(line.slice(line.indexOf('{')));
    } catch {
      return;
    }
    for (const directive of record._aws?.CloudWatchMetrics ?? []) {
      const dimensionSets = directive.Dimensions?.length ? directive.Dimensions : [[]];
      for (const set of dimensionSets) {
        const dims = set.map((name) => `${name}=${String(record[name])}`).join(',');
        for (const metric of directive.Metrics ?? []) {
          this.usage.metrics.add(`${directive.Namespace}/${metric.Name}{${dims}}`);
        }
      }
    }
  }
}

/** What happened between two snapshots (`later` minus `earlier`); metrics are those new since. */
export function usageBetween(earlier: Usage, later: Usage): Usage {
  const diff = emptyUsage();
  for (const key of [
    'httpRequests',
    'messagesIn',
    'messageUnitsIn',
    'messagesOut',
    'messageUnitsOut',
    'connections',
    'connectedMs',
    'webSocketRouteEvents',
    'readUnits',
    'writeUnits',
    'dynamoDbRequests',
  ] as const) {
    diff[key] = later[key] - earlier[key];
  }
  for (const [id, fn] of Object.entries(later.functions)) {
    const before = earlier.functions[id] ?? { invocations: 0, busyMs: 0, logBytes: 0, logEvents: 0 };
    diff.functions[id] = {
      invocations: fn.invocations - before.invocations,
      busyMs: fn.busyMs - before.busyMs,
      logBytes: fn.logBytes - before.logBytes,
      logEvents: fn.logEvents - before.logEvents,
    };
  }
  for (const metric of later.metrics) if (!earlier.metrics.has(metric)) diff.metrics.add(metric);
  return diff;
}
