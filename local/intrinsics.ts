import { createHash } from 'node:crypto';
import type { CfnResource } from './assembly';

/** Pseudo parameters of the local "account". */
export interface LocalPseudo {
  readonly region: string;
  readonly accountId: string;
  readonly stackName: string;
}

/** What a resource resolves to locally: its `Ref` and its `Fn::GetAtt` attributes. */
export interface LocalIdentity {
  readonly ref: string;
  readonly attributes: Record<string, string>;
}

const NO_VALUE = Symbol('AWS::NoValue');

/**
 * Resolves CloudFormation intrinsics (Ref, Fn::GetAtt, Fn::Join, Fn::Sub, Fn::Select,
 * Fn::Split) against local names, ARNs and endpoints.
 */
export class IntrinsicResolver {
  constructor(
    private readonly pseudo: LocalPseudo,
    private readonly identities: Map<string, LocalIdentity>,
  ) {}

  resolve(value: unknown): unknown {
    const out = this.walk(value);
    return out === NO_VALUE ? undefined : out;
  }

  resolveString(value: unknown): string {
    const out = this.resolve(value);
    if (typeof out !== 'string') throw new Error(`expected a string, got ${JSON.stringify(out)}`);
    return out;
  }

  private walk(value: unknown): unknown {
    if (Array.isArray(value)) return value.map((v) => this.walk(v)).filter((v) => v !== NO_VALUE);
    if (value === null || typeof value !== 'object') return value;
    const entries = Object.entries(value);
    if (entries.length === 1) {
      const [key, arg] = entries[0];
      switch (key) {
        case 'Ref':
          return this.ref(String(arg));
        case 'Fn::GetAtt': {
          const [id, attr] = Array.isArray(arg) ? arg : String(arg).split(/\.(.*)/);
          return this.getAtt(String(id), String(attr));
        }
        case 'Fn::Join': {
          const [separator, list] = arg as [string, unknown[]];
          return (this.walk(list) as unknown[]).map(String).join(separator);
        }
        case 'Fn::Sub':
          return this.sub(arg);
        case 'Fn::Select': {
          const [index, list] = arg as [unknown, unknown];
          return (this.walk(list) as unknown[])[Number(this.walk(index))];
        }
        case 'Fn::Split': {
          const [separator, source] = arg as [string, unknown];
          return String(this.walk(source)).split(separator);
        }
      }
    }
    const out: Record<string, unknown> = {};
    for (const [key, inner] of entries) {
      const resolved = this.walk(inner);
      if (resolved !== NO_VALUE) out[key] = resolved;
    }
    return out;
  }

  private ref(name: string): unknown {
    switch (name) {
      case 'AWS::Region':
        return this.pseudo.region;
      case 'AWS::AccountId':
        return this.pseudo.accountId;
      case 'AWS::Partition':
        return 'aws';
      case 'AWS::URLSuffix':
        return 'amazonaws.com';
      case 'AWS::StackName':
        return this.pseudo.stackName;
      case 'AWS::StackId':
        return `arn:aws:cloudformation:${this.pseudo.region}:${this.pseudo.accountId}:stack/${this.pseudo.stackName}/local`;
      case 'AWS::NoValue':
        return NO_VALUE;
    }
    const identity = this.identities.get(name);
    if (!identity) throw new Error(`Ref to unknown resource ${name}`);
    return identity.ref;
  }

  private getAtt(id: string, attribute: string): string {
    const identity = this.identities.get(id);
    if (!identity) throw new Error(`Fn::GetAtt on unknown resource ${id}`);
    return identity.attributes[attribute] ?? `${identity.ref}.${attribute}`;
  }

  private sub(arg: unknown): string {
    const [template, vars] = Array.isArray(arg)
      ? (arg as [string, Record<string, unknown>])
      : [String(arg), {}];
    return template.replace(/\$\{([^}]+)\}/g, (_, name: string) => {
      if (name in vars) return String(this.walk(vars[name]));
      if (name.includes('.')) {
        const [id, attr] = name.split(/\.(.*)/);
        return this.getAtt(id, attr);
      }
      return String(this.ref(name));
    });
  }
}

/** A stable id of `length` letters and digits, made from a logical id (Cognito's ids look so). */
function localId(logicalId: string, length: number): string {
  const digest = createHash('sha256')
    .update(logicalId)
    .digest('base64')
    .replace(/[^A-Za-z0-9]/g, '');
  return digest.slice(0, length);
}

