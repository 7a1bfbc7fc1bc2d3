/**
 * dynalite in its own process for the benchmark: DynamoDB is a remote service for Lambda@Edge, so
 * its emulator's CPU should not be billed to the edge process being measured. Prints nothing;
 * reports its endpoint over IPC, profiles itself when asked (`--cpu-profile`), and exits when the
 * parent disconnects.
 */
import { startLocalDynamo } from '../local/dynamo';
import { answerProfileRequests } from './cpu-profile';

if (require.main === module) {
  startLocalDynamo().then(
    (dynamo) => {
      process.send!({ endpoint: dynamo.endpoint });
      answerProfileRequests();
      process.on('disconnect', () => void dynamo.close().finally(() => process.exit(0)));
    },
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
