/**
 * What AWS Bot Control verified about a bot, as our WAF rules forward it (lib/payment-eligible-bots.ts,
 * verifiedBotRules): its category and its organization. Read only for a feature some `priceBy`
 * condition names, because only then does the web ACL have the rule that inserts `none` on every
 * other request, which overwrites a forged copy WAF did not inspect (past its 8 KB header limit).
 */
import type { PriceCondition } from '../config';
import { WAF_NO_AGENT, WAF_VERIFIED_BOT_CATEGORY_HEADER, WAF_VERIFIED_BOT_ORGANIZATION_HEADER } from '../header-names';

/** A Bot Control category, lower case as in its label `bot:category:<c>`. */
export const BOT_CATEGORY = /^[a-z][a-z0-9_]{0,63}$/;
/** A Bot Control organization, lower case as in its label `bot:organization:<o>`. */
export const BOT_ORGANIZATION = /^[a-z0-9][a-z0-9_.-]{0,63}$/;

/** A verified bot's category and organization, each when WAF forwarded it. */
export interface VerifiedBot {
  readonly botCategory?: string;
  readonly botOrganization?: string;
}

/** Which verified-bot features the web ACL forwards: those the routes' price conditions name. */
export interface ForwardedBotFeatures {
  readonly botCategory: boolean;
  readonly botOrganization: boolean;
}

export function forwardedBotFeatures(conditions: readonly PriceCondition[]): ForwardedBotFeatures {
  return {
    botCategory: conditions.some((condition) => condition.botCategory !== undefined),
    botOrganization: conditions.some((condition) => condition.botOrganization !== undefined),
  };
}

/** The verified bot WAF's headers name, or undefined when they name none (or a value no WAF rule of ours inserts). */
export function verifiedBot(header: (name: string) => string | undefined, forwarded: ForwardedBotFeatures): VerifiedBot | undefined {
  const read = (feature: boolean, name: string, pattern: RegExp) => {
    const value = feature ? header(name) : undefined;
    return value !== undefined && value !== WAF_NO_AGENT && pattern.test(value) ? value : undefined;
  };
  const botCategory = read(forwarded.botCategory, WAF_VERIFIED_BOT_CATEGORY_HEADER, BOT_CATEGORY);
  const botOrganization = read(forwarded.botOrganization, WAF_VERIFIED_BOT_ORGANIZATION_HEADER, BOT_ORGANIZATION);
  if (botCategory === undefined && botOrganization === undefined) return undefined;
  return { ...(botCategory === undefined ? {} : { botCategory }), ...(botOrganization === undefined ? {} : { botOrganization }) };
}
