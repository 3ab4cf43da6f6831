/**
 * Fault injection for the local stand-ins (issue 6, R3). A service holds one `FaultPlan`; a
 * test arms rules on it, and each request the service handles asks the plan whether a rule
 * applies. Nothing is armed by default, so the runtime behaves exactly as before.
 */
export interface FaultRule<Request, Action> {
  /** Which requests this rule applies to. @default every request */
  readonly match?: (request: Request) => boolean;
  /** How many matching requests it applies to, then it is spent. @default Infinity */
  readonly times?: number;
  readonly action: Action;
}

/** An armed rule: how often it fired, and a way to disarm it. */
export interface Fault {
  /** Matching requests this rule answered so far. */
  readonly hits: number;
  /** Disarms the rule; requests after this are served normally. */
  clear(): void;
}

interface Armed<Request, Action> {
  readonly rule: FaultRule<Request, Action>;
  left: number;
  hits: number;
}

export class FaultPlan<Request, Action> {
  private armed: Armed<Request, Action>[] = [];

  /** Arms a rule. Rules are tried in the order they were armed; the first that applies wins. */
  inject(rule: FaultRule<Request, Action>): Fault {
    const entry: Armed<Request, Action> = { rule, left: rule.times ?? Number.POSITIVE_INFINITY, hits: 0 };
    this.armed.push(entry);
    return {
      get hits() {
        return entry.hits;
      },
      clear: () => {
        this.armed = this.armed.filter((e) => e !== entry);
      },
    };
  }

  /** True when any rule is armed, so a service can skip work (e.g. parsing a body) otherwise. */
  get active(): boolean {
    return this.armed.length > 0;
  }

  /** The action for this request, if a rule applies; counts the hit and spends one use. */
  take(request: Request): Action | undefined {
    const entry = this.armed.find((e) => e.left > 0 && (e.rule.match?.(request) ?? true));
    if (!entry) return undefined;
    entry.left--;
    entry.hits++;
    if (entry.left <= 0) this.armed = this.armed.filter((e) => e !== entry);
    return entry.rule.action;
  }

  /** Disarms every rule. */
  clear(): void {
    this.armed = [];
  }
}
