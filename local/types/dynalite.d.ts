// Minimal types for dynalite 4 (a DynamoDB emulator; the package ships none).
declare module 'dynalite' {
  import type { Server } from 'node:http';

  interface DynaliteOptions {
    /** Time tables stay CREATING / DELETING / UPDATING (default 500 ms each). */
    createTableMs?: number;
    deleteTableMs?: number;
    updateTableMs?: number;
    /** Maximum item size in KB (default 400). */
    maxItemSizeKb?: number;
    /** LevelDB directory; in memory when omitted. */
    path?: string;
    ssl?: boolean;
    verbose?: boolean;
    debug?: boolean;
  }

  /** Returns a node:http Server (not yet listening) that speaks the DynamoDB JSON API. */
  function dynalite(options?: DynaliteOptions): Server;
  export = dynalite;
}
