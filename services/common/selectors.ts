/** Kubernetes label and field selectors, enough of them for list and watch filtering. */

type Requirement = (labels: Record<string, string>) => boolean;

/** Splits on commas that are not inside parentheses. */
function splitTerms(selector: string): string[] {
  const terms: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of selector) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      terms.push(current.trim());
      current = '';
    } else current += ch;
  }
  if (current.trim()) terms.push(current.trim());
  return terms;
}

/** Parses `a=b,c!=d,e,!f,g in (x,y),h notin (z)`; throws on anything else. */
export function parseLabelSelector(selector: string): Requirement {
  const requirements: Requirement[] = splitTerms(selector).map((term) => {
    let m: RegExpMatchArray | null;
    if ((m = term.match(/^([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)$/))) {
      const [, key, op, list] = m as unknown as [string, string, string, string];
      const values = new Set(list.split(',').map((v) => v.trim()));
      return op === 'in' ? (l) => l[key] !== undefined && values.has(l[key]!) : (l) => l[key] === undefined || !values.has(l[key]!);
    }
    if ((m = term.match(/^([\w./-]+)\s*(==|=|!=)\s*([\w./-]*)$/))) {
      const [, key, op, value] = m as unknown as [string, string, string, string];
      return op === '!=' ? (l) => l[key] !== value : (l) => l[key] === value;
    }
    if ((m = term.match(/^!([\w./-]+)$/))) {
      const key = m[1]!;
      return (l) => l[key] === undefined;
    }
    if ((m = term.match(/^([\w./-]+)$/))) {
      const key = m[1]!;
      return (l) => l[key] !== undefined;
    }
    throw new Error(`unable to parse requirement: "${term}"`);
  });
  return (labels) => requirements.every((r) => r(labels));
}

/** Parses `metadata.name=x,spec.nodeName!=y` into a predicate over the object's dotted paths. */
export function parseFieldSelector(selector: string): (object: unknown) => boolean {
  const requirements = splitTerms(selector).map((term) => {
    const m = term.match(/^([\w.]+)\s*(==|=|!=)\s*(.*)$/);
    if (!m) throw new Error(`invalid field selector: "${term}"`);
    const [, path, op, value] = m as unknown as [string, string, string, string];
    return (object: unknown) => {
      const actual = path.split('.').reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), object);
      const text = actual === undefined || actual === null ? '' : String(actual);
      return op === '!=' ? text !== value : text === value;
    };
  });
  return (object) => requirements.every((r) => r(object));
}
