/** A function for tests of the Lambda containers: what it does is in the event. */
export interface ProbeEvent {
  /** Lines to write with console.log. */
  readonly log?: readonly string[];
  /** POST `mark` to `url` after this delay, then return. */
  readonly writeAfterMs?: number;
  readonly url?: string;
  readonly mark?: string;
  /** Throw from a timer, outside the handler's promise. */
  readonly crash?: boolean;
  readonly fail?: string;
}

// Module state lives as long as the container.
let invocations = 0;
let running = 0;
let mostAtOnce = 0;

export async function handler(event: ProbeEvent, context: { getRemainingTimeInMillis(): number }) {
  invocations++;
  mostAtOnce = Math.max(mostAtOnce, ++running);
  try {
    return await run(event, context);
  } finally {
    running--;
  }
}

async function run(event: ProbeEvent, context: { getRemainingTimeInMillis(): number }) {
  for (const line of event.log ?? []) console.log(line);
  if (event.fail) throw new Error(event.fail);
  if (event.crash) {
    setTimeout(() => {
      throw new Error('crashed outside the handler');
    }, 0);
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  if (event.writeAfterMs !== undefined) {
    await new Promise((resolve) => setTimeout(resolve, event.writeAfterMs));
    await fetch(event.url!, { method: 'POST', body: event.mark });
  }
  return { invocations, mostAtOnce, remainingMs: context.getRemainingTimeInMillis() };
}
