import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Agent as HttpAgent, ClientRequest, RequestOptions } from 'node:http';
import type { Agent as HttpsAgent } from 'node:https';

/**
 * Which DynamoDB requests are still on this machine: `x402:settledReceipt=after-release` answers
 * once the receipt write is written to its socket, not answered, so that a container frozen right
 * after the handler returned has still sent it (DynamoDB applies it whether or not we read the
 * answer). No AsyncLocalStorage (it slows every promise): a send is followed by identity, from
 * the command's input (what the middleware sees) to the signed request's headers object (what
 * the agent sees, as http.request passes it on). Where that trail breaks (an SDK that copies
 * them), the send counts as on this machine until it is answered: later, never early.
 */
export class SentRequests {
  /** Sends not written to a socket yet, nor answered. */
  private readonly unsent = new Set<Promise<void>>();
  private readonly byInput = new WeakMap<object, () => void>();
  private readonly byHeaders = new WeakMap<object, () => void>();

  /** `client` whose every send is followed until its request is on the socket (or answered). */
  follow(client: Pick<DynamoDBClient, 'send' | 'middlewareStack'>): Pick<DynamoDBClient, 'send'> {
    client.middlewareStack.add(
      (next) => (args) => {
        // After signing (which copies the request), next to the HTTP handler: these headers reach http.request.
        const written = this.byInput.get(args.input as object);
        const headers = (args as { request?: { headers?: object } }).request?.headers;
        if (written && headers) this.byHeaders.set(headers, written);
        return next(args);
      },
      { step: 'deserialize', priority: 'low', name: 'x402SentRequests' },
    );
    const send = (command: { readonly input: object }) => {
      let written!: () => void;
      const onMachine = new Promise<void>((resolve) => (written = resolve));
      this.unsent.add(onMachine);
      void onMachine.then(() => this.unsent.delete(onMachine));
      this.byInput.set(command.input, written);
      const answered = (client.send as (c: unknown) => Promise<unknown>)(command);
      answered.then(written, written);
      return answered;
    };
    return { send: send as DynamoDBClient['send'] };
  }

  /** The DynamoDB client's `requestHandler` options: the SDK's own keep-alive agents, told which requests were written. */
  async requestHandler(): Promise<{ readonly httpAgent: HttpAgent; readonly httpsAgent: HttpsAgent }> {
    const [http, https] = await Promise.all([import('node:http'), import('node:https')]);
    const byHeaders = this.byHeaders;
    // `addRequest` is where every request of an agent passes (Node's http.request calls it with its options).
    const written = (request: ClientRequest, options: RequestOptions) => {
      const done = options.headers && byHeaders.get(options.headers);
      if (done) request.once('finish', done);
    };
    type Tracked = { addRequest(request: ClientRequest, options: RequestOptions): void };
    const track = <A extends HttpAgent | HttpsAgent>(agent: A): A => {
      const base = agent as unknown as Tracked;
      const addRequest = base.addRequest.bind(agent);
      base.addRequest = (request, options) => {
        written(request, options);
        addRequest(request, options);
      };
      return agent;
    };
    // What the SDK's NodeHttpHandler makes by default.
    return { httpAgent: track(new http.Agent({ keepAlive: true, maxSockets: 50 })), httpsAgent: track(new https.Agent({ keepAlive: true, maxSockets: 50 })) };
  }

  /** Resolves once every send started so far is written to its socket or answered. */
  async written(): Promise<void> {
    await Promise.all([...this.unsent]);
  }
}
