import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { awsErrorReply, close, guarded, listen, readBody, sendAwsError, sendJson } from './http-util';
import { type LocalSigning, SigV4Verifier, sendSignatureError } from './sigv4';

/** A secret of the template: its ARN and how Secrets Manager would generate its value. */
export interface LocalSecret {
  readonly arn: string;
  readonly name: string;
  readonly generate?: { readonly PasswordLength?: number; readonly ExcludePunctuation?: boolean };
}

const LETTERS_AND_DIGITS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const PUNCTUATION = '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~';

/** A value generated here, at start-up, like `GenerateSecretString`: never in the template, never on disk. */
function generate(spec: LocalSecret['generate'] = {}): string {
  const alphabet = LETTERS_AND_DIGITS + (spec.ExcludePunctuation ? '' : PUNCTUATION);
  const length = spec.PasswordLength ?? 32;
  const bytes = randomBytes(length);
  let out = '';
  // 256 % 62 ≠ 0, so a tiny bias remains; fine for a local stand-in of a random key.
  for (const byte of bytes) out += alphabet[byte % alphabet.length];
  return out;
}

/**
 * Secrets Manager on loopback (`AWS_ENDPOINT_URL_SECRETS_MANAGER`): `GetSecretValue` for the
 * template's secrets, by ARN or name, over the JSON 1.1 protocol the SDK speaks, SigV4-signed
 * for `secretsmanager` with the local credentials.
 */
export class SecretsManagerStandIn {
  private server?: Server;
  private readonly values = new Map<string, { arn: string; name: string; value: string }>();
  private readonly verifier: SigV4Verifier;
  /** GetSecretValue calls answered, for tests. */
  reads = 0;

  constructor(
    private readonly port: number,
    secrets: readonly LocalSecret[],
    signing: LocalSigning,
  ) {
    this.verifier = new SigV4Verifier('secretsmanager', signing);
    for (const secret of secrets) {
      const entry = { arn: secret.arn, name: secret.name, value: generate(secret.generate) };
      this.values.set(secret.arn, entry);
      this.values.set(secret.name, entry);
    }
  }

  /** The ARNs of the secrets served, in template order. */
  secretArns(): string[] {
    return [...new Set([...this.values.values()].map((secret) => secret.arn))];
  }

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.server = createServer(
      guarded(
        (req, res) => this.handle(req, res),
        awsErrorReply('InvalidRequestException', 'InternalServiceError'),
      ),
    );
    await listen(this.server, this.port, 'Secrets Manager');
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const target = String(req.headers['x-amz-target'] ?? '');
    const body = await readBody(req, 64 * 1024);
    const verdict = this.verifier.verify(req, body);
    if (!verdict.ok) return sendSignatureError(res, verdict, 'json');
    if (req.method !== 'POST' || target !== 'secretsmanager.GetSecretValue') {
      return sendAwsError(
        res,
        400,
        'InvalidRequestException',
        `${target || req.method} is not supported locally`,
      );
    }
    let secretId: unknown;
    try {
      secretId = (JSON.parse(body.toString('utf8')) as { SecretId?: unknown }).SecretId;
    } catch {
      return sendAwsError(res, 400, 'InvalidRequestException', 'the body is not JSON');
    }
    const secret = typeof secretId === 'string' ? this.values.get(secretId) : undefined;
    if (!secret) {
      return sendAwsError(
        res,
        400,
        'ResourceNotFoundException',
        "Secrets Manager can't find the specified secret.",
      );
    }
    this.reads++;
    sendJson(
      res,
      200,
      {
        ARN: secret.arn,
        Name: secret.name,
        SecretString: secret.value,
        VersionId: '00000000-0000-0000-0000-000000000001',
        VersionStages: ['AWSCURRENT'],
        CreatedDate: 0,
      },
      { 'content-type': 'application/x-amz-json-1.1' },
    );
  }

  async stop(): Promise<void> {
    if (this.server) await close(this.server);
  }
}
