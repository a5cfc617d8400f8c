/**
 * Load for the fault suite (test/faults/): senders that keep requests in flight while a test
 * breaks something, and the figures each fault prints for bench/RELIABILITY.md.
 */

export interface Load {
  /** Requests sent and not answered yet. */
  inFlight(): number;
  /** Stops sending and resolves once every sender's last request is answered. */
  stop(): Promise<void>;
}

/** `concurrency` loops, each calling `send` again as soon as its previous call settles. */
export function keepSending(concurrency: number, send: () => Promise<void>): Load {
  let running = true;
  let inFlight = 0;
  const loops = Array.from({ length: concurrency }, async () => {
    while (running) {
      inFlight++;
      try {
        await send();
      } finally {
        inFlight--;
      }
    }
  });
  return {
    inFlight: () => inFlight,
    stop: async () => {
      running = false;
      await Promise.all(loops);
    },
  };
}

/** One HTTP answer as a test saw it. */
export interface Answer {
  at: number;
  status: number;
  /** `errors[0].extensions.code` of a JSON error body. */
  code: string | undefined;
}

/** Polls `url` until stopped, keeping every status with its time (for /readyz). */
export function watchStatus(url: string, everyMs = 100): { answers: Answer[]; stop(): Promise<void> } {
  const answers: Answer[] = [];
  const load = keepSending(1, async () => {
    const status = await fetch(url, { signal: AbortSignal.timeout(5000) }).then(
      async (response) => {
        await response.arrayBuffer();
        return response.status;
      },
      () => 0,
    );
    answers.push({ at: Date.now(), status, code: undefined });
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  });
  return { answers, stop: () => load.stop() };
}

/** The first answer at or after `since` that `accept` takes, or undefined. */
export function firstAfter(answers: readonly Answer[], since: number, accept: (answer: Answer) => boolean) {
  return answers.find((answer) => answer.at >= since && accept(answer));
}

/** What each fault reports: a row of bench/RELIABILITY.md "Infrastructure faults". */
export interface FaultFigures {
  fault: string;
  /** The load held while the fault lasted, in words. */
  load: string;
  /** Requests (or jobs, or events) sent and not yet answered when the fault began. */
  inFlight: number;
  acknowledged: number;
  applied: number;
  lost: number;
  duplicated: number;
  /** From the dependency being back to the gateway serving again. */
  recovery: string;
}

export function printFigures(figures: FaultFigures): void {
  const { fault, load, inFlight, acknowledged, applied, lost, duplicated, recovery } = figures;
  console.log(
    `[fault figures] | ${fault} | ${load} | ${inFlight} | ${acknowledged} | ${applied} | ${lost} | ${duplicated} | ${recovery} |`,
  );
}
