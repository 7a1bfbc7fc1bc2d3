/**
 * Who the agent is, decided once per priced request: AWS Bot Control's Web Bot Auth verdict as our
 * WAF rules forward it, or the edge's own check of the request's signature against the agent's
 * key directory (fetched through a bounded cache, never on every request). Anything short of a
 * verification is an untrusted agent, which pays like anyone: identity can only name a payer,
 * never let a request through unpaid by itself.
 */
import type { AgentsConfig, TrustedAgentConfig } from '../config';
import { WAF_AGENT_HEADER } from '../header-names';
import { keyDirectoryUrl } from './directory-url';
import { type DirectoryFetch, KeyDirectoryCache } from './key-directories';
import { type AgentRefusal, prepareDirectory, type PreparedDirectory, verifyWebBotAuth } from './web-bot-auth';

export type AgentVerifiedBy = 'web-bot-auth' | 'waf';

/** Why a signed request's agent was not trusted: the signature's own reasons, or an agent not in x402:agents (with unknownAgents `ignore`). */
export type AgentSignatureRefusal = AgentRefusal | 'unknown_agent';

export type AgentIdentity =
  | { readonly kind: 'verified'; readonly agent: string; readonly verifiedBy: AgentVerifiedBy }
  | { readonly kind: 'refused'; readonly reason: AgentSignatureRefusal }
  /** No signature and no WAF verdict: an anonymous client (not counted as a refusal). */
  | { readonly kind: 'unsigned' };

/** What identification reads of a viewer request. */
export interface IdentifiedRequest {
  readonly method: string;
  /** The request's URL as the agent signed it (`https://host/path?query`). */
  readonly url: string;
  /** Value of a header by lower-case name. */
  header(name: string): string | undefined;
}

export class AgentIdentities {
  private readonly directories: KeyDirectoryCache<PreparedDirectory>;
  private readonly bySignatureAgent = new Map<string, TrustedAgentConfig>();
  private readonly byWafName = new Map<string, TrustedAgentConfig>();

  constructor(private readonly config: AgentsConfig, fetchDirectory: DirectoryFetch, now: () => number) {
    this.directories = new KeyDirectoryCache(fetchDirectory, now, prepareDirectory);
    for (const agent of config.trusted) {
      if (agent.signatureAgent !== undefined) this.bySignatureAgent.set(agent.signatureAgent, agent);
      if (agent.botName !== undefined) this.byWafName.set(agent.name, agent);
    }
  }

  async identify(request: IdentifiedRequest): Promise<AgentIdentity> {
    // WAF's verdict first: it needs no fetch and no signature check at the edge.
    const forwarded = request.header(WAF_AGENT_HEADER);
    const wafAgent = forwarded === undefined ? undefined : this.byWafName.get(forwarded);
    if (wafAgent) return { kind: 'verified', agent: wafAgent.name, verifiedBy: 'waf' };

    const signatureAgent = request.header('signature-agent');
    const options = { allowLoopback: this.config.allowLoopbackDirectories === true };
    let trusted: TrustedAgentConfig | undefined;
    if (signatureAgent !== undefined) {
      const directory = keyDirectoryUrl(signatureAgent, options);
      trusted = directory.ok ? this.bySignatureAgent.get(directory.agent.toLowerCase()) : undefined;
      // An agent nobody listed may not make the edge fetch from its host.
      if (directory.ok && !trusted && this.config.unknownAgents === 'ignore') return { kind: 'refused', reason: 'unknown_agent' };
    }
    const verdict = await verifyWebBotAuth(
      { method: request.method, url: request.url, headers: { get: (name) => request.header(name.toLowerCase()) ?? null } },
      (url) => this.directories.keys(url),
      options,
    );
    if (!verdict.verified) return verdict.reason === 'unsigned' ? { kind: 'unsigned' } : { kind: 'refused', reason: verdict.reason };
    return { kind: 'verified', agent: trusted?.name ?? verdict.agent, verifiedBy: 'web-bot-auth' };
  }
}
