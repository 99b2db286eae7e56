/** Pieces every benchmark's command line shares. */

/** An integer option (underscores allowed: `1_000_000`), `fallback` when not given. */
export function integer(name: string, text: string | undefined, fallback: number, min: number, max: number): number {
  if (text === undefined) return fallback;
  const n = Number(text.replace(/_/g, ''));
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name}: expected an integer from ${min} to ${max}, got ${text}`);
  return n;
}

/** `--worker-env NAME=value` options as variables. */
export function workerEnvOf(pairs: readonly string[] | undefined): Record<string, string> {
  return Object.fromEntries(
    (pairs ?? []).map((kv) => {
      const m = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(kv);
      if (!m?.[1]) throw new Error(`--worker-env: expected NAME=value, got ${kv}`);
      return [m[1], m[2] ?? ''];
    }),
  );
}

/** The options `parse` makes of argv, or the exit code once usage is printed (0 after --help, 2 after a bad option). */
export function optionsOrExitCode<T extends object>(parse: (argv: readonly string[]) => T | undefined, usage: string, argv: readonly string[]): T | number {
  try {
    const o = parse(argv);
    if (o) return o;
    console.log(usage);
    return 0;
  } catch (err) {
    console.error(`${(err as Error).message}\n\n${usage}`);
    return 2;
  }
}

/** Runs a benchmark's main and exits with its code (1 on a throw). */
export function runMain(main: () => Promise<number>): void {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
