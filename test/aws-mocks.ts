import { ApiGatewayManagementApiClient } from '@aws-sdk/client-apigatewaymanagementapi';
import { IvsClient } from '@aws-sdk/client-ivs';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';

/**
 * Stubs every AWS SDK client the handlers use, and resets each before every test of the calling
 * file (its own `beforeEach` runs after, so it starts from clean stubs). Call it once, at the top
 * of a handler test file.
 */
export function mockAws() {
  const mocks = {
    ddb: mockClient(DynamoDBDocumentClient),
    ivs: mockClient(IvsClient),
    lambda: mockClient(LambdaClient),
    mgmt: mockClient(ApiGatewayManagementApiClient),
    secrets: mockClient(SecretsManagerClient),
  };
  beforeEach(() => {
    for (const mock of Object.values(mocks)) mock.reset();
  });
  return mocks;
}
