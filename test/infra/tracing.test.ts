import { AwsSolutionsChecks } from 'cdk-nag';
import { allStatements, appFunctions, buildStack } from './build-stack';

/** The opt-in `tracing` prop: X-Ray active tracing on every function, and nothing without it. */
describe('when tracing is on', () => {
  const { app, template } = buildStack({ tracing: true });

  it('traces every function actively', () => {
    const functions = Object.values(appFunctions(template));
    expect(functions.length).toBeGreaterThan(10);
    for (const fn of functions) expect(fn.Properties.TracingConfig).toEqual({ Mode: 'Active' });
  });

  it('lets each function send trace data, with the one wildcard X-Ray requires', () => {
    const xray = allStatements(template).filter((s) => JSON.stringify(s.Action).includes('xray:'));
    const roles = Object.keys(appFunctions(template)).length;
    expect(xray).toHaveLength(roles);
    for (const statement of xray) {
      expect(statement).toMatchObject({
        Effect: 'Allow',
        Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'],
        Resource: '*',
      });
    }
  });

  it('reports no unacknowledged cdk-nag finding: the wildcard is acknowledged with its reason', () => {
    const report = new AwsSolutionsChecks(app).validateScope(app);
    expect(report.violations.map((v) => v.ruleName)).toEqual([]);
  });
});

describe('when tracing is off (the default)', () => {
  it('traces nothing and grants no X-Ray action', () => {
    const { template } = buildStack();
    for (const fn of Object.values(appFunctions(template)))
      expect(fn.Properties.TracingConfig).toBeUndefined();
    expect(allStatements(template).filter((s) => JSON.stringify(s.Action).includes('xray:'))).toEqual([]);
  });
});
