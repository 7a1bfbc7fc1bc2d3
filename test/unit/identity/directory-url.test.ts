import { KEY_DIRECTORY_PATH, keyDirectoryUrl } from '../../../lambda/core/identity/directory-url';

describe('keyDirectoryUrl', () => {
  it('maps a quoted https Signature-Agent to its well-known key directory', () => {
    expect(keyDirectoryUrl('"https://agent.example.com"')).toEqual({
      ok: true,
      agent: 'agent.example.com',
      url: `https://agent.example.com${KEY_DIRECTORY_PATH}`,
    });
  });

  it('accepts a bare host name as https', () => {
    expect(keyDirectoryUrl('agent.example.com')).toMatchObject({ ok: true, url: `https://agent.example.com${KEY_DIRECTORY_PATH}` });
  });

  it('refuses plain http for an agent on a public host', () => {
    expect(keyDirectoryUrl('"http://agent.example.com"')).toEqual({ ok: false, reason: 'not_https' });
  });

  it.each(['https://127.0.0.1', 'https://10.0.0.8', 'https://[::1]', 'https://localhost', 'https://metadata', 'https://svc.internal', 'https://0x7f000001'])(
    'refuses %s: a client must not point the edge inside a network',
    (value) => {
      expect(keyDirectoryUrl(`"${value}"`)).toEqual({ ok: false, reason: 'private_host' });
    },
  );

  it('refuses values that are not URLs, unterminated quotes and credentials', () => {
    expect(keyDirectoryUrl('"https://agent.example.com')).toEqual({ ok: false, reason: 'malformed' });
    expect(keyDirectoryUrl('')).toEqual({ ok: false, reason: 'malformed' });
    expect(keyDirectoryUrl('"https://user:pw@agent.example.com"')).toEqual({ ok: false, reason: 'malformed' });
  });

  it('allows loopback over http only when the option says so (tests)', () => {
    expect(keyDirectoryUrl('"http://127.0.0.1:4100"')).toEqual({ ok: false, reason: 'not_https' });
    expect(keyDirectoryUrl('"http://127.0.0.1:4100"', { allowLoopback: true })).toEqual({
      ok: true,
      agent: '127.0.0.1:4100',
      url: `http://127.0.0.1:4100${KEY_DIRECTORY_PATH}`,
    });
    expect(keyDirectoryUrl('"http://10.0.0.1"', { allowLoopback: true })).toEqual({ ok: false, reason: 'not_https' });
  });
});
