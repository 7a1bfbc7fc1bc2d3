import { type AddressInfo } from 'node:net';
import { type Server, createServer } from 'node:http';
import { KEY_DIRECTORY_PATH } from '../../lambda/core/identity/directory-url';
import { KEY_DIRECTORY_MAX_BYTES, fetchKeyDirectory } from '../../lambda/edge/key-directory-fetch';

const KEY = { kty: 'OKP', crv: 'Ed25519', x: 'JrQLj5P_89iXES9-vFgrIy29clF9CC_oPPsw3c5D0bs' };
let server: Server;
let base: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === KEY_DIRECTORY_PATH) {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=900' });
      res.end(JSON.stringify({ keys: [KEY] }));
    } else if (req.url === '/redirect') {
      res.writeHead(302, { location: KEY_DIRECTORY_PATH });
      res.end();
    } else if (req.url === '/huge') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(`{"keys":[],"pad":"${'x'.repeat(KEY_DIRECTORY_MAX_BYTES)}"}`);
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe('fetchKeyDirectory', () => {
  it('reads the directory body and its Cache-Control', async () => {
    expect(await fetchKeyDirectory(`${base}${KEY_DIRECTORY_PATH}`)).toEqual({ body: { keys: [KEY] }, cacheControl: 'max-age=900' });
  });

  it('does not follow redirects', async () => {
    await expect(fetchKeyDirectory(`${base}/redirect`)).rejects.toThrow();
  });

  it('refuses a body over 64 KB', async () => {
    await expect(fetchKeyDirectory(`${base}/huge`)).rejects.toThrow('too large');
  });

  it('refuses a non-200 answer', async () => {
    await expect(fetchKeyDirectory(`${base}/missing`)).rejects.toThrow('404');
  });
});
