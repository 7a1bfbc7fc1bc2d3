// Tests talk only to dynalite on loopback. Fixed fake credentials (inherited by the workers) keep
// real AWS credentials out of every test, including the bundled handlers, which read the
// environment as Lambda does.
process.env.AWS_ACCESS_KEY_ID = 'local';
process.env.AWS_SECRET_ACCESS_KEY = 'local';
delete process.env.AWS_SESSION_TOKEN;
delete process.env.AWS_PROFILE;
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: { module: 'commonjs', moduleResolution: 'node10', isolatedModules: true, esModuleInterop: true, resolveJsonModule: true }, diagnostics: false }],
    // ESM-only packages (jose: the CDP auth's JWT library; libsecp256k1's WASM wrapper): the bundles get
    // them through esbuild, jest through this.
    '/node_modules/(jose|@solar-republic/wasm-secp256k1)/.+\\.js$': ['ts-jest', { tsconfig: { allowJs: true, module: 'commonjs', isolatedModules: true }, diagnostics: false }],
  },
  transformIgnorePatterns: ['/node_modules/(?!(jose|@solar-republic/wasm-secp256k1)/)'],
  testTimeout: 60000,
  // Builds the prebuilt bundles if stale; the reliability suites' summary line (cases tried,
  // content served unpaid, payments lost, double charges).
  globalSetup: '<rootDir>/test/global-setup.ts',
  globalTeardown: '<rootDir>/test/reliability/global-teardown.ts',
};
