import { canonicalPath, compileRoutes, matchRoute, originPath, routePatternError, type CompiledRoute } from '../../lambda/core/routes';
import { testEdgeConfig } from '../support/config';

describe('canonicalPath', () => {
  it.each([
    ['/articles/one', '/articles/one'],
    ['/articles/%6Fne', '/articles/one'],
    ['/articles/%256Fne', '/articles/one'],
    ['//articles///one', '/articles/one'],
    ['/free/../articles/one', '/articles/one'],
    ['/free/%2e%2e/articles/one', '/articles/one'],
    ['/articles/./one', '/articles/one'],
    ['\\articles\\one', '/articles/one'],
    ['/../../articles/one', '/articles/one'],
    ['/articles/', '/articles/'],
    ['/', '/'],
    ['/100%25', '/100%'],
  ])('reads %p as %p', (raw, canonical) => {
    expect(canonicalPath(raw)).toBe(canonical);
  });

  // Java servlet containers strip ";..." from every segment (and read "..;" as ".."); the edge
  // prices and forwards that form, so "/paid;.css" cannot pass as a free stylesheet.
  it.each([
    ['/articles;x=1/secret', '/articles/secret'],
    ['/paid;.css', '/paid'],
    ['/paid%3B.css', '/paid'],
    ['/paid%253B.css', '/paid'],
    ['/free/..;/paid', '/paid'],
    ['/free/.;x/paid', '/free/paid'],
    ['/articles/one;jsessionid=ABC', '/articles/one'],
    ['/;x/articles/one', '/articles/one'],
    ['/articles/one;x/', '/articles/one/'],
  ])('drops the matrix parameters of %p, as a servlet container would: %p', (raw, canonical) => {
    expect(canonicalPath(raw)).toBe(canonical);
  });

  it.each(['/articles/%zz', '/articles/%', '/a%00b', '/a\nb', '/%25252525252541'])('refuses the undecodable or hostile path %p', (raw) => {
    expect(canonicalPath(raw)).toBeUndefined();
  });
});

