// Keeps the docs true where a machine can tell: error codes, variable names, the default
// policy's lines as docs/policy.md quotes them, and the webhook example in docs/notifier.md.
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { transitionId } from '@tierstream/domain';
import { ErrorCodes, WORKER_ENV_VARIABLES } from '@tierstream/runtime';
import { INGEST_ENV_VARIABLES } from '../../services/ingest/src/config';
import { NOTIFIER_ENV_VARIABLES } from '../../services/notifier/src/notifier-settings';
import { WebhookSigner } from '../../services/notifier/src/signing';
import { SCORING_ENV_VARIABLES } from '../../services/scoring/src/scoring-settings';

const ROOT = path.resolve(__dirname, '..', '..');
const read = (file: string): string => fs.readFileSync(path.join(ROOT, file), 'utf8');
const DOCS = ['README.md', ...fs.readdirSync(path.join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

/** Every occurrence of `pattern` in every doc, as `file: match`. */
function mentions(pattern: RegExp): { file: string; match: string }[] {
  return DOCS.flatMap((file) => [...read(file).matchAll(pattern)].map((m) => ({ file, match: m[0] })));
}

/** The text of one `## heading` section of a markdown document (up to the next `## `). */
function section(text: string, heading: string): string {
  const start = text.indexOf(`\n## ${heading}\n`);
  if (start === -1) throw new Error(`no section '## ${heading}'`);
  const rest = text.slice(start + heading.length + 5);
  const end = rest.search(/^## /m);
  return end === -1 ? rest : rest.slice(0, end);
}

/** A YAML line compared as text: no trailing comment, single spaces. */
const normalise = (line: string): string =>
  line
    .replace(/\s+#.*$/, '')
    .replace(/\s+/g, ' ')
    .trim();

describe('docs name only error codes that exist', () => {
  const codes = Object.keys(ErrorCodes);
  // `TS_ERR_INGEST_*` stands for a family: some code must start with it.
  it.each(mentions(/TS_ERR_[A-Z0-9_]*[A-Z0-9](_\*)?/g).map((m) => [m.file, m.match]))('%s: %s', (_file, code) => {
    if (code.endsWith('_*')) expect(codes.some((c) => c.startsWith(code.slice(0, -1)))).toBe(true);
    else expect(codes).toContain(code);
  });
});

describe('docs name only environment variables the workers read', () => {
  const known = new Set<string>([...WORKER_ENV_VARIABLES, ...INGEST_ENV_VARIABLES, ...SCORING_ENV_VARIABLES, ...NOTIFIER_ENV_VARIABLES]);
  // `INGEST_ENV_VARIABLES` and the like name the lists themselves.
  const named = mentions(/\b(?:INGEST|SCORING|NOTIFIER)_[A-Z0-9_]*[A-Z0-9]\b/g).map((m) => m.match).filter((n) => !n.endsWith('_ENV_VARIABLES'));
  it.each([...new Set(named)])('%s', (name) => {
    expect([...known]).toContain(name);
  });
});

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces as hyphens. */
const slug = (heading: string): string =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');

describe('links between the docs point at files and headings that exist', () => {
  const links = DOCS.flatMap((file) =>
    [...read(file).matchAll(/\]\(([^)\s]+)\)/g)]
      .map((m) => m[1] ?? '')
      .filter((target) => !/^[a-z]+:/.test(target))
      .map((target) => ({ file, target })),
  );
  it.each(links.map((l) => [l.file, l.target]))('%s -> %s', (file, target) => {
    const [relative = '', anchor] = target.split('#');
    const resolved = relative === '' ? file : path.relative(ROOT, path.resolve(ROOT, path.dirname(file), relative));
    expect(fs.existsSync(path.join(ROOT, resolved))).toBe(true);
    if (anchor !== undefined && resolved.endsWith('.md')) {
      const headings = [...read(resolved).matchAll(/^#+ (.+)$/gm)].map((m) => slug(m[1] ?? ''));
      expect(headings).toContain(anchor);
    }
  });
});

describe('docs name only metrics the code registers', () => {
  const sources = (dir: string): string[] =>
    fs.readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
      const full = path.join(dir, d.name);
      if (d.isDirectory()) return d.name === 'dist' || d.name === 'node_modules' ? [] : sources(full);
      return d.name.endsWith('.ts') && !d.name.endsWith('.test.ts') ? [full] : [];
    });
  const registered = new Set(sources(path.join(ROOT, 'services')).flatMap((f) => [...fs.readFileSync(f, 'utf8').matchAll(/name: '(tierstream_[a-z0-9_]+)'/g)].map((m) => m[1])));
  it.each([...new Set(mentions(/\btierstream_[a-z0-9_]*[a-z0-9]\b/g).map((m) => m.match))])('%s', (name) => {
    expect([...registered]).toContain(name);
  });
});

describe('docs/policy.md quotes policies/default.yaml as it is', () => {
  const file = read('policies/default.yaml');
  const explained = section(read('docs/policy.md'), 'policies/default.yaml explained');
  const fileLines = new Set(file.split('\n').map(normalise));

  it('shows the version the file has', () => {
    const shown = /^version:\s*(.+)$/m.exec(explained)?.[1];
    expect(shown).toBeDefined();
    expect(String(parse(`v: ${shown}`).v)).toBe(String((parse(file) as { version: unknown }).version));
  });

  // Lines of its yaml blocks and of its tables' first cells; `…` marks an elided line.
  const quoted = [
    ...[...explained.matchAll(/```yaml\n([\s\S]*?)```/g)].flatMap((m) => (m[1] ?? '').split('\n')),
    ...[...explained.matchAll(/^\| `([a-z_0-9]+: \{.*?\})` \|/gm)].map((m) => m[1] ?? ''),
  ]
    .map(normalise)
    .filter((l) => l !== '' && !l.includes('…'));

  it('quotes lines', () => expect(quoted.length).toBeGreaterThan(20));
  it.each(quoted)('%s', (line) => {
    expect(fileLines.has(line) || fileLines.has(`- ${line}`)).toBe(true);
  });
});

describe('the webhook example in docs/notifier.md', () => {
  const doc = read('docs/notifier.md');
  const example = /### Request\n\n```\n([\s\S]*?)```/.exec(doc)?.[1] ?? '';
  const [head = '', body = ''] = example.split('\n\n');
  const header = (name: string): string | undefined => new RegExp(`^${name}: (.+)$`, 'm').exec(head)?.[1];
  const payload = JSON.parse(body) as { type: string; timestamp: string; data: Record<string, unknown> };
  const schema = JSON.parse(read('schemas/tier-changed.avsc')) as { fields: { name: string }[] };

  it("carries the transition id the domain makes, as webhook-id and as data's transition_id", () => {
    const { data } = payload;
    const id = transitionId(String(data['customer_id']), String(data['dimension']), Number(data['tier_version']));
    expect(data['transition_id']).toBe(id);
    expect(header('webhook-id')).toBe(id);
  });

  it('shows data exactly as on the topic: the fields of schemas/tier-changed.avsc, in order', () => {
    expect(Object.keys(payload.data)).toEqual(schema.fields.map((f) => f.name));
  });

  it("has the transition's emitted_at as timestamp", () => {
    expect(payload.timestamp).toBe(new Date(Number(payload.data['emitted_at'])).toISOString());
  });

  it('is signed as the notifier signs it, with the secrets of the crm subscriber in infra/subscribers.example.yaml', () => {
    const file = parse(read('infra/subscribers.example.yaml')) as { subscribers: { id: string; secrets?: string[] }[] };
    const secrets = file.subscribers.find((s) => s.id === 'crm')?.secrets ?? [];
    const signed = new WebhookSigner(secrets).sign(String(header('webhook-id')), new Date(Number(header('webhook-timestamp')) * 1000), body.trim());
    expect(header('webhook-signature')).toBe(signed['webhook-signature']);
  });
});
