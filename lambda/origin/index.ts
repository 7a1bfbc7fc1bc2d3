/** Origin protection, the origin's side: `import { createOriginSecretCheck } from 'cdk-x402/lambda/origin'`. */
export { createOriginSecretCheck, type NodeMiddleware, type OriginCheckVerdict, type OriginSecretCheck, type OriginSecretCheckOptions } from './check';
export { ORIGIN_SECRET_HEADER } from './secret-header';
