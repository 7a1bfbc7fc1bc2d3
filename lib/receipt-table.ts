import { Names, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { HANDOFF_KEY_ID, RECEIPT_INDEXES, RECEIPT_PARTITION_KEY } from '../lambda/core/receipt';

/** Props of {@link ReceiptTable}. */
export interface ReceiptTableProps {
  /**
   * Physical table name. It is baked into the Lambda@Edge bundles (they have no environment
   * variables), so it must be a plain string. @default `<stack name>-x402-receipts`
   */
  readonly tableName?: string;
  /**
   * What happens to the table when it leaves the stack.
   * @default RemovalPolicy.RETAIN: receipts are the record of revenue
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * One row per payment (schema in lambda/core/receipt.ts): on-demand, point-in-time recovery,
 * deletion protection, retained when the stack is deleted. GSIs `byPayer` and `byRoute` over
 * `createdAt` serve revenue reports. Grants are per operation, because the edge functions need
 * exactly one write action each.
 */
export class ReceiptTable extends Construct {
  /** The DynamoDB table. */
  readonly table: dynamodb.Table;
  /** Its physical name (a plain string: the edge functions bake it in). */
  readonly tableName: string;
  /** Region of the table (the edge functions call it from wherever they run). */
  readonly region: string;

  constructor(scope: Construct, id: string, props: ReceiptTableProps = {}) {
    super(scope, id);
    const stack = Stack.of(this);
    this.tableName = props.tableName ?? defaultTableName(this);
    if (Token.isUnresolved(this.tableName)) {
      throw new Error(`ReceiptTable ${this.node.path}: tableName must be a plain string (it is baked into the edge bundles), not a token`);
    }
    this.region = stack.region;
    this.table = new dynamodb.Table(this, 'Table', {
      tableName: this.tableName,
      partitionKey: { name: RECEIPT_PARTITION_KEY, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
    for (const index of Object.values(RECEIPT_INDEXES)) {
      this.table.addGlobalSecondaryIndex({
        indexName: index.name,
        partitionKey: { name: index.partitionKey, type: dynamodb.AttributeType.STRING },
        sortKey: { name: index.sortKey, type: dynamodb.AttributeType.STRING },
        projectionType: dynamodb.ProjectionType.ALL,
      });
    }
  }

  /** The table's ARN as seen from `scope`'s stack (a token-free ARN when that stack is elsewhere, e.g. us-east-1 for Lambda@Edge). */
  tableArnFor(scope: Construct): string {
    const here = Stack.of(this);
    const there = Stack.of(scope);
    if (here === there) return this.table.tableArn;
    if (Token.isUnresolved(this.region)) {
      throw new Error(`ReceiptTable ${this.node.path}: the stack needs an explicit region to be granted from another stack`);
    }
    return there.formatArn({ service: 'dynamodb', region: this.region, resource: 'table', resourceName: this.tableName });
  }

  /**
   * What the viewer-request does, all conditional on the row's state: reserve a nonce
   * (`dynamodb:PutItem`), drop the reservation of a payment the facilitator refused
   * (`dynamodb:DeleteItem`), read a payment presented again (`dynamodb:GetItem`) and count its
   * redelivery (`dynamodb:UpdateItem`). With passes it also reads the revocation list
   * (`dynamodb:GetItem`) and adds the uses of passes with a quota to their counter rows
   * (`dynamodb:UpdateItem`, in the background: lambda/core/passes/quota.ts).
   */
  grantReserve(grantee: iam.IGrantable): iam.Grant {
    return this.grantActions(grantee, ['dynamodb:PutItem', 'dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:UpdateItem']);
  }

  /** Conditional status transitions only (`dynamodb:UpdateItem`): settle, fail or release. */
  grantTransition(grantee: iam.IGrantable): iam.Grant {
    return this.grantActions(grantee, ['dynamodb:UpdateItem']);
  }

  /**
   * Reading the one row that holds the key sealing payments in the edge triggers' hand-off
   * (`dynamodb:GetItem`, limited to that partition key by `dynamodb:LeadingKeys`): the
   * origin-facing triggers open with it what the viewer-request sealed.
   */
  grantHandoffKeyRead(grantee: iam.IGrantable): iam.Grant {
    const arn = this.tableArnFor(principalConstruct(grantee) ?? this);
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['dynamodb:GetItem'],
      resourceArns: [arn],
      conditions: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [HANDOFF_KEY_ID] } },
    });
  }

  /**
   * What the origin-request does for a pass sale: write the pass onto its settled receipt row and
   * read it back when the same payment asks for the pass again (`dynamodb:UpdateItem`, `dynamodb:GetItem`).
   */
  grantPassRecords(grantee: iam.IGrantable): iam.Grant {
    return this.grantActions(grantee, ['dynamodb:GetItem', 'dynamodb:UpdateItem']);
  }

  /**
   * What the viewer-request does when a pass holder signs in with x: query the payer's receipts for
   * the passes they bought (`dynamodb:Query` on the `byPayer` index only, not on the table or other indexes).
   */
  grantHeldPassLookup(grantee: iam.IGrantable): iam.Grant {
    const arn = this.tableArnFor(principalConstruct(grantee) ?? this);
    return iam.Grant.addToPrincipal({ grantee, actions: ['dynamodb:Query'], resourceArns: [`${arn}/index/${RECEIPT_INDEXES.byPayer.name}`] });
  }

  /**
   * What the waf engine's settlement ingestion does (lambda/ingest): conditional upserts of
   * settlement rows and of its checkpoint row (`dynamodb:UpdateItem`), and reading the checkpoint
   * (`dynamodb:GetItem`), on the table only.
   */
  grantSettlementIngest(grantee: iam.IGrantable): iam.Grant {
    return this.grantActions(grantee, ['dynamodb:GetItem', 'dynamodb:UpdateItem']);
  }

  /**
   * What the scheduled batch-settlement claims do (lambda/batch-claims): find the channel rows
   * (`dynamodb:Scan`, which has no key condition to limit it by, on the table only), read them
   * (`dynamodb:GetItem`) and mirror chain state, claims and settlements onto them with conditional
   * updates (`dynamodb:UpdateItem`).
   */
  grantBatchClaims(grantee: iam.IGrantable): iam.Grant {
    return this.grantActions(grantee, ['dynamodb:Scan', 'dynamodb:GetItem', 'dynamodb:UpdateItem']);
  }

  /** Reads for reports: GetItem and Query on the table and its indexes. */
  grantReadReceipts(grantee: iam.IGrantable): iam.Grant {
    const arn = this.tableArnFor(principalConstruct(grantee) ?? this);
    return iam.Grant.addToPrincipal({ grantee, actions: ['dynamodb:GetItem', 'dynamodb:Query'], resourceArns: [arn, `${arn}/index/*`] });
  }

  private grantActions(grantee: iam.IGrantable, actions: string[]): iam.Grant {
    const principalScope = principalConstruct(grantee) ?? this;
    return iam.Grant.addToPrincipal({ grantee, actions, resourceArns: [this.tableArnFor(principalScope)] });
  }
}

function principalConstruct(grantee: iam.IGrantable): Construct | undefined {
  const principal = grantee.grantPrincipal as unknown;
  return principal instanceof Construct ? principal : grantee instanceof Construct ? grantee : undefined;
}

function defaultTableName(scope: Construct): string {
  const stackName = Stack.of(scope).stackName;
  const base = Token.isUnresolved(stackName) ? Names.uniqueResourceName(scope, { maxLength: 200 }) : stackName;
  return `${base}-x402-receipts`.replace(/[^a-zA-Z0-9_.-]/g, '-').slice(0, 255);
}