/** A stable UUID-shaped id made from `seed` (identity pools and their identities look so). */
export function localUuid(seed: string): string {
  const hex = createHash('sha256').update(seed).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** Local names, ARNs and endpoints for every resource of a template. */
export function localIdentities(
  resources: Record<string, CfnResource>,
  pseudo: LocalPseudo,
  endpoints: {
    apiBaseUrl: (logicalId: string, protocol: string) => string;
    ingestHost: string;
    /** Base of the SQS stand-in: a queue's URL is `<sqsBase>/<account>/<name>`. */
    sqsBase: string;
    /** A channel's `PlaybackUrl`, from the id at the end of its ARN. */
    playbackUrl: (channelId: string) => string;
    /** `host:port` of the local pages server, which stands in for the CloudFront distribution. */
    pagesHost: string;
  },
): Map<string, LocalIdentity> {
  const { region, accountId } = pseudo;
  const arn = (service: string, resource: string) => `arn:aws:${service}:${region}:${accountId}:${resource}`;
  const identities = new Map<string, LocalIdentity>();
  for (const [id, resource] of Object.entries(resources)) {
    const props = resource.Properties ?? {};
    const named = (key: string) =>
      typeof props[key] === 'string' ? (props[key] as string) : `${pseudo.stackName}-${id}`;
    switch (resource.Type) {
      case 'AWS::DynamoDB::Table': {
        const name = named('TableName');
        identities.set(id, { ref: name, attributes: { Arn: arn('dynamodb', `table/${name}`) } });
        break;
      }
      case 'AWS::Lambda::Function': {
        const name = named('FunctionName');
        identities.set(id, { ref: name, attributes: { Arn: arn('lambda', `function:${name}`) } });
        break;
      }
      case 'AWS::IVS::Channel': {
        const channelId = id.toLowerCase();
        const channelArn = arn('ivs', `channel/${channelId}`);
        identities.set(id, {
          ref: channelArn,
          attributes: {
            Arn: channelArn,
            IngestEndpoint: endpoints.ingestHost,
            PlaybackUrl: endpoints.playbackUrl(channelId),
          },
        });
        break;
      }
      case 'AWS::SQS::Queue': {
        const name = named('QueueName');
        const url = `${endpoints.sqsBase}/${accountId}/${name}`;
        identities.set(id, {
          ref: url,
          attributes: { Arn: arn('sqs', name), QueueName: name, QueueUrl: url },
        });
        break;
      }
      case 'AWS::IVS::StreamKey': {
        const keyArn = arn('ivs', `stream-key/${id.toLowerCase()}`);
        identities.set(id, { ref: keyArn, attributes: { Arn: keyArn } });
        break;
      }
      case 'AWS::ApiGatewayV2::Api': {
        const apiId = id.toLowerCase().slice(0, 10);
        const base = endpoints.apiBaseUrl(id, String(props.ProtocolType));
        identities.set(id, { ref: apiId, attributes: { ApiId: apiId, ApiEndpoint: base } });
        break;
      }
      case 'AWS::CloudFront::Distribution':
        identities.set(id, { ref: id, attributes: { DomainName: endpoints.pagesHost, Id: id } });
        break;
      case 'AWS::ApiGatewayV2::Stage':
        identities.set(id, { ref: String(props.StageName ?? id), attributes: {} });
        break;
      case 'AWS::Logs::LogGroup': {
        const name = named('LogGroupName');
        identities.set(id, { ref: name, attributes: { Arn: arn('logs', `log-group:${name}:*`) } });
        break;
      }
      case 'AWS::IAM::Role':
        identities.set(id, { ref: id, attributes: { Arn: `arn:aws:iam::${accountId}:role/${id}` } });
        break;
      case 'AWS::SecretsManager::Secret': {
        // A secret's Ref is its ARN, which ends in a random six-character suffix.
        const name = named('Name');
        identities.set(id, { ref: arn('secretsmanager', `secret:${name}-Local0`), attributes: {} });
        break;
      }
      case 'AWS::Cognito::UserPool': {
        const poolId = `${region}_${localId(id, 9)}`;
        const provider = `cognito-idp.${region}.amazonaws.com/${poolId}`;
        identities.set(id, {
          ref: poolId,
          attributes: {
            Arn: arn('cognito-idp', `userpool/${poolId}`),
            ProviderName: provider,
            ProviderURL: `https://${provider}`,
            UserPoolId: poolId,
          },
        });
        break;
      }
      case 'AWS::Cognito::UserPoolClient':
        identities.set(id, { ref: localId(id, 26).toLowerCase(), attributes: {} });
        break;
      case 'AWS::Cognito::UserPoolDomain':
        // The prefix is often built from the account id; the local one is plain.
        identities.set(id, { ref: named('Domain').toLowerCase(), attributes: {} });
        break;
      case 'AWS::Cognito::IdentityPool':
        identities.set(id, { ref: `${region}:${localUuid(id)}`, attributes: { Name: id } });
        break;
      case 'AWS::CloudWatch::Alarm': {
        // CloudFormation names an unnamed alarm `<stack>-<logicalId>-<suffix>`; the suffix is fixed locally.
        const name =
          typeof props.AlarmName === 'string' ? props.AlarmName : `${pseudo.stackName}-${id}-LOCAL`;
        identities.set(id, { ref: name, attributes: { Arn: arn('cloudwatch', `alarm:${name}`) } });
        break;
      }
      case 'AWS::SNS::Topic': {
        const name =
          typeof props.TopicName === 'string' ? props.TopicName : `${pseudo.stackName}-${id}-LOCAL`;
        const topicArn = arn('sns', name);
        identities.set(id, { ref: topicArn, attributes: { TopicArn: topicArn, TopicName: name } });
        break;
      }
      case 'AWS::KMS::Key': {
        const keyId = localUuid(`kms:${id}`);
        identities.set(id, { ref: keyId, attributes: { Arn: arn('kms', `key/${keyId}`), KeyId: keyId } });
        break;
      }
      case 'AWS::Events::Rule':
        identities.set(id, { ref: id, attributes: { Arn: arn('events', `rule/${id}`) } });
        break;
      default:
        identities.set(id, { ref: id, attributes: {} });
    }
  }
  return identities;
}
