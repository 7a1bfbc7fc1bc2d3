import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { RECEIPT_INDEXES, RECEIPT_PARTITION_KEY } from '../../lambda/core/receipt';
import { ReceiptTable } from '../../lib/receipt-table';
import { expectNoSynthWarnings, propertiesOf } from './helpers';

function setup() {
  const app = new App();
  const stack = new Stack(app, 'Shop', { env: { region: 'eu-west-1' } });
  const receipts = new ReceiptTable(stack, 'Receipts');
  const role = new iam.Role(stack, 'Reader', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
  receipts.grantReadReceipts(role);
  return { stack, receipts, template: Template.fromStack(stack) };
}

describe('ReceiptTable', () => {
  const { stack, receipts, template } = setup();

  it('synthesizes without warnings', () => expectNoSynthWarnings(stack));

  it('keys receipts by paymentId with the byPayer and byRoute indexes over createdAt', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: RECEIPT_PARTITION_KEY, KeyType: 'HASH' }],
      GlobalSecondaryIndexes: Object.values(RECEIPT_INDEXES).map((index) => ({
        IndexName: index.name,
        KeySchema: [
          { AttributeName: index.partitionKey, KeyType: 'HASH' },
          { AttributeName: index.sortKey, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      })),
    });
  });

  it('is on-demand, with point-in-time recovery, deletion protection and encryption', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      DeletionProtectionEnabled: true,
      SSESpecification: { SSEEnabled: true },
    });
  });

  it('is retained when the stack is deleted or the table replaced', () => {
    template.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
  });

  it('has a plain-string name and region, as the edge bundles need', () => {
    expect(receipts.tableName).toBe('Shop-x402-receipts');
    expect(receipts.region).toBe('eu-west-1');
    template.hasResourceProperties('AWS::DynamoDB::Table', { TableName: 'Shop-x402-receipts' });
  });

  it('grants reports read access to the table and its indexes only', () => {
    const [policy] = propertiesOf(template, 'AWS::IAM::Policy');
    expect(policy.PolicyDocument.Statement).toEqual([
      {
        Effect: 'Allow',
        Action: ['dynamodb:GetItem', 'dynamodb:Query'],
        Resource: [{ 'Fn::GetAtt': ['ReceiptsTable19969974', 'Arn'] }, { 'Fn::Join': ['', [{ 'Fn::GetAtt': ['ReceiptsTable19969974', 'Arn'] }, '/index/*']] }],
      },
    ]);
  });

  it('builds a token-free ARN for grantees in another stack (e.g. Lambda@Edge in us-east-1)', () => {
    const app = new App();
    const shop = new Stack(app, 'Shop', { env: { region: 'eu-west-1' } });
    const edge = new Stack(app, 'Edge', { env: { region: 'us-east-1' } });
    const table = new ReceiptTable(shop, 'Receipts');
    const role = new iam.Role(edge, 'EdgeRole', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    table.grantReserve(role);
    const [policy] = propertiesOf(Template.fromStack(edge), 'AWS::IAM::Policy');
    expect(policy.PolicyDocument.Statement).toEqual([
      {
        Effect: 'Allow',
        Action: ['dynamodb:PutItem', 'dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:UpdateItem'],
        Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':dynamodb:eu-west-1:', { Ref: 'AWS::AccountId' }, ':table/Shop-x402-receipts']] },
      },
    ]);
  });
});
