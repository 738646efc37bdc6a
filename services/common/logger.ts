/**
 * One JSON line per log record on stderr: `{"time","level","role","msg",...fields}`.
 * Fields named like a secret (token, password, authorization) are never printed.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };
export const LOG_LEVELS = Object.keys(RANK) as LogLevel[];
const SECRET = /token|password|secret|authorization|apikey/i;

export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
}

export function createLogger(role: string, level: LogLevel = 'info', write: (line: string) => void = (line) => process.stderr.write(line)): Logger {
  const emit = (at: Exclude<LogLevel, 'silent'>, msg: string, fields?: LogFields): void => {
    if (RANK[at] < RANK[level]) return;
    const record: LogFields = { time: new Date().toISOString(), level: at, role, msg };
    for (const [key, value] of Object.entries(fields ?? {})) {
      record[key] = SECRET.test(key) ? '[redacted]' : value instanceof Error ? value.message : value;
    }
    write(`${JSON.stringify(record)}\n`);
  };
  return {
    debug: (msg, fields) => emit('debug', msg, fields),
    info: (msg, fields) => emit('info', msg, fields),
    warn: (msg, fields) => emit('warn', msg, fields),
    error: (msg, fields) => emit('error', msg, fields),
  };
}

/** Query options of a URI whose values are secrets: `pw` (InfluxDB), and any named like a token, password, secret or API key. */
const SECRET_OPTION = /^pw$|token|password|secret|apikey/i;

/**
 * `text` with what a URL or Heapster URI in it may carry as a secret replaced by `[redacted]`: the
 * password of a URL's user info (`redis://:pw@host`, `http://user:pw@host`) and the values of
 * secret options (`?pw=`, `&token=`, `&esUserSecret=`, `&apiKey=`). For messages that echo what
 * an operator gave, such as configuration errors, which go to the logs.
 */
export function redactSecrets(text: string): string {
  return text
    .replace(/([a-z][a-z0-9+.-]*:\/\/[^\s/:@"]*):[^\s/@"]*@/gi, '$1:[redacted]@')
    .replace(/([?&])([^=&\s"]+)=([^&\s"]*)/g, (option: string, separator: string, name: string) => (SECRET_OPTION.test(name) ? `${separator}${name}=[redacted]` : option));
}

/** A URL fit for a log: user and password removed. */
export function redactUrl(text: string): string {
  try {
    const url = new URL(text);
    if (url.password || url.username) {
      url.username = '';
      url.password = '';
    }
    return url.toString();
  } catch {
    return '[unparsable url]';
  }
}

/**
 * A warning logged at most once per `intervalMs` (with the count of the ones held back): for
 * errors that repeat on every reconnect attempt while a server is down.
 */
export function throttledWarning(logger: Logger, msg: string, intervalMs = 30_000): (fields: LogFields) => void {
  let lastLoggedMs = 0;
  let suppressed = 0;
  return (fields) => {
    const now = Date.now();
    if (now - lastLoggedMs < intervalMs) {
      suppressed++;
      return;
    }
    logger.warn(msg, { ...fields, ...(suppressed > 0 ? { suppressedSinceLast: suppressed } : {}) });
    lastLoggedMs = now;
    suppressed = 0;
  };
}
