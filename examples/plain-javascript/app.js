#!/usr/bin/env node
// The same paywall from plain JavaScript (CommonJS, no TypeScript toolchain): `node app.js`, or
// `npx cdk synth` with this directory's cdk.json. Prices can come from CDK context:
// `npx cdk synth -c price=$0.005`.
const { App, Stack } = require('aws-cdk-lib');
const origins = require('aws-cdk-lib/aws-cloudfront-origins');
const { Engine, X402Paywall } = require('cdk-x402');

const app = new App();
const stack = new Stack(app, 'JsSite', { env: { region: 'us-east-1' } });
new X402Paywall(stack, 'Paywall', {
  engine: app.node.tryGetContext('engine') === 'waf' ? Engine.WAF : Engine.EDGE,
  origin: new origins.HttpOrigin('www.example.com'),
  payTo: '0x209693Bc6afc0C5328bA36FaF03C514EF312287C',
  routes: [{ pattern: '/articles/*', price: app.node.tryGetContext('price') ?? '$0.001' }],
});
app.synth();
