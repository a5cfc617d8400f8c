/**
 * Configuration from the environment, validated against the `configuration` block of a
 * manifest (the seed format: required/optional lists and a per-variable schema).
 * The gateway's own settings (gateway/config/settings.json) and every plugin use the same code.
 */

export type ConfigType = 'string' | 'integer' | 'number' | 'boolean' | 'url';
export type ConfigValue = string | number | boolean;

export interface ConfigVariableSpec {
  type: ConfigType;
  description?: string;
  /** Never printed, logged or returned; shown masked. */
  secret?: boolean;
  /** A regular expression the raw value must match. */
  validation?: string;
  enum?: string[];
  default?: ConfigValue;
  min?: number;
  max?: number;
}

export interface ConfigurationSpec {
  required?: string[];
  /**
   * Alternatives of which one must be set in full, e.g. a token or a whole app credential:
   * `[["GITHUB_TOKEN"], ["GITHUB_APP_ID", "GITHUB_APP_PRIVATE_KEY", "GITHUB_APP_INSTALLATION_ID"]]`.
   */
  requiredOneOf?: string[][];
  optional?: string[];
  schema?: Record<string, ConfigVariableSpec>;
}

export interface ConfigProblem {
  variable: string;
  /** Who needs the variable: `gateway` or `plugin <name>`. */
  owner: string;
  message: string;
}

