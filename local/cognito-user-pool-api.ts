import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LocalHostUser } from './cognito';
import { jsonObject, readBody, sendJson } from './http-util';
import { localUuid } from './intrinsics';
import { type LocalSigning, SigV4Verifier, sendSignatureError } from './sigv4';

const TARGET = 'AWSCognitoIdentityProviderService.';
/** When the boot made its host, as `UserCreateDate` reports it (epoch seconds). */
const CREATED = Math.floor(Date.now() / 1000);

/**
 * The user pool's admin API (Cognito Identity Provider, AWS JSON 1.1, `X-Amz-Target:
 * AWSCognitoIdentityProviderService.*`, signed for `cognito-idp`) as far as the host CLI reads
 * it: `ListUsers` answers the one host of the boot, confirmed.
 */
export class UserPoolApi {
  private readonly verifier: SigV4Verifier;

  constructor(
    private readonly userPoolId: string,
    private readonly host: LocalHostUser,
    signing: LocalSigning,
    private readonly log: (line: string) => void,
  ) {
    this.verifier = new SigV4Verifier('cognito-idp', signing);
  }

  /** Whether `req` is a user pool call (the Cognito port also serves the identity pool's). */
  static handles(req: IncomingMessage): boolean {
    return req.method === 'POST' && String(req.headers['x-amz-target'] ?? '').startsWith(TARGET);
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req, 64 * 1024);
    const verdict = this.verifier.verify(req, body);
    if (!verdict.ok) return sendSignatureError(res, verdict, 'json');
    const operation = String(req.headers['x-amz-target']).slice(TARGET.length);
    const input = jsonObject(body);
    if (!input) return this.fail(res, 'SerializationException', 'The body is not a JSON object');
    if (operation !== 'ListUsers')
      return this.fail(res, 'UnknownOperationException', `${operation} is not served locally`);
    if (input.UserPoolId !== this.userPoolId)
      return this.fail(
        res,
        'ResourceNotFoundException',
        `User pool ${String(input.UserPoolId)} does not exist.`,
      );
    this.log(`[cognito] ListUsers -> 1 user`);
    const email = this.host.username;
    sendJson(
      res,
      200,
      {
        Users: [
          {
            Username: email,
            Attributes: [
              { Name: 'email', Value: email },
              { Name: 'email_verified', Value: 'true' },
              { Name: 'sub', Value: localUuid(`${this.userPoolId}/${email}`) },
            ],
            UserCreateDate: CREATED,
            UserLastModifiedDate: CREATED,
            Enabled: true,
            UserStatus: 'CONFIRMED',
          },
        ],
      },
      { 'content-type': 'application/x-amz-json-1.1' },
    );
  }

  private fail(res: ServerResponse, type: string, message: string): void {
    sendJson(res, 400, { __type: type, message }, { 'x-amzn-errortype': type });
  }
}
