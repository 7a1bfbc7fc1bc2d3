/**
 * A Lambda@Edge function for tests of the local edge: it posts each event to a loopback server the
 * test runs (its URL baked in at build time, as the edge bundles bake their configuration) and
 * returns what the test answers, or throws the error it names.
 */
declare const __RELAY_URL__: string;

export async function handler(event: unknown, context: { getRemainingTimeInMillis(): number }): Promise<unknown> {
  const response = await fetch(__RELAY_URL__, { method: 'POST', body: JSON.stringify({ event, remainingMs: context.getRemainingTimeInMillis() }) });
  const answer = (await response.json()) as { result?: unknown; error?: string };
  if (answer.error !== undefined) throw new Error(answer.error);
  return answer.result;
}
