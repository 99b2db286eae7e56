// docker-compose.yml and Dockerfile, checked without Docker: the compose file against the
// Compose Specification's JSON schema, the workers' environment against what the workers
// read (WORKER_ENV_VARIABLES), and every name and port the file refers to against what
// it declares.
import fs from 'node:fs';
import path from 'node:path';
import Ajv, { type ValidateFunction } from 'ajv';
import { parse } from 'yaml';
import { ENDPOINT_VARIABLES, WORKER_ENV_VARIABLES, WORKER_NAMES, type WorkerName } from '@tierstream/runtime';
import { NOTIFIER_ENV_VARIABLES } from '../../services/notifier/src/notifier-settings';
import { SCORING_ENV_VARIABLES } from '../../services/scoring/src/scoring-settings';

/** Each worker's own variables, beside the shared ones. */
const OWN_VARIABLES: Record<WorkerName, readonly string[]> = {
  ingest: [],
  scoring: SCORING_ENV_VARIABLES,
  notifier: NOTIFIER_ENV_VARIABLES,
};
import { stackSettingsFromEnv } from '../../services/cli/src/stack/settings';

const ROOT = path.resolve(__dirname, '..', '..');
const COMPOSE_FILE = path.join(ROOT, 'docker-compose.yml');
const DOCKERFILE = path.join(ROOT, 'Dockerfile');
/** The one-shot service that creates topics and registers schemas before the workers start. */
const PROVISION = 'provision';

type Json = Record<string, unknown>;

function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function record(value: unknown, where: string): Json {
  if (!isRecord(value)) throw new Error(`${where}: expected a mapping, got ${JSON.stringify(value)}`);
  return value;
}

function str(value: unknown, where: string): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  throw new Error(`${where}: expected a string, got ${JSON.stringify(value)}`);
}

/** The compose file as `docker compose` reads it: YAML merge keys (`<<: *worker`) resolved. */
function loadCompose(): Json {
  return record(parse(fs.readFileSync(COMPOSE_FILE, 'utf8'), { merge: true }), 'docker-compose.yml');
}

/** The Compose Specification's JSON schema (compose-spec/compose-spec schema/compose-spec.json) as dclint ships it. */
function loadComposeSchema(): Json {
  const dir = path.dirname(require.resolve('dclint/package.json'));
  return record(JSON.parse(fs.readFileSync(path.join(dir, 'schemas', 'compose.schema.json'), 'utf8')), 'compose schema');
}

