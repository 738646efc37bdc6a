/**
 * Heapster-style URIs, `<kind>:<url>?<options>` (sources and sinks): splitting, option reading with
 * every problem collected, and URL checks.
 */
/** Reads the `?a=b&c=d` options of a Heapster URI, collecting every problem instead of stopping at the first. */
export class OptionReader {
  readonly problems: string[] = [];
  constructor(
    private readonly params: URLSearchParams,
    known: readonly string[],
  ) {
    for (const key of new Set(params.keys())) {
      if (!known.includes(key)) this.problems.push(`unknown option "${key}" (known: ${known.join(', ')})`);
    }
  }
  string(key: string, fallback: string): string {
    return this.params.get(key) ?? fallback;
  }
  optional(key: string): string | undefined {
    const value = this.params.get(key);
    return value === null || value === '' ? undefined : value;
  }
  boolean(key: string, fallback: boolean): boolean {
    const value = this.params.get(key);
    if (value === null || value === '') return fallback;
    if (/^(true|1)$/i.test(value)) return true;
    if (/^(false|0)$/i.test(value)) return false;
    this.problems.push(`${key}=${value}: must be true or false`);
    return fallback;
  }
  integer(key: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
    const value = this.params.get(key);
    if (value === null || value === '') return fallback;
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) {
      this.problems.push(`${key}=${value}: must be a whole number of at least ${min}${max < Number.MAX_SAFE_INTEGER ? ` and at most ${max}` : ''}`);
      return fallback;
    }
    return n;
  }
  all(key: string): string[] {
    return this.params.getAll(key).flatMap((v) => v.split(',')).filter((v) => v !== '');
  }
}

export function splitUri(text: string): { base: string; params: URLSearchParams } {
  const question = text.indexOf('?');
  return { base: question < 0 ? text : text.slice(0, question), params: new URLSearchParams(question < 0 ? '' : text.slice(question + 1)) };
}

export function checkHttpUrl(text: string, problems: string[]): string {
  try {
    const url = new URL(text);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') problems.push(`${text}: must be an http or https URL`);
    return text.replace(/\/+$/, '');
  } catch {
    problems.push(`${text}: not a URL`);
    return text;
  }
}

