/**
 * Flags and environment for every role. This is the only module that reads `process.env`.
 *
 * A role declares its options once (name, type, default, env variable, help); `loadConfig` reads
 * `--flag value`, `--flag=value`, the environment (flag wins), checks every option, and reports
 * EVERY problem at once in a ConfigError before anything connects anywhere. Heapster's
 * underscore spelling (`--metric_resolution`) and the hyphen spelling are the same flag.
 */
import { redactSecrets } from './logger.js';

/** `list`: comma-separated and repeatable; `strings`: repeatable, each value whole (URIs with commas). */
export type OptionType = 'string' | 'integer' | 'number' | 'boolean' | 'duration' | 'list' | 'strings';

export interface OptionSpec {
  readonly name: string;
  readonly type: OptionType;
  readonly description: string;
  readonly default?: string | number | boolean | readonly string[];
  /** Environment variable; defaults to PODOMETER_<NAME> in upper snake case. */
  readonly env?: string | false;
  readonly min?: number;
  readonly max?: number;
  readonly choices?: readonly string[];
  /** A short value name for help, e.g. FILE. */
  readonly valueName?: string;
  readonly required?: boolean;
  /** Extra rule for a string, or for each item of a list: the problem, or undefined when fine. */
  readonly check?: (value: string) => string | undefined;
}

export type OptionValue = string | number | boolean | string[] | undefined;

/** Every configuration problem, each with any secret it echoes (a password in a URL, `pw=`, `token=`) redacted. */
export class ConfigError extends Error {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    const redacted = problems.map(redactSecrets);
    super(`invalid configuration:\n${redacted.map((p) => `  - ${p}`).join('\n')}`);
    this.problems = redacted;
    this.name = 'ConfigError';
  }
}

export interface LoadedConfig {
  readonly values: Record<string, OptionValue>;
  readonly positionals: string[];
  readonly help: boolean;
}

const canonical = (name: string): string => name.replace(/_/g, '-');

export function envName(spec: OptionSpec): string | undefined {
  if (spec.env === false) return undefined;
  return spec.env ?? `PODOMETER_${canonical(spec.name).replace(/-/g, '_').toUpperCase()}`;
}

/** Reads argv (without node and script) and the environment against `specs`. Throws ConfigError. */
export function loadConfig(
  specs: readonly OptionSpec[],
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>> = process.env,
): LoadedConfig {
  const byName = new Map(specs.map((s) => [canonical(s.name), s]));
  const raw = new Map<string, string[]>();
  const positionals: string[] = [];
  const problems: string[] = [];
  let help = false;

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (arg === '--help' || arg === '-h') {
      help = true;
      continue;
    }
    if (!arg.startsWith('--')) {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = canonical(eq < 0 ? arg.slice(2) : arg.slice(2, eq));
    const spec = byName.get(name) ?? (name.startsWith('no-') ? byName.get(name.slice(3)) : undefined);
    if (!spec) {
      problems.push(`unknown flag --${name}`);
      continue;
    }
    let value: string;
    if (eq >= 0) value = arg.slice(eq + 1);
    else if (spec.type === 'boolean') value = name.startsWith('no-') ? 'false' : 'true';
    else if (i + 1 < argv.length && !argv[i + 1]!.startsWith('--')) value = argv[++i]!;
    else {
      problems.push(`--${spec.name} needs a value`);
      continue;
    }
    const key = canonical(spec.name);
    raw.set(key, [...(raw.get(key) ?? []), value]);
  }

  const values: Record<string, OptionValue> = {};
  for (const spec of specs) {
    const key = canonical(spec.name);
    const variable = envName(spec);
    const fromEnv = variable !== undefined ? env[variable] : undefined;
    const given = raw.get(key) ?? (fromEnv !== undefined && fromEnv !== '' ? [fromEnv] : undefined);
    const source = raw.has(key) ? `--${spec.name}` : `${variable}`;
    if (given === undefined) {
      if (spec.required && !help) problems.push(`--${spec.name} is required${variable ? ` (or set ${variable})` : ''}`);
      values[key] = spec.default === undefined ? undefined : Array.isArray(spec.default) ? [...spec.default] : (spec.default as OptionValue);
      continue;
    }
    const converted = convert(spec, given, source, problems);
    if (converted !== undefined) values[key] = converted;
  }
  if (problems.length > 0 && !help) throw new ConfigError(problems);
  return { values, positionals, help };
}

