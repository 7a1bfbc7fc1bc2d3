import * as http from 'node:http';

export interface RawResponse {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

/**
 * One request with the target sent byte for byte (fetch would normalize `..`, `%2e`, `\` and
 * more) and headers as given, repeated names included (pass an array of [name, value] pairs).
 * `clientAddress` (any 127.x.y.z) makes the request come from another client, as the edge sees it.
 */
export function rawRequest(
  baseUrl: string,
  target: string,
  options: { method?: string; headers?: Record<string, string> | Array<[string, string]>; clientAddress?: string } = {},
): Promise<RawResponse> {
  const base = new URL(baseUrl);
  const pairs = Array.isArray(options.headers) ? options.headers : Object.entries(options.headers ?? {});
  const headers: Array<[string, string]> = [['host', base.host], ...pairs];
  if (!pairs.some(([name]) => name.toLowerCase() === 'user-agent')) headers.push(['user-agent', 'reliability-agent/1.0']);
  return new Promise((resolve, reject) => {
    const request = http.request({ host: base.hostname, port: base.port, method: options.method ?? 'GET', path: target, headers: headers.flat(), agent: false, localAddress: options.clientAddress }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks).toString('utf8') }));
      response.on('error', reject);
    });
    request.on('error', reject);
    request.end();
  });
}

/** The sample origin's paid content, as it appears in a response body. */
export function containsPaidContent(body: string): boolean {
  return body.includes('The full text of the article') || body.includes('agents pay per request');
}
