import { celEnv, isCelError, parse, plan, type CelInput } from '@bufbuild/cel';

/** A compiled CEL condition: parsed once at policy load, evaluated per customer. */
export interface CelRule {
  readonly source: string;
  /** Every identifier the expression reads: checked against the known variables at load. */
  readonly identifiers: readonly string[];
  evaluate(vars: Readonly<Record<string, number | string | boolean>>): boolean;
}

export class CelRuleError extends Error {}

/** Collects identifier names in the parsed expression tree, and the names comprehensions bind. */
function collectNames(node: unknown, idents: Set<string>, bound: Set<string>): void {
  if (Array.isArray(node)) {
    for (const child of node) collectNames(child, idents, bound);
    return;
  }
  if (typeof node !== 'object' || node === null) return;
  const n = node as { case?: unknown; value?: Record<string, unknown> };
  if (n.case === 'identExpr' && typeof n.value?.['name'] === 'string') idents.add(n.value['name']);
  if (n.case === 'comprehensionExpr' && n.value) {
    for (const key of ['iterVar', 'iterVar2', 'accuVar']) if (typeof n.value[key] === 'string') bound.add(n.value[key]);
  }
  for (const [key, child] of Object.entries(node)) if (key !== '$typeName') collectNames(child, idents, bound);
}

function identifiersOf(expr: unknown): string[] {
  const idents = new Set<string>();
  const bound = new Set<string>();
  collectNames(expr, idents, bound);
  return [...idents].filter((i) => !bound.has(i)).sort();
}

const env = celEnv();

/** Parses a CEL boolean expression; throws CelRuleError with the parser's message when it is not CEL. */
export function compileCelRule(source: string): CelRule {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(source);
  } catch (err) {
    throw new CelRuleError(`not a CEL expression: ${(err as Error).message.split('\n')[0]}`);
  }
  const run = plan(env, parsed);
  return {
    source,
    identifiers: identifiersOf(parsed.expr),
    evaluate(vars) {
      const result = run(vars as Record<string, CelInput>);
      if (isCelError(result)) throw new CelRuleError(`'${source}' failed: ${result.message}`);
      if (typeof result !== 'boolean') throw new CelRuleError(`'${source}' must be true or false, got ${String(result)}`);
      return result;
    },
  };
}