describe('route matching', () => {
  const routes = compileRoutes(testEdgeConfig());
  const indexOf = (rs: readonly CompiledRoute[], method: string, path: string) => {
    const match = matchRoute(rs, method, path);
    return match.kind === 'priced' ? match.index : -1;
  };

  it('prices the first matching route, in configured order', () => {
    expect(indexOf(routes, 'GET', '/articles/one')).toBe(0);
    expect(indexOf(routes, 'GET', '/api/premium-report')).toBe(1);
    expect(indexOf(routes, 'POST', '/api/v1/deep/path')).toBe(2);
    expect(indexOf(routes, 'GET', '/api/v1/deep/path')).toBe(2);
  });

  it('never sells a method a method-specific route does not list at a broader route\'s price: 405 naming the allowed ones', () => {
    // GET /api/premium-report ($0.01) comes before /api/** ($0.005): a POST to the report is refused.
    expect(matchRoute(routes, 'POST', '/api/premium-report')).toEqual({ kind: 'methodNotAllowed', allowed: ['GET', 'HEAD'] });
    expect(matchRoute(routes, 'DELETE', '/API/Premium-Report/')).toEqual({ kind: 'methodNotAllowed', allowed: ['GET', 'HEAD'] });
    const [onlyGet] = compileRoutes(testEdgeConfig({ routes: [{ pattern: 'GET /report', price: '$1' }] }));
    expect(matchRoute([onlyGet], 'PUT', '/report')).toEqual({ kind: 'methodNotAllowed', allowed: ['GET', 'HEAD'] });
    expect(matchRoute([onlyGet], 'PUT', '/other')).toEqual({ kind: 'free' });
  });

  it('prices HEAD like GET on a GET route (HEAD is GET without the body)', () => {
    expect(indexOf(routes, 'HEAD', '/api/premium-report')).toBe(1);
  });

  it('prices each explicitly listed method by its own route, and refuses the rest with all of them named', () => {
    const split = compileRoutes(testEdgeConfig({ routes: [{ pattern: 'GET /x', price: '$1' }, { pattern: 'POST /x', price: '$5' }, { pattern: '/**', price: '$0.1' }] }));
    expect(indexOf(split, 'GET', '/x')).toBe(0);
    expect(indexOf(split, 'POST', '/x')).toBe(1);
    expect(matchRoute(split, 'PUT', '/x')).toEqual({ kind: 'methodNotAllowed', allowed: ['GET', 'HEAD', 'POST'] });
    expect(indexOf(split, 'PUT', '/y')).toBe(2);
  });

  it('keeps "*" inside one segment and "**" across segments', () => {
    expect(indexOf(routes, 'GET', '/articles/one/comments')).toBe(-1);
    expect(indexOf(routes, 'GET', '/articles')).toBe(-1);
  });

  it('matches case-insensitively so /ARTICLES cannot dodge the price', () => {
    expect(indexOf(routes, 'get', '/ARTICLES/One')).toBe(0);
  });

  it('prices a trailing slash like the path without it, since most origins serve both', () => {
    expect(indexOf(routes, 'GET', '/articles/one/')).toBe(0);
    expect(indexOf(routes, 'GET', '/api/premium-report/')).toBe(1);
    expect(indexOf(routes, 'GET', '/articles/')).toBe(indexOf(routes, 'GET', '/articles'));
    const [docs] = compileRoutes(testEdgeConfig({ routes: [{ pattern: '/docs/', price: '$1' }] }));
    expect(indexOf([docs], 'GET', '/docs')).toBe(0);
  });

  it('leaves unpriced paths free', () => {
    expect(matchRoute(routes, 'GET', '/')).toEqual({ kind: 'free' });
    expect(matchRoute(routes, 'POST', '/about')).toEqual({ kind: 'free' });
  });

  it('compiles prices into atomic units', () => {
    expect(routes.map((r) => r.amount)).toEqual(['1000', '10000', '5000']);
  });

  it('treats regex characters in patterns literally', () => {
    const [route] = compileRoutes(testEdgeConfig({ routes: [{ pattern: '/report.v1/(x)', price: '$1' }] }));
    expect(route.matcher.test('/report.v1/(x)')).toBe(true);
    expect(route.matcher.test('/reportXv1/(x)')).toBe(false);
  });
});

describe('originPath', () => {
  it.each([
    ['/articles/one', '/articles/one'],
    ['/api/premium-report?x', '/api/premium-report%3Fx'],
    ['/a#b', '/a%23b'],
    ['/100%', '/100%25'],
    ['/caf\u00e9 menu', '/caf%C3%A9%20menu'],
    ['/a:b@c=e,f+g$h&i', '/a:b@c=e,f+g$h&i'],
    ['/articles/', '/articles/'],
  ])('forwards the priced path %p as %p, which the origin decodes back to it', (canonical, forwarded) => {
    expect(originPath(canonical)).toBe(forwarded);
    expect(canonicalPath(forwarded)).toBe(canonical);
  });
});

describe('routePatternError', () => {
  it.each([
    ['articles/*', /must start with "\/"/],
    ['FETCH /a', /not an HTTP method/],
    ['GET /a b', /must be "\[METHOD \]\/path"/],
    ['/a?x=1', /without \?/],
    ['/a;v=1', /without .*;/],
    ['/a/***', /\*\*\*/],
    ['/a/../b', /"\." or "\.\." segments/],
  ])('refuses %p', (pattern, message) => {
    expect(routePatternError(pattern)).toMatch(message);
  });

  it('accepts method-qualified and wildcard patterns', () => {
    expect(routePatternError('GET /api/**')).toBeUndefined();
    expect(routePatternError('/articles/*')).toBeUndefined();
  });

  it('makes compileRoutes throw with the offending route named', () => {
    expect(() => compileRoutes(testEdgeConfig({ routes: [{ pattern: '/a', price: '$0.0000001' }] }))).toThrow(/route "\/a": price/);
  });
});
