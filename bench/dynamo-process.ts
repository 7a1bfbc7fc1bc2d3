/**
 * dynalite in its own process for the benchmark: DynamoDB is a remote service for Lambda@Edge, so
 * its emulator's CPU should not be billed to the edge process being measured. Prints nothing;
 * reports its endpoint over IPC and exits when the parent disconnects.
 */
import { startLocalDynamo } from '../local/dynamo';

if (require.main === module) {
  startLocalDynamo().then(
    (dynamo) => {
      process.send!({ endpoint: dynamo.endpoint });
      process.on('disconnect', () => void dynamo.close().finally(() => process.exit(0)));
    },
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
