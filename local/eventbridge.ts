import type { CfnResource } from './assembly';
import type { IntrinsicResolver } from './intrinsics';

export interface LocalRule {
  readonly logicalId: string;
  readonly pattern: Record<string, unknown>;
  readonly targetArns: string[];
}

/** The EventBridge rules of the template, resolved to local ARNs. */
export function loadRules(resources: Record<string, CfnResource>, resolver: IntrinsicResolver): LocalRule[] {
  return Object.entries(resources)
    .filter(([, r]) => r.Type === 'AWS::Events::Rule')
    .map(([logicalId, r]) => {
      const props = resolver.resolve(r.Properties) as {
        EventPattern?: Record<string, unknown>;
        State?: string;
        Targets?: Array<{ Arn: string }>;
      };
      return {
        logicalId,
        pattern: props.State === 'DISABLED' ? { never: ['match'] } : (props.EventPattern ?? {}),
        targetArns: (props.Targets ?? []).map((t) => t.Arn),
      };
    });
}

/**
 * The subset of EventBridge pattern matching our rules use: every field of the pattern must
 * be present; a list matches if the event's value (or any element of an event list) is in it;
 * an object matches recursively.
 */
export function matches(pattern: unknown, event: unknown): boolean {
  if (Array.isArray(pattern)) {
    const values = Array.isArray(event) ? event : [event];
    return values.some((value) => pattern.some((candidate) => candidate === value));
  }
  if (pattern !== null && typeof pattern === 'object') {
    if (event === null || typeof event !== 'object') return false;
    return Object.entries(pattern).every(([key, inner]) =>
      matches(inner, (event as Record<string, unknown>)[key]),
    );
  }
  return pattern === event;
}
