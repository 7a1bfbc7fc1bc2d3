import type { ResolvedConfig } from './resolved';
import { resolveX402Config } from './resolve';
import type { Engine, X402Settings } from './settings';

/**
 * Validated cdk-x402 configuration, the input of every construct (X402Paywall makes its own).
 * Only {@link X402Config.resolve} makes one, so a construct never sees settings that were not
 * validated.
 */
export class X402Config {
  /**
   * Validates settings (written as props, or read from context by
   * `ReferenceStack.settingsFromContext`) and fills in the defaults. Throws an error listing
   * every problem, each with the key, the bad value and the fix.
   */
  static resolve(settings: X402Settings): X402Config {
    return new X402Config(resolveX402Config(settings));
  }

  /** The engine that charges. */
  readonly engine: Engine;
  /** CAIP-2 network the payments settle on. */
  readonly network: string;
  /** Address receiving the payments. */
  readonly payTo: string;
  /** Settings that are valid but have no effect (X402Paywall reports each as a synth warning). */
  readonly warnings: string[];
  /** @internal */
  readonly _resolved: ResolvedConfig;

  private constructor(resolved: ResolvedConfig) {
    this._resolved = resolved;
    this.engine = resolved.engine;
    this.network = resolved.network;
    this.payTo = resolved.payTo;
    this.warnings = [...resolved.warnings];
  }
}