/** Stops start-up: the CLI prints every problem and exits with code 2. */
export class ConfigError extends Error {
  readonly problems: readonly ConfigProblem[];
  constructor(problems: readonly ConfigProblem[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p.variable} (${p.owner}): ${p.message}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

export type Env = Readonly<Record<string, string | undefined>>;

export interface ConfigEntry {
  key: string;
  /** The value, or `********` for a secret that is set; null when unset. */
  value: string | null;
  isSet: boolean;
  secret: boolean;
  required: boolean;
  description: string | null;
}

const MASK = '********';

/** Every variable a configuration block names, with its spec (a string when it has none). */
export function listVariables(spec: ConfigurationSpec): { key: string; required: boolean; spec: ConfigVariableSpec }[] {
  const required = new Set(spec.required ?? []);
  const keys = [
    ...new Set([
      ...(spec.required ?? []),
      ...(spec.requiredOneOf ?? []).flat(),
      ...(spec.optional ?? []),
      ...Object.keys(spec.schema ?? {}),
    ]),
  ];
  return keys.map((key) => ({ key, required: required.has(key), spec: spec.schema?.[key] ?? { type: 'string' } }));
}

/** Required variables that have no value and no default (an unmet `requiredOneOf` as one entry naming its choices). */
export function missingRequired(spec: ConfigurationSpec, env: Env): string[] {
  const missing = listVariables(spec)
    .filter((v) => v.required && isBlank(env[v.key]) && v.spec.default === undefined)
    .map((v) => v.key);
  const choices = spec.requiredOneOf ?? [];
  if (choices.length > 0 && !choices.some((group) => group.every((key) => !isBlank(env[key]))))
    missing.push(eitherOf(choices));
  return missing;
}

/** `A, or B + C` */
const describeChoices = (choices: string[][]) => choices.map((group) => group.join(' + ')).join(', or ');
/** `either A or B + C` (`one of A, B, C` for more than two). */
const eitherOf = (choices: string[][]) => {
  const groups = choices.map((group) => group.join(' + '));
  return groups.length === 2 ? `either ${groups[0]} or ${groups[1]}` : `one of ${groups.join(', ')}`;
};

/**
 * An unmet `requiredOneOf`: none of its groups is complete. A group partly set is named with what
 * it lacks (someone meant that one); otherwise the choices are listed.
 */
function oneOfProblems(spec: ConfigurationSpec, env: Env, owner: string): ConfigProblem[] {
  const choices = spec.requiredOneOf ?? [];
  if (choices.length === 0 || choices.some((group) => group.every((key) => !isBlank(env[key])))) return [];
  const started = choices.filter((group) => group.some((key) => !isBlank(env[key])));
  if (started.length === 0)
    return [
      { variable: choices[0]![0]!, owner, message: `is required, or instead: ${describeChoices(choices.slice(1))}` },
    ];
  return started.flatMap((group) =>
    group
      .filter((key) => isBlank(env[key]))
      .map((key) => ({
        variable: key,
        owner,
        message: `is required with ${group.filter((k) => k !== key).join(', ')}`,
      })),
  );
}

function isBlank(raw: string | undefined): raw is undefined | '' {
  return raw === undefined || raw.trim() === '';
}

function expectation(spec: ConfigVariableSpec): string {
  const parts: string[] = [];
  if (spec.enum) parts.push(`one of ${spec.enum.join(', ')}`);
  else if (spec.type === 'integer') parts.push('an integer');
  else if (spec.type === 'number') parts.push('a number');
  else if (spec.type === 'boolean') parts.push('true or false');
  else if (spec.type === 'url') parts.push('a URL');
  else parts.push('a string');
  if (spec.min !== undefined && spec.max !== undefined) parts.push(`from ${spec.min} to ${spec.max}`);
  else if (spec.min !== undefined) parts.push(`of at least ${spec.min}`);
  else if (spec.max !== undefined) parts.push(`of at most ${spec.max}`);
  if (spec.validation) parts.push(`matching /${spec.validation}/`);
  return parts.join(' ') + (spec.description ? ` (${spec.description})` : '');
}

const TRUE = new Set(['true', '1', 'yes', 'on']);
const FALSE = new Set(['false', '0', 'no', 'off']);

function parseValue(raw: string, spec: ConfigVariableSpec): ConfigValue | undefined {
  switch (spec.type) {
    case 'integer': {
      if (!/^[+-]?\d+$/.test(raw)) return undefined;
      return Number(raw);
    }
    case 'number': {
      const n = Number(raw);
      return raw.trim() !== '' && Number.isFinite(n) ? n : undefined;
    }
    case 'boolean': {
      const lower = raw.toLowerCase();
      return TRUE.has(lower) ? true : FALSE.has(lower) ? false : undefined;
    }
    case 'url':
      return URL.canParse(raw) ? raw : undefined;
    case 'string':
      return raw;
  }
}

/**
 * Reads and validates the variables of one configuration block. Problems never contain the
 * value of a secret; for other variables the offending value is quoted to help the operator.
 */
export function readConfig(
  spec: ConfigurationSpec,
  env: Env,
  owner: string,
): { values: ConfigValues; problems: ConfigProblem[] } {
  const values = new Map<string, ConfigValue>();
  const problems: ConfigProblem[] = oneOfProblems(spec, env, owner);
  for (const { key, required, spec: varSpec } of listVariables(spec)) {
    const raw = env[key];
    if (isBlank(raw)) {
      if (varSpec.default !== undefined) values.set(key, varSpec.default);
      else if (required)
        problems.push({ variable: key, owner, message: `is required: expected ${expectation(varSpec)}` });
      continue;
    }
    const shown = varSpec.secret ? 'the value given' : JSON.stringify(raw);
    const fail = () =>
      problems.push({ variable: key, owner, message: `${shown} is invalid: expected ${expectation(varSpec)}` });
    const value = parseValue(raw, varSpec);
    if (value === undefined) {
      fail();
      continue;
    }
    if (varSpec.validation && !new RegExp(varSpec.validation).test(raw)) {
      fail();
      continue;
    }
    if (varSpec.enum && !varSpec.enum.includes(raw)) {
      fail();
      continue;
    }
    if (
      typeof value === 'number' &&
      ((varSpec.min !== undefined && value < varSpec.min) || (varSpec.max !== undefined && value > varSpec.max))
    ) {
      fail();
      continue;
    }
    values.set(key, value);
  }
  return { values: new ConfigValues(owner, values, spec), problems };
}

/** Validated configuration values with typed accessors. */
export class ConfigValues {
  readonly #owner: string;
  readonly #values: ReadonlyMap<string, ConfigValue>;
  readonly #spec: ConfigurationSpec;

  constructor(owner: string, values: ReadonlyMap<string, ConfigValue>, spec: ConfigurationSpec) {
    this.#owner = owner;
    this.#values = values;
    this.#spec = spec;
  }

  has(key: string): boolean {
    return this.#values.has(key);
  }

  #get(key: string, type: 'string' | 'number' | 'boolean'): ConfigValue | undefined {
    const value = this.#values.get(key);
    if (value !== undefined && typeof value !== type) {
      throw new TypeError(`${this.#owner}: ${key} is a ${typeof value}, read as a ${type}`);
    }
    return value;
  }

  string(key: string): string {
    const value = this.optionalString(key);
    if (value === undefined) throw new TypeError(`${this.#owner}: ${key} is not set and has no default`);
    return value;
  }

  optionalString(key: string): string | undefined {
    return this.#get(key, 'string') as string | undefined;
  }

  number(key: string): number {
    const value = this.optionalNumber(key);
    if (value === undefined) throw new TypeError(`${this.#owner}: ${key} is not set and has no default`);
    return value;
  }

  optionalNumber(key: string): number | undefined {
    return this.#get(key, 'number') as number | undefined;
  }

  boolean(key: string): boolean {
    const value = this.#get(key, 'boolean') as boolean | undefined;
    if (value === undefined) throw new TypeError(`${this.#owner}: ${key} is not set and has no default`);
    return value;
  }

  /** Every variable of the block, secrets masked: safe to show to an admin or print. */
  entries(): ConfigEntry[] {
    return listVariables(this.#spec).map(({ key, required, spec }) => {
      const value = this.#values.get(key);
      return {
        key,
        value: value === undefined ? null : spec.secret ? MASK : String(value),
        isSet: value !== undefined,
        secret: spec.secret === true,
        required,
        description: spec.description ?? null,
      };
    });
  }
}

/** Runs each check and reports the ConfigErrors of all of them together. */
export function collectConfigErrors<T extends unknown[]>(...checks: { [K in keyof T]: () => T[K] }): T {
  const problems: ConfigProblem[] = [];
  const results = checks.map((check) => {
    try {
      return check();
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      problems.push(...error.problems);
      return undefined;
    }
  });
  if (problems.length > 0) throw new ConfigError(problems);
  return results as T;
}
