import { ArnFormat, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';

/**
 * API Gateway's account-level CloudWatch Logs role, which a WebSocket stage with access logs
 * needs: without it, creating the stage fails ("CloudWatch Logs role ARN must be set in account
 * settings to enable logging") in any account and region where nobody ever set it.
 *
 * The setting is account-wide, per region: every REST and WebSocket API there logs through the
 * role it names, and setting it replaces the role that was there. So both the role and the
 * setting are retained when the stack is deleted (deleting the role would break every other
 * API's logging), and a stack in an account that already has a role can leave it alone
 * (`CuecastStackProps.apiGatewayCloudWatchRole: false`).
 */
export class ApiGatewayCloudWatchRole extends Construct {
  readonly role: iam.Role;
  readonly account: apigateway.CfnAccount;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    // The actions of AWS's AmazonAPIGatewayPushToCloudWatchLogs, on the log groups of this
    // account and region rather than on `*`; inline, so the retained role keeps them.
    const logGroups = Stack.of(this).formatArn({
      service: 'logs',
      resource: 'log-group',
      resourceName: '*',
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('apigateway.amazonaws.com'),
      description: "API Gateway's account-level role for writing CloudWatch Logs (retained)",
      inlinePolicies: {
        PushToCloudWatchLogs: new iam.PolicyDocument({
          statements: [
            new iam.PolicyStatement({
              actions: [
                'logs:CreateLogGroup',
                'logs:CreateLogStream',
                'logs:DescribeLogGroups',
                'logs:DescribeLogStreams',
                'logs:PutLogEvents',
                'logs:GetLogEvents',
                'logs:FilterLogEvents',
              ],
              resources: [logGroups],
            }),
          ],
        }),
      },
    });
    this.role.applyRemovalPolicy(RemovalPolicy.RETAIN);
    this.account = new apigateway.CfnAccount(this, 'Account', { cloudWatchRoleArn: this.role.roleArn });
    this.account.applyRemovalPolicy(RemovalPolicy.RETAIN);
    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:*]',
      reason:
        "An account-level setting: API Gateway writes every REST and WebSocket API's logs in this account and region through this role, so it needs their log groups, which no stack can list.",
    });
  }
}