function convert(spec: OptionSpec, given: string[], source: string, problems: string[]): OptionValue {
  const last = given[given.length - 1]!;
  const bad = (why: string): undefined => {
    problems.push(`${source}=${JSON.stringify(last)}: ${why}`);
    return undefined;
  };
  const inRange = (n: number, shown: string): number | undefined => {
    if (spec.min !== undefined && n < spec.min) return bad(`must be at least ${spec.min}${shown}`);
    if (spec.max !== undefined && n > spec.max) return bad(`must be at most ${spec.max}${shown}`);
    return n;
  };
  switch (spec.type) {
    case 'string': {
      if (spec.choices && !spec.choices.includes(last)) return bad(`must be one of ${spec.choices.join(', ')}`);
      const problem = spec.check?.(last);
      return problem ? bad(problem) : last;
    }
    case 'list':
    case 'strings': {
      // From the environment, `strings` values are separated by whitespace.
      const items = given.flatMap((v) => (spec.type === 'list' ? v.split(',') : source.startsWith('--') ? [v] : v.split(/\s+/))).map((v) => v.trim()).filter((v) => v !== '');
      const itemProblems = items.flatMap((item) => {
        const problem = spec.check?.(item);
        return problem ? [`${source} ${JSON.stringify(item)}: ${problem}`] : [];
      });
      problems.push(...itemProblems);
      return itemProblems.length > 0 ? undefined : items;
    }
    case 'boolean':
      if (/^(true|1|yes)$/i.test(last)) return true;
      if (/^(false|0|no)$/i.test(last)) return false;
      return bad('must be true or false');
    case 'integer': {
      if (!/^-?\d+$/.test(last)) return bad('must be a whole number');
      return inRange(Number(last), '');
    }
    case 'number': {
      const n = Number(last);
      if (last.trim() === '' || !Number.isFinite(n)) return bad('must be a number');
      return inRange(n, '');
    }
    case 'duration': {
      const ms = parseDurationMs(last);
      if (ms === undefined) return bad('must be a duration such as 60s, 1m30s or 500ms');
      return inRange(ms, ' ms');
    }
  }
}

/** Go-style durations (`1h2m3s`, `500ms`, `1.5s`) or plain seconds, as milliseconds. */
export function parseDurationMs(text: string): number | undefined {
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text) * 1000;
  const unitMs: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 0.001, µs: 0.001, ns: 0.000001 };
  const part = /(\d+(?:\.\d+)?)(ms|us|µs|ns|h|m|s)/gy;
  let total = 0;
  let consumed = 0;
  let match: RegExpExecArray | null;
  while ((match = part.exec(text)) !== null) {
    total += Number(match[1]) * unitMs[match[2]!]!;
    consumed = part.lastIndex;
  }
  return consumed === text.length && consumed > 0 ? total : undefined;
}

/** `--help` text generated from the specs. */
export function usage(command: string, summary: string, specs: readonly OptionSpec[]): string {
  const lines = [`Usage: ${command}`, '', summary, '', 'Options:'];
  for (const spec of specs) {
    const flag = `--${spec.name}${spec.type === 'boolean' ? '' : ` ${spec.valueName ?? spec.type.toUpperCase()}`}`;
    const extras: string[] = [];
    if (spec.default !== undefined && spec.default !== '' && !(Array.isArray(spec.default) && spec.default.length === 0)) {
      extras.push(`default ${Array.isArray(spec.default) ? spec.default.join(',') : String(spec.default)}${spec.type === 'duration' ? ' ms' : ''}`);
    }
    const variable = envName(spec);
    if (variable) extras.push(`env ${variable}`);
    lines.push(`  ${flag.padEnd(34)} ${spec.description}${extras.length ? ` (${extras.join('; ')})` : ''}`);
  }
  lines.push(`  ${'--help'.padEnd(34)} Show this help.`);
  return lines.join('\n');
}

/** Typed accessors over loaded values (the specs guarantee the types). */
export function reader(values: Record<string, OptionValue>) {
  const get = (name: string): OptionValue => values[canonical(name)];
  return {
    string: (name: string): string => String(get(name) ?? ''),
    optionalString: (name: string): string | undefined => (get(name) === undefined ? undefined : String(get(name))),
    number: (name: string): number => Number(get(name)),
    boolean: (name: string): boolean => get(name) === true,
    list: (name: string): string[] => (Array.isArray(get(name)) ? (get(name) as string[]) : []),
  };
}

/**
 * A role's flags: loads them, and for `--help` prints `help` and returns undefined (exit 0).
 * Throws ConfigError with every problem.
 */
export function loadRoleConfig(specs: readonly OptionSpec[], argv: readonly string[], help: string): (LoadedConfig & { get: ReturnType<typeof reader> }) | undefined {
  const config = loadConfig(specs, argv);
  if (config.help) {
    console.log(help);
    return undefined;
  }
  return { ...config, get: reader(config.values) };
}

/**
 * The API server's URL as a pod sees it (KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT,
 * which Kubernetes sets in every container); undefined outside a pod.
 */
export function inClusterApiServerUrl(env: Readonly<Record<string, string | undefined>> = process.env): string | undefined {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  if (!host || !port) return undefined;
  return `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
}
