import { SecretRegistry } from './redact';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** A logger whose lines all carry `fields` (the invocation's requestId, the trigger…). */
  child(fields: LogFields): Logger;
}

export interface LoggerOptions {
  level: LogLevel;
  secrets: SecretRegistry;
  /** One JSON line, no newline. FC collects stdout into the function's Logstore. */
  write?: (line: string) => void;
  nowMs?: () => number;
}

/** One JSON object per line, every field passed through the redactor. */
export function createLogger(options: LoggerOptions, bound: LogFields = {}): Logger {
  const write = options.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  const nowMs = options.nowMs ?? Date.now;
  const emit = (level: LogLevel, message: string, fields?: LogFields) => {
    if (RANK[level] < RANK[options.level]) return;
    write(options.secrets.serialize({ time: new Date(nowMs()).toISOString(), level, message, ...bound, ...fields }));
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    // Hot path: Object.assign, not a spread (docs/ARCHITECTURE.md, Conventions).
    child: (fields) => createLogger(options, Object.assign({}, bound, fields)),
  };
}
