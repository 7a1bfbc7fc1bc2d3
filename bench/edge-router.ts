/**
 * The local edge's functions, switchable while the bench runs: the handlers in this process (with
 * the timers on their ports), the same handlers with their DynamoDB and facilitator behind delay
 * proxies (bench/far-from-home.ts), or the deployed bundles in a process under a CPU quota
 * (bench/edge-sizing.ts). One request at a time is in flight when a section switches.
 */
import type { EdgeHandlers } from '../lambda/edge/cloudfront-adapter';

export class EdgeRouter implements EdgeHandlers {
  private current: EdgeHandlers;

  constructor(private readonly home: EdgeHandlers) {
    this.current = home;
  }

  /** Routes every invocation to `handlers` from now on; no argument: back to the in-process handlers. */
  use(handlers: EdgeHandlers = this.home): void {
    this.current = handlers;
  }

  viewerRequest: EdgeHandlers['viewerRequest'] = (event, context) => this.current.viewerRequest(event, context);
  originRequest: EdgeHandlers['originRequest'] = (event, context) => this.current.originRequest(event, context);
  originResponse: EdgeHandlers['originResponse'] = (event, context) => this.current.originResponse(event, context);
}
