import { analyzePaths } from '../../../lib/config/route-overlap';

describe('analyzePaths', () => {
  it('finds a path both patterns match, and none only one matches, for equal patterns', () => {
    expect(analyzePaths('/a/*', '/a/*')).toEqual({ both: expect.stringMatching(/^\/a\//) });
  });

  it('sees "/a/*" inside "/a/**" but not the reverse', () => {
    const result = analyzePaths('/a/*', '/a/**');
    expect(result.both).toBeDefined();
    expect(result.onlyA).toBeUndefined();
    expect(result.onlyB).toMatch(/^\/a\/.*\//);
  });

  it('gives an example path of a partial overlap', () => {
    const result = analyzePaths('/a/*/x', '/a/b/*');
    expect(result.both).toBe('/a/b/x');
    expect(result.onlyA).toBeDefined();
    expect(result.onlyB).toBeDefined();
  });

  it('finds nothing shared between disjoint patterns', () => {
    expect(analyzePaths('/articles/*', '/api/**').both).toBeUndefined();
  });

  it('treats a trailing slash as the same page', () => {
    expect(analyzePaths('/docs/', '/docs')).toEqual({ both: '/docs' });
  });
});
