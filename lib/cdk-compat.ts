/**
 * What lets the constructs run on every aws-cdk-lib the peer range admits (2.180 and later), where
 * an API they use is newer than that. Each helper says which release brought the newer API.
 */
import * as cdk from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type { IConstruct } from 'constructs';

/**
 * The Node.js 24 Lambda runtime, by name: `Runtime.NODEJS_24_X` is newer than aws-cdk-lib 2.180
 * (Lambda itself supports it whatever the CDK version).
 */
export const NODEJS_24_RUNTIME = new lambda.Runtime('nodejs24.x', lambda.RuntimeFamily.NODEJS, { supportsInlineCode: true });

/** A validation finding (e.g. cdk-nag's) acknowledged with the reason why the construct is right. */
export interface Acknowledgement {
  readonly id: string;
  readonly reason: string;
}

/**
 * Acknowledges findings on a construct through `Validations` (aws-cdk-lib 2.251 and later, which
 * cdk-nag 3 reads). On an older aws-cdk-lib there is no such API and nothing is recorded: cdk-nag 2
 * then reports these findings, each explained by its reason here.
 */
export function acknowledgeFindings(scope: IConstruct, ...acknowledgements: Acknowledgement[]): void {
  const validations = (cdk as unknown as { Validations?: { of(scope: IConstruct): { acknowledge(...acknowledgements: Acknowledgement[]): void } } }).Validations;
  validations?.of(scope).acknowledge(...acknowledgements);
}
