/**
 * A built-in job type: `parse` checks a payload (when the job is enqueued, so a bad one is
 * refused at once, and again when it runs), `run` does the work. A type that cannot do its work
 * fails with a clear error; none pretends.
 */
import type { JobContext, PluginRuntime } from '../../../gateway/sdk.ts';
import type { JobsConfig } from '../config.ts';

export interface JobType<Payload> {
  description: string;
  /**
   * Who may add it through the API: admins only (the default), or `user`: the roles in
   * JOBS_ENQUEUE_ROLES too. Only types that cannot reach beyond what the operator allowed are `user`.
   */
  access?: 'admin' | 'user';
  /** The payload a non-admin's job is stored and run with (e.g. never signed); throws InvalidPayloadError for what only admins may ask. */
  forUser?(payload: Record<string, unknown>): Record<string, unknown>;
  /** Why this type cannot run in this deployment (missing config or plugin), or null. */
  unavailable?(runtime: PluginRuntime<JobsConfig>): string | null;
  /** Throws InvalidPayloadError naming what is wrong. */
  parse(payload: unknown, config: JobsConfig): Payload;
  run(payload: Payload, job: JobContext, runtime: PluginRuntime<JobsConfig>): Promise<unknown>;
}

/** A payload that can never succeed: refused at enqueue, failed without retries at run time. */
export class InvalidPayloadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidPayloadError';
  }
}

export function objectPayload(payload: unknown, type: string): Record<string, unknown> {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    throw new InvalidPayloadError(`${type} expects an object payload`);
  }
  return payload as Record<string, unknown>;
}

export function optionalNumber(value: unknown, name: string, min: number, max: number): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw new InvalidPayloadError(`${name} must be a number from ${min} to ${max}`);
  }
  return value;
}

export function requiredString(value: unknown, name: string): string {
  if (typeof value !== 'string' || value.trim() === '')
    throw new InvalidPayloadError(`${name} is required (a non-empty string)`);
  return value;
}