function composeValidator(): ValidateFunction {
  const schema = loadComposeSchema();
  // The schema names draft-07 by its https URI; Ajv registers draft-07 under the canonical one.
  expect(schema['$schema']).toMatch(/^https?:\/\/json-schema\.org\/draft-07\/schema#?$/);
  // strictTypes off: the upstream schema leaves "type" implicit beside additionalProperties.
  const ajv = new Ajv({ allErrors: true, allowUnionTypes: true, strictTypes: false });
  return ajv.compile({ ...schema, $schema: 'http://json-schema.org/draft-07/schema#' });
}

function services(compose: Json): Record<string, Json> {
  const all = record(compose['services'], 'services');
  return Object.fromEntries(Object.entries(all).map(([name, s]) => [name, record(s, `services.${name}`)]));
}

function service(compose: Json, name: string): Json {
  const s = services(compose)[name];
  if (s === undefined) throw new Error(`docker-compose.yml has no service "${name}"`);
  return s;
}

/** A service's environment, from either the mapping or the KEY=VALUE list form. */
function environment(s: Json, where: string): Record<string, string> {
  const env = s['environment'];
  if (env === undefined) return {};
  if (Array.isArray(env)) {
    return Object.fromEntries(
      env.map((entry, i) => {
        const text = str(entry, `${where}.environment[${i}]`);
        const eq = text.indexOf('=');
        if (eq < 0) throw new Error(`${where}.environment[${i}]: "${text}" has no value`);
        return [text.slice(0, eq), text.slice(eq + 1)];
      }),
    );
  }
  return Object.fromEntries(Object.entries(record(env, `${where}.environment`)).map(([k, v]) => [k, str(v, `${where}.environment.${k}`)]));
}

interface PortMapping {
  readonly published: number | undefined;
  readonly target: number;
}

/** `ports:` in short ("[ip:]host:container") or long ({ target, published }) syntax; tcp only. */
function ports(s: Json, where: string): PortMapping[] {
  const list = s['ports'] ?? [];
  if (!Array.isArray(list)) throw new Error(`${where}.ports: expected a list`);
  return list.map((entry, i) => {
    if (isRecord(entry)) {
      const published = entry['published'];
      return { target: Number(entry['target']), published: published === undefined ? undefined : Number(published) };
    }
    const parts = str(entry, `${where}.ports[${i}]`).replace(/\/tcp$/, '').split(':');
    const target = Number(parts[parts.length - 1]);
    return { target, published: parts.length > 1 ? Number(parts[parts.length - 2]) : undefined };
  });
}

interface DependsOn {
  readonly [service: string]: string;
}

function dependsOn(s: Json, where: string): DependsOn {
  const deps = s['depends_on'] ?? {};
  if (Array.isArray(deps)) return Object.fromEntries(deps.map((d, i) => [str(d, `${where}.depends_on[${i}]`), 'service_started']));
  return Object.fromEntries(Object.entries(record(deps, `${where}.depends_on`)).map(([name, d]) => [name, str(record(d, `${where}.depends_on.${name}`)['condition'], `${where}.depends_on.${name}.condition`)]));
}

interface Build {
  readonly context: string;
  readonly dockerfile: string;
  readonly target: string | undefined;
}

function build(s: Json, where: string): Build | undefined {
  const b = s['build'];
  if (b === undefined) return undefined;
  if (typeof b === 'string') return { context: b, dockerfile: 'Dockerfile', target: undefined };
  const m = record(b, `${where}.build`);
  return {
    context: m['context'] === undefined ? '.' : str(m['context'], `${where}.build.context`),
    dockerfile: m['dockerfile'] === undefined ? 'Dockerfile' : str(m['dockerfile'], `${where}.build.dockerfile`),
    target: m['target'] === undefined ? undefined : str(m['target'], `${where}.build.target`),
  };
}

/** Services built from this repository's root Dockerfile. */
function builtFromRootDockerfile(compose: Json): string[] {
  return Object.entries(services(compose))
    .filter(([name, s]) => {
      const b = build(s, `services.${name}`);
      return b !== undefined && path.resolve(ROOT, b.context) === ROOT && path.resolve(ROOT, b.context, b.dockerfile) === DOCKERFILE;
    })
    .map(([name]) => name);
}

function workerServices(compose: Json): string[] {
  return builtFromRootDockerfile(compose).filter((name) => name !== PROVISION);
}

interface Listener {
  readonly name: string;
  readonly host: string;
  readonly port: number;
}

/** Kafka's `NAME://host:port,...` listener lists (host may be empty: all interfaces). */
function listeners(value: string | undefined): Listener[] {
  if (value === undefined) return [];
  return value.split(',').map((l) => {
    const m = /^([A-Za-z0-9_]+):\/\/([^:]*):(\d+)$/.exec(l.trim());
    if (!m) throw new Error(`not a listener: "${l}"`);
    return { name: m[1] ?? '', host: m[2] ?? '', port: Number(m[3]) };
  });
}

interface DockerStage {
  readonly name: string | undefined;
  readonly from: string;
  readonly cmd: string | undefined;
  readonly user: string | undefined;
}

/** The stages of a Dockerfile: `FROM [--flags] image [AS name]`, with each stage's last CMD and USER. */
function dockerStages(text: string): DockerStage[] {
  const stages: { name: string | undefined; from: string; cmd: string | undefined; user: string | undefined }[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const from = /^FROM\s+(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?\s*$/i.exec(line);
    if (from) {
      stages.push({ from: from[1] ?? '', name: from[2]?.toLowerCase(), cmd: undefined, user: undefined });
      continue;
    }
    const current = stages[stages.length - 1];
    const instr = /^(CMD|USER)\s+(.*)$/i.exec(line);
    if (current && instr) {
      if (instr[1]?.toUpperCase() === 'CMD') current.cmd = instr[2];
      else current.user = instr[2];
    }
  }
  return stages;
}

/** A stage's effective USER: its own, else that of the stage it builds on. */
function effectiveUser(stages: readonly DockerStage[], stage: DockerStage): string | undefined {
  if (stage.user !== undefined) return stage.user;
  const parent = stages.find((s) => s.name === stage.from.toLowerCase());
  return parent === undefined ? undefined : effectiveUser(stages, parent);
}

describe('docker-compose.yml', () => {
  const compose = loadCompose();

  describe('against the Compose Specification schema', () => {
    const validate = composeValidator();

    it('is valid', () => {
      validate(compose);
      expect(validate.errors ?? []).toEqual([]);
    });

    const broken: [string, (c: Json) => void][] = [
      ['a port that is a number, not a list', (c) => (service(c, 'redis')['ports'] = 12)],
      ['an unknown top-level key', (c) => (c['servcies'] = {})],
      ['an unknown service key', (c) => (service(c, 'kafka')['healthcheck_'] = {})],
      ['a depends_on condition that does not exist', (c) => (record(service(c, 'ingest')['depends_on'], 'depends_on')['kafka'] = { condition: 'service_ready' })],
    ];
    it.each(broken)('rejects a copy with %s', (_what, breakIt) => {
      const copy = structuredClone(compose);
      breakIt(copy);
      expect(validate(copy)).toBe(false);
    });
  });

  describe('workers', () => {
    it('are exactly the WORKER_NAMES, each built from the root Dockerfile', () => {
      expect(workerServices(compose).sort()).toEqual([...WORKER_NAMES].sort());
      expect(builtFromRootDockerfile(compose)).toContain(PROVISION);
    });

    describe.each(WORKER_NAMES)('%s', (worker) => {
      const s = service(compose, worker);
      const env = environment(s, worker);

      it('sets only variables the workers read, and every endpoint', () => {
        const readable = [...WORKER_ENV_VARIABLES, ...OWN_VARIABLES[worker]];
        for (const name of Object.keys(env)) expect(readable).toContain(name);
        for (const name of ENDPOINT_VARIABLES) expect(env[name]?.trim() ?? '').not.toBe('');
      });

      it('reaches Kafka on a listener the broker advertises to other containers', () => {
        const brokers = (env['KAFKA_BROKERS'] ?? '').split(',');
        expect(brokers.length).toBeGreaterThan(0);
        for (const broker of brokers) {
          const [host = '', port = ''] = broker.trim().split(':');
          const kafkaEnv = environment(service(compose, host), host);
          const advertised = listeners(kafkaEnv['KAFKA_ADVERTISED_LISTENERS']).find((l) => l.host === host && l.port === Number(port));
          expect(advertised).toBeDefined();
          expect(listeners(kafkaEnv['KAFKA_LISTENERS'])).toContainEqual(expect.objectContaining({ name: advertised?.name, port: Number(port) }));
        }
      });

      it('reaches the schema registry at its root on the port it listens on', () => {
        const url = new URL(env['SCHEMA_REGISTRY_URL'] ?? '');
        expect(url.protocol).toBe('http:');
        expect(url.pathname).toBe('/');
        const registry = service(compose, url.hostname);
        const listens = new URL(environment(registry, url.hostname)['SCHEMA_REGISTRY_LISTENERS'] ?? '');
        expect(url.port).toBe(listens.port);
        expect(ports(registry, url.hostname).map((p) => p.target)).toContain(Number(url.port));
      });

      it('reaches Redis on its container port', () => {
        const url = new URL(env['REDIS_URL'] ?? '');
        expect(url.protocol).toBe('redis:');
        const redis = service(compose, url.hostname);
        expect(String(redis['image'])).toMatch(/^redis:/);
        expect(ports(redis, url.hostname).map((p) => p.target)).toContain(Number(url.port));
      });

      it('waits for healthy backing services and a successful provision, and has its own health check and host port', () => {
        const deps = dependsOn(s, worker);
        const backing = [...new Set([...(env['KAFKA_BROKERS'] ?? '').split(',').map((b) => b.split(':')[0] ?? ''), new URL(env['SCHEMA_REGISTRY_URL'] ?? '').hostname, new URL(env['REDIS_URL'] ?? '').hostname])];
        for (const name of backing) {
          expect(deps[name]).toBe('service_healthy');
          expect(service(compose, name)['healthcheck']).toBeDefined();
        }
        expect(deps[PROVISION]).toBe('service_completed_successfully');
        const port = Number(env['HTTP_PORT']);
        expect(JSON.stringify(record(s['healthcheck'], `${worker}.healthcheck`)['test'])).toContain(`http://localhost:${port}/healthz`);
        expect(ports(s, worker).map((p) => p.target)).toEqual([port]);
      });
    });

    it('publish distinct host ports', () => {
      const published = Object.values(services(compose)).flatMap((s) => ports(s, 'service').map((p) => p.published));
      expect(published).not.toContain(undefined);
      expect(new Set(published).size).toBe(published.length);
    });
  });

  describe('provision', () => {
    it('applies topics, then registers schemas, against the endpoints the workers use', () => {
      const s = service(compose, PROVISION);
      const command = JSON.stringify(s['command']);
      expect(command).toMatch(/services\/cli\/dist\/main\.js topics apply.*&&.*services\/cli\/dist\/main\.js schemas register/);
      const env = environment(s, PROVISION);
      for (const worker of WORKER_NAMES) {
        const workerEnv = environment(service(compose, worker), worker);
        for (const name of ENDPOINT_VARIABLES) expect(env[name]).toBe(workerEnv[name]);
      }
    });
  });

  it('publishes the backing services on the local stack ports, so the same host endpoints work with either', () => {
    const local = stackSettingsFromEnv({}).ports;
    const kafkaEnv = environment(service(compose, 'kafka'), 'kafka');
    const forHost = listeners(kafkaEnv['KAFKA_ADVERTISED_LISTENERS']).find((l) => l.host === 'localhost');
    expect(forHost?.port).toBe(local.kafka);
    expect(ports(service(compose, 'kafka'), 'kafka')).toContainEqual({ published: local.kafka, target: local.kafka });
    expect(ports(service(compose, 'schema-registry'), 'schema-registry').map((p) => p.published)).toContain(local.registry);
    expect(ports(service(compose, 'redis'), 'redis').map((p) => p.published)).toContain(local.redis);
    expect(kafkaEnv['KAFKA_AUTO_CREATE_TOPICS_ENABLE']).toBe('false');
  });
});

describe('Dockerfile', () => {
  const stages = dockerStages(fs.readFileSync(DOCKERFILE, 'utf8'));
  const compose = loadCompose();

  it('has every stage that docker-compose.yml builds', () => {
    const names = stages.map((s) => s.name);
    const targets = builtFromRootDockerfile(compose).map((name) => build(service(compose, name), name)?.target);
    expect(targets.length).toBeGreaterThan(0);
    for (const target of targets) {
      // Without a target compose builds the last stage.
      expect(names).toContain(target ?? stages[stages.length - 1]?.name);
    }
  });

  it('runs each worker entry point in the stage its service builds, as a non-root user', () => {
    for (const worker of WORKER_NAMES) {
      const target = build(service(compose, worker), worker)?.target;
      const stage = stages.find((s) => s.name === target);
      expect(stage).toBeDefined();
      if (stage === undefined) continue;
      const command = service(compose, worker)['command'];
      const runs = command === undefined ? stage.cmd : JSON.stringify(command);
      expect(runs).toContain(`services/${worker}/dist/main.js`);
      expect(effectiveUser(stages, stage)).toBe('node');
    }
  });

  it('builds and runs on node:22-bookworm-slim', () => {
    const external = stages.filter((s) => !stages.some((t) => t.name === s.from.toLowerCase()));
    expect(external.map((s) => s.from)).toEqual(external.map(() => 'node:22-bookworm-slim'));
    expect(stages.map((s) => s.name)).toEqual(expect.arrayContaining(['build', 'runtime']));
  });
});
