import { ConfigError, type ConfigProblem } from '../errors';

export type Env = Readonly<Record<string, string | undefined>>;

/**
 * Reads typed values from an environment, collecting every problem so that one start
 * reports all bad variables at once. Call `done()` last: it throws a ConfigError naming each.
 */
export class EnvReader {
  private readonly problems: ConfigProblem[] = [];

  constructor(private readonly env: Env) {}

  string(name: string, fallback?: string): string {
    const raw = this.raw(name);
    if (raw !== undefined) return raw;
    if (fallback !== undefined) return fallback;
    this.problems.push({ variable: name, reason: 'is required but not set' });
    return '';
  }

  /** A string that must match `pattern`; `description` says what is expected in the error. */
  matching(name: string, pattern: RegExp, description: string, fallback: string): string {
    const raw = this.raw(name);
    if (raw === undefined) return fallback;
    if (pattern.test(raw)) return raw;
    this.problems.push({ variable: name, reason: `must be ${description}, got '${raw}'` });
    return fallback;
  }

  optionalString(name: string): string | undefined {
    return this.raw(name);
  }

  integer(name: string, fallback: number, range: { min?: number; max?: number } = {}): number {
    const raw = this.raw(name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    const { min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER } = range;
    if (!/^-?\d+$/.test(raw) || !Number.isSafeInteger(value)) {
      this.problems.push({ variable: name, reason: `must be a whole number, got '${raw}'` });
      return fallback;
    }
    if (value < min || value > max) {
      this.problems.push({ variable: name, reason: `must be between ${min} and ${max}, got ${value}` });
      return fallback;
    }
    return value;
  }

  port(name: string, fallback: number): number {
    return this.integer(name, fallback, { min: 1, max: 65535 });
  }

  url(name: string, protocols: readonly string[], fallback?: string): string {
    const value = this.raw(name) ?? fallback;
    if (value === undefined) {
      this.problems.push({ variable: name, reason: 'is required but not set' });
      return '';
    }
    let parsed: URL;
    try {
      parsed = new URL(value);
    } catch {
      this.problems.push({ variable: name, reason: `must be a URL (${protocols.join(' or ')}), got '${value}'` });
      return value;
    }
    if (!protocols.includes(parsed.protocol.replace(/:$/, ''))) {
      this.problems.push({ variable: name, reason: `must use ${protocols.join(' or ')}, got '${parsed.protocol}'` });
    }
    return value;
  }

  /** A comma-separated list of host:port pairs, e.g. KAFKA_BROKERS. */
  hostPorts(name: string, fallback?: string): string[] {
    const value = this.raw(name) ?? fallback;
    if (value === undefined) {
      this.problems.push({ variable: name, reason: 'is required but not set' });
      return [];
    }
    const items = value.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
    const bad = items.filter((s) => {
      const m = /^[^\s:]+:(\d{1,5})$/.exec(s);
      return !m || Number(m[1]) < 1 || Number(m[1]) > 65535;
    });
    if (items.length === 0 || bad.length > 0) {
      this.problems.push({ variable: name, reason: `must be a comma-separated list of host:port, got '${value}'` });
    }
    return items;
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const raw = this.raw(name);
    if (raw === undefined) return fallback;
    if ((allowed as readonly string[]).includes(raw)) return raw as T;
    this.problems.push({ variable: name, reason: `must be one of ${allowed.join(', ')}, got '${raw}'` });
    return fallback;
  }

  boolean(name: string, fallback: boolean): boolean {
    const raw = this.raw(name);
    if (raw === undefined) return fallback;
    if (['1', 'true', 'yes'].includes(raw.toLowerCase())) return true;
    if (['0', 'false', 'no'].includes(raw.toLowerCase())) return false;
    this.problems.push({ variable: name, reason: `must be true or false, got '${raw}'` });
    return fallback;
  }

  /** Records a problem only the caller can see, e.g. between two variables' values. */
  reject(name: string, reason: string): void {
    this.problems.push({ variable: name, reason });
  }

  /** Throws one ConfigError listing every problem found so far. */
  done(): void {
    if (this.problems.length > 0) throw new ConfigError([...this.problems]);
  }

  private raw(name: string): string | undefined {
    const value = this.env[name];
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  }
}
