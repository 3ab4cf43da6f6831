import * as path from 'node:path';
import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';

/**
 * Context key a stack sets (before creating any function) to turn X-Ray active tracing on for
 * every AppFunction under it: `CuecastStack`'s `tracing` prop.
 */
export const ACTIVE_TRACING_CONTEXT = 'cuecast:activeTracing';

/** Stands in for the SDK's default credential chain inside bundles (see the module's comment). */
const ENV_CREDENTIALS = path.join(__dirname, '..', '..', 'lambda', 'clients', 'env-credentials.ts');

export interface AppFunctionProps {
  /** Path of the handler's TypeScript file; it must export `handler`. */
  readonly entry: string;
  /** Shown in the Lambda console. @default - none */
  readonly description?: string;
  /** @default Duration.seconds(10) */
  readonly timeout?: Duration;
  /** @default 256 */
  readonly memorySize?: number;
  /** Extra environment variables; bind methods on other constructs add their own. @default - none */
  readonly environment?: Record<string, string>;
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * A `NodejsFunction` with the house defaults in one place: Node 24 on ARM, JSON logs into a
 * log group of its own with retention, a role that can write only to that log group, and
 * a minified ESM bundle built by the local esbuild (never Docker).
 */
export class AppFunction extends NodejsFunction {
  /** The function's own log group. */
  readonly functionLogGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: AppFunctionProps) {
    // Created before the function so no AWS managed policy is attached: the role gets only
    // logs:CreateLogStream/PutLogEvents on this one log group.
    const logGroup = new logs.LogGroup(scope, `${id}Logs`, {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const role = new iam.Role(scope, `${id}Role`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of ${id}`,
    });
    logGroup.grantWrite(role);

    super(scope, id, {
      entry: props.entry,
      handler: 'handler',
      description: props.description,
      runtime: lambda.Runtime.NODEJS_24_X,
      // Graviton: cheaper per ms, and our code is plain JavaScript.
      architecture: lambda.Architecture.ARM_64,
      timeout: props.timeout ?? Duration.seconds(10),
      memorySize: props.memorySize ?? 256,
      role,
      logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      // Lambda then adds to the role the X-Ray statement tracing needs.
      tracing: tracingOn(scope) ? lambda.Tracing.ACTIVE : undefined,
      environment: {
        // Stack traces point at our TypeScript, not the minified bundle.
        NODE_OPTIONS: '--enable-source-maps',
        // The `service` dimension of the custom metrics: one stack's metrics apart from another's.
        POWERTOOLS_SERVICE_NAME: Stack.of(scope).stackName,
        POWERTOOLS_LOG_LEVEL: 'INFO',
        ...props.environment,
      },
      bundling: {
        // ESM lets esbuild tree-shake the SDK v3 modules down to the commands we use.
        format: OutputFormat.ESM,
        mainFields: ['module', 'main'],
        // Bundle the pinned SDK rather than trust the runtime's copy: same code locally and on AWS.
        externalModules: [],
        // Smaller bundle, less to load at cold start.
        minify: true,
        // Paired with --enable-source-maps; sources left out to keep the asset small.
        sourceMap: true,
        sourcesContent: false,
        // Some CommonJS dependencies call require(); ESM output has none, so give them one.
        banner: "import{createRequire as __cr}from'node:module';const require=__cr(import.meta.url);",
        // There is no Docker on our machines; fail fast instead of trying it.
        forceDockerBundling: false,
        // Lambda's credentials are always in the environment: drop the SDK's default chain.
        esbuildArgs: { '--alias:@aws-sdk/credential-provider-node': ENV_CREDENTIALS },
      },
    });
    this.functionLogGroup = logGroup;
    if (tracingOn(scope)) {
      Validations.of(role).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'X-Ray PutTraceSegments and PutTelemetryRecords support no resource-level permissions: AWS documents "*" as their only resource. Lambda adds that statement itself for active tracing, which exists only with the opt-in tracing prop.',
      });
    }
  }
}

const tracingOn = (scope: Construct): boolean => scope.node.tryGetContext(ACTIVE_TRACING_CONTEXT) === true;
