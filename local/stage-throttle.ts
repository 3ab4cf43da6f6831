import type { CfnResource } from './assembly';

/** A stage's throttling: requests per second in the steady state, and the bucket's size. */
export interface StageThrottleSettings {
  readonly rateLimit: number;
  readonly burstLimit: number;
}

/** What a stage gets when its template sets only one of the two: API Gateway's account-level defaults. */
const ACCOUNT_DEFAULTS: StageThrottleSettings = { rateLimit: 10_000, burstLimit: 5_000 };

/**
 * The throttling of the `AWS::ApiGatewayV2::Stage` of the API with logical id `apiLogicalId`,
 * from its `DefaultRouteSettings` (`ThrottlingRateLimit`, `ThrottlingBurstLimit`); undefined
 * when the stage sets neither, as then only the account's limits apply, which we do not model.
 */
export function stageThrottleOf(
  resources: Readonly<Record<string, CfnResource>>,
  apiLogicalId: string,
): StageThrottleSettings | undefined {
  const stage = Object.values(resources).find(
    (r) =>
      r.Type === 'AWS::ApiGatewayV2::Stage' &&
      (r.Properties?.ApiId as { Ref?: string })?.Ref === apiLogicalId,
  );
  const settings = stage?.Properties?.DefaultRouteSettings as
    | { ThrottlingRateLimit?: unknown; ThrottlingBurstLimit?: unknown }
    | undefined;
  const rate = settings?.ThrottlingRateLimit;
  const burst = settings?.ThrottlingBurstLimit;
  if (rate === undefined && burst === undefined) return undefined;
  const limits = {
    rateLimit: rate === undefined ? ACCOUNT_DEFAULTS.rateLimit : Number(rate),
    burstLimit: burst === undefined ? ACCOUNT_DEFAULTS.burstLimit : Number(burst),
  };
  if (!(limits.rateLimit >= 0 && limits.burstLimit >= 0)) {
    throw new Error(`the stage of ${apiLogicalId} has throttling limits that are not numbers`);
  }
  return limits;
}

/**
 * API Gateway's stage throttling, locally: one token bucket for the whole stage (every route
 * draws on it), holding at most `burstLimit` tokens, refilled at `rateLimit` per second, and
 * full at start. A request that finds no token is refused before any route runs:
 * - HTTP API: `429` with `{"message":"Too Many Requests"}`.
 * - WebSocket API: a throttled `$connect` refuses the upgrade with `429`; a throttled message is
 *   not passed to its route, and the client gets API Gateway's own error frame
 *   `{"message":"Too Many Requests","connectionId","requestId"}` on a connection that stays open.
 *   `$disconnect` takes no token: the connection is already gone.
 */
export class StageThrottle {
  private tokens: number;
  private refilledAt: number;

  constructor(
    readonly settings: StageThrottleSettings,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.tokens = settings.burstLimit;
    this.refilledAt = this.now();
  }

  /** Takes a token for one request; false means the request is throttled. */
  tryTake(): boolean {
    const now = this.now();
    const refill = ((now - this.refilledAt) / 1000) * this.settings.rateLimit;
    this.tokens = Math.min(this.settings.burstLimit, this.tokens + refill);
    this.refilledAt = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
