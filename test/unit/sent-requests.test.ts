/**
 * lambda/edge/sent-requests.ts with the real DynamoDB client and real sockets: a send counts as on
 * this machine until its request is written to the socket, not until it is answered. The endpoint
 * holds each request unanswered until the test lets it go, as a slow far-away table would.
 */
import { DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SentRequests } from '../../lambda/edge/sent-requests';

let server: Server;
const held: Array<{ readonly request: IncomingMessage; readonly response: ServerResponse; readonly body: string }> = [];
let received: () => void = () => undefined;

beforeAll(async () => {
  server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      held.push({ request, response, body });
      received();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

async function client(sent: SentRequests) {
  const made = new DynamoDBClient({
    region: 'us-east-1',
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
    requestHandler: await sent.requestHandler(),
  });
  return { made, followed: sent.follow(made) };
}

const update = () =>
  new UpdateItemCommand({ TableName: 'receipts', Key: { paymentId: { S: 'p' } }, UpdateExpression: 'SET #s = :s', ExpressionAttributeNames: { '#s': 'status' }, ExpressionAttributeValues: { ':s': { S: 'settled' } } });

it('is written once the request is on the socket, while its answer is still awaited', async () => {
  const sent = new SentRequests();
  const { made, followed } = await client(sent);
  const arrived = new Promise<void>((resolve) => (received = resolve));
  let answered = false;
  const answer = followed.send(update()).then(() => (answered = true));
  let written = false;
  const sending = sent.written().then(() => (written = true));
  await sending;
  expect(written).toBe(true);
  await arrived;
  expect(answered).toBe(false);
  const [request] = held.splice(0);
  expect(request.request.headers['x-amz-target']).toBe('DynamoDB_20120810.UpdateItem');
  expect(JSON.parse(request.body)).toMatchObject({ TableName: 'receipts', Key: { paymentId: { S: 'p' } } });
  request.response.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' }).end('{}');
  await answer;
  made.destroy();
});

it('counts a send as unwritten from the call on, before the SDK reaches its socket', async () => {
  const sent = new SentRequests();
  const { made, followed } = await client(sent);
  const arrived = new Promise<void>((resolve) => (received = resolve));
  const answer = followed.send(update());
  let written = false;
  const sending = sent.written().then(() => (written = true));
  // A new client's socket connects in a later turn of the event loop: nothing can be written before.
  for (let turn = 0; turn < 20; turn++) await Promise.resolve();
  expect(written).toBe(false);
  await sending;
  await arrived;
  held.splice(0)[0].response.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' }).end('{}');
  await answer;
  made.destroy();
});

it('has nothing to wait for when no send is under way', async () => {
  await expect(new SentRequests().written()).resolves.toBeUndefined();
});
