/**
 * Waits for `work` (resolved or rejected) at most `ms`; true when it settled in time. Shutdown
 * steps use it so that a dependency that went away (Redis, Postgres) cannot hold the process open.
 */
export function settleWithin(ms: number, work: Promise<unknown>): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    work.then(
      () => true,
      () => true,
    ),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
