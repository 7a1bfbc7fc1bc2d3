/**
 * Agents the publisher knows (`x402:agents`) and what the edge does with a signer it does not
 * (`x402:unknownAgents`), validated at synth into what the viewer-request bakes in
 * (lambda/core/identity/agents.ts). Each agent is named, and known by its Web Bot Auth
 * `Signature-Agent` (the edge checks its signatures against that host's key directory), by its
 * AWS Bot Control bot name (our WAF rule forwards Bot Control's `web_bot_auth:verified` verdict
 * for it), or both.
 */
import type { AgentsConfig, TrustedAgentConfig } from '../../lambda/core/config';
import { keyDirectoryUrl } from '../../lambda/core/identity/directory-url';
import { oneOf } from './checks';
import type { Problems } from './problems';
import { UnknownAgents, type Engine, type TrustedAgent } from './settings';

/** Each agent with a bot name is one WAF rule (about 3 WCUs); a few dozen partners is the intended scale. */
export const MAX_TRUSTED_AGENTS = 50;
const AGENT_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;
/** Bot Control's bot names as they appear in `bot:name:<name>` labels. */
const BOT_NAME = /^[a-z0-9][a-z0-9_.-]{0,63}$/;
const EXAMPLE = '-c \'x402:agents={"example-agent":{"signatureAgent":"https://agent.example.com","botName":"exampleagent"}}\'';

/** The object form of `x402:agents` (name → agent, or name → its Signature-Agent URL) as the list the props take. */
export function agentList(value: object): unknown[] {
  if (Array.isArray(value)) return value;
  return Object.entries(value).map(([name, agent]) => (typeof agent === 'object' && agent !== null && !Array.isArray(agent) ? { ...agent, name } : { name, signatureAgent: agent }));
}

export function resolveAgents(
  problems: Problems,
  settings: { readonly agents?: readonly TrustedAgent[]; readonly unknownAgents?: UnknownAgents },
  engine: Engine,
  warnings: string[],
): AgentsConfig | undefined {
  const unknownAgents = oneOf(problems, 'x402:unknownAgents', settings.unknownAgents, UnknownAgents, UnknownAgents.IGNORE);
  const { agents } = settings;
  if (agents === undefined && settings.unknownAgents === undefined) return undefined;
  if (engine === 'waf') {
    warnings.push('x402:agents and x402:unknownAgents only apply to the edge engine: the waf engine records no agent on its receipts');
    return undefined;
  }
  if (agents !== undefined && !Array.isArray(agents)) {
    problems.add('x402:agents', agents, 'must be name → {signatureAgent, botName}', EXAMPLE);
    return undefined;
  }
  const list = agents ?? [];
  if (list.length > MAX_TRUSTED_AGENTS) problems.add('x402:agents', `${list.length} agents`, `lists more than ${MAX_TRUSTED_AGENTS} agents`, 'keep the agents you price or record by name; with x402:unknownAgents=verify any other verified agent is recorded by its host');
  const trusted: TrustedAgentConfig[] = [];
  const seen = { names: new Set<string>(), signatureAgents: new Set<string>(), botNames: new Set<string>() };
  list.forEach((agent, index) => {
    const at = `x402:agents[${index}]`;
    if (typeof agent !== 'object' || agent === null) {
      problems.add(at, agent, 'must be an object {name, signatureAgent?, botName?}', EXAMPLE);
      return;
    }
    const { name, signatureAgent, botName } = agent;
    const key = typeof name === 'string' ? `x402:agents["${name}"]` : at;
    if (typeof name !== 'string' || !AGENT_NAME.test(name)) {
      problems.add(`${key}.name`, name, 'is not an agent name', 'use 1 to 64 lower-case letters, digits, ".", "_" or "-", starting with a letter or digit: receipts and reports record it');
      return;
    }
    if (seen.names.has(name)) problems.add(`${key}.name`, name, 'names two agents', 'give each agent its own name');
    seen.names.add(name);
    if (signatureAgent === undefined && botName === undefined) {
      problems.add(key, agent, 'says neither how the edge verifies it (signatureAgent) nor how WAF does (botName)', 'set signatureAgent to the https origin of its Web Bot Auth key directory, botName to its Bot Control bot name, or both');
      return;
    }
    const resolved: { name: string; signatureAgent?: string; botName?: string } = { name };
    if (signatureAgent !== undefined) {
      const directory = typeof signatureAgent === 'string' ? keyDirectoryUrl(signatureAgent) : undefined;
      if (!directory?.ok) {
        const why = directory && !directory.ok ? { not_https: 'is not an https origin', private_host: 'names an IP address or a private host', malformed: 'is not a URL' }[directory.reason] : 'must be a string';
        problems.add(`${key}.signatureAgent`, signatureAgent, `${why}: the edge fetches the agent's key directory from it`, 'write the origin the agent sends in its Signature-Agent header, e.g. https://agent.example.com');
      } else if (seen.signatureAgents.has(directory.agent)) {
        problems.add(`${key}.signatureAgent`, signatureAgent, 'is the Signature-Agent of another agent too', 'list each signing agent once');
      } else {
        seen.signatureAgents.add(directory.agent);
        resolved.signatureAgent = directory.agent;
      }
    }
    if (botName !== undefined) {
      if (typeof botName !== 'string' || !BOT_NAME.test(botName)) {
        problems.add(`${key}.botName`, botName, 'is not a Bot Control bot name', 'write it lower-case as in the label awswaf:managed:aws:bot-control:bot:name:<botName>');
      } else if (seen.botNames.has(botName)) {
        problems.add(`${key}.botName`, botName, 'is the bot name of another agent too', 'list each bot once');
      } else {
        seen.botNames.add(botName);
        resolved.botName = botName;
      }
    }
    trusted.push(resolved);
  });
  return { trusted, unknownAgents };
}
