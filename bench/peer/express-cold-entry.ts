/**
 * Cold-start entry for the peer: what a process serving @x402/express evaluates before its first
 * request (modules + middleware setup, no network: the facilitator sync is off, as our handler
 * also contacts nothing at init). Bundled with the same esbuild settings as our edge handlers.
 */
import { createExpressPeer } from './express-app';

export const app = createExpressPeer({
  facilitatorUrl: 'http://127.0.0.1:9',
  network: 'eip155:84532',
  payTo: '0x209693Bc6afc0C5328bA36FaF03C514EF312287C',
  maxTimeoutSeconds: 120,
  routes: [{ pattern: '/articles/*', price: '$0.001', description: 'One article', mimeType: 'text/html' }],
  content: { kind: 'origin', url: 'http://127.0.0.1:9' },
  syncFacilitatorOnStart: false,
});
