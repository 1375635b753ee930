// Secrets: `{{ secret('NAME') }}` resolved as the reference's open-source edition does
// (environment variable SECRET_NAME holding base64), or from podrun's own sources (an environment
// prefix holding plain values, a directory of files as Kubernetes mounts a Secret); and one masker
// per execution that replaces every known secret value, in its common encodings, wherever podrun
// writes: task and runner log lines, errors, stored state, results.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCodes, PodrunError } from '@podrun/core';
import type { Logger } from '@podrun/core';
import type { ExecutionObserver } from './observer.js';
import type { TemplateRenderer, TemplateVars } from './templates.js';

/** podrun's own secret sources, from the host configuration (`secrets:` in podrun.config.yml). */
export interface SecretSources {
  /** Environment variables `<envPrefix><NAME>` holding the plain value (not base64). */
  envPrefix?: string;
  /** A directory with one file per secret, named as the secret (a mounted Kubernetes Secret). */
  dir?: string;
}

/** What replaces a secret value. */
export const MASK = '******';

/**
 * Values shorter than this are not masked: replacing every `a` or `on` would make logs unreadable
 * and tell an observer more (where the short value is not) than it hides.
 */
export const MIN_MASKED_LENGTH = 4;

/** Replaces known secret values; one per execution, filled as secrets are resolved. */
export interface Masker {
  /** Registers a secret value (and its base64, URL and JSON encodings, and each of its lines). */
  add(value: string): void;
  mask(text: string): string;
  /** A copy of a JSON-like value with every string (keys included) masked. */
  maskDeep<T>(value: T): T;
}

/** An empty masker. */
export function createMasker(): Masker {
  const values = new Set<string>();
  let ordered: string[] = [];
  const register = (v: string) => {
    if (v.length >= MIN_MASKED_LENGTH && !values.has(v)) {
      values.add(v);
      // Longest first, so a value containing another is replaced whole.
      ordered = [...values].sort((a, b) => b.length - a.length);
    }
  };
  const mask = (text: string): string => {
    if (ordered.length === 0 || typeof text !== 'string') return text;
    let out = text;
    for (const v of ordered) if (out.includes(v)) out = out.split(v).join(MASK);
    return out;
  };
  const maskDeep = <T>(value: T): T => {
    if (typeof value === 'string') return mask(value) as T;
    if (Array.isArray(value)) return value.map(maskDeep) as T;
    if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) out[mask(k)] = maskDeep(v);
      return out as T;
    }
    return value;
  };
  return {
    add(value) {
      for (const form of [
        value,
        Buffer.from(value).toString('base64'),
        Buffer.from(value).toString('base64url'),
        encodeURIComponent(value),
        JSON.stringify(value).slice(1, -1),
        ...value.split(/\r?\n/),
      ])
        register(form);
    },
    mask,
    maskDeep,
  };
}

/** Resolves secrets by name; every value it returns is registered with the masker first. */
export interface SecretResolver {
  get(name: string): string;
}

/** A resolver over the process environment and podrun's configured sources. */
export function createSecretResolver(options: {
  env: Readonly<Record<string, string | undefined>>;
  sources?: SecretSources;
  masker: Masker;
}): SecretResolver {
  const { env, sources = {}, masker } = options;
  const cache = new Map<string, string>();
  const find = (name: string): string | undefined => {
    const reference = env[`SECRET_${name}`];
    if (reference !== undefined) {
      const encoded = reference.replace(/\s+/g, '');
      const decoded = Buffer.from(encoded, 'base64').toString('utf8');
      if (Buffer.from(decoded).toString('base64').replace(/=+$/, '') !== encoded.replace(/=+$/, '')) {
        throw new PodrunError(
          ErrorCodes.SECRET_NOT_FOUND,
          `secret "${name}": the environment variable SECRET_${name} is not base64 (the reference's open-source edition stores secrets base64-encoded there); encode it (base64 -w0) or use podrun's env prefix (secrets.envPrefix in podrun.config.yml), which takes plain values`,
          { component: 'secrets', details: { secret: name } },
        );
      }
      return decoded;
    }
    if (sources.envPrefix && env[`${sources.envPrefix}${name}`] !== undefined)
      return env[`${sources.envPrefix}${name}`];
    if (sources.dir && /^[A-Za-z0-9._-]+$/.test(name) && existsSync(join(sources.dir, name)))
      return readFileSync(join(sources.dir, name), 'utf8');
    return undefined;
  };
  return {
    get(name) {
      const known = cache.get(name);
      if (known !== undefined) return known;
      const value = find(name);
      if (value === undefined) {
        const looked = [
          `the environment variable SECRET_${name} (base64, as the reference's open-source edition)`,
          ...(sources.envPrefix ? [`${sources.envPrefix}${name}`] : []),
          ...(sources.dir ? [`the file ${join(sources.dir, name)}`] : []),
        ];
        throw new PodrunError(
          ErrorCodes.SECRET_NOT_FOUND,
          `secret "${name}" not found; podrun looked in ${looked.join(', ')}; set one of them${sources.envPrefix || sources.dir ? '' : ', or configure secrets.envPrefix / secrets.dir in podrun.config.yml'}`,
          { component: 'secrets', details: { secret: name } },
        );
      }
      masker.add(value);
      cache.set(name, value);
      return value;
    },
  };
}

const SECRET_CALL = /secret\(\s*(['"])([^'"]+)\1\s*\)/g;

/**
 * A renderer that knows `secret('NAME')`: names in a template are resolved before it is rendered,
 * so a missing secret fails with its own error (naming where podrun looked), not a template error.
 */
export function withSecrets(renderer: TemplateRenderer, resolver: SecretResolver): TemplateRenderer {
  const resolveAll = (value: unknown): void => {
    if (typeof value === 'string') {
      for (const match of value.matchAll(SECRET_CALL)) resolver.get(match[2]!);
    } else if (Array.isArray(value)) value.forEach(resolveAll);
    else if (value && typeof value === 'object')
      Object.entries(value).forEach(([k, v]) => (resolveAll(k), resolveAll(v)));
  };
  const withFn = (vars: TemplateVars): TemplateVars => ({ ...vars, secret: (name: string) => resolver.get(name) });
  return {
    render(template, vars) {
      resolveAll(template);
      return renderer.render(template, withFn(vars));
    },
    renderDeep(value, vars) {
      resolveAll(value);
      return renderer.renderDeep(value, withFn(vars));
    },
  };
}

const OBSERVER_METHODS = [
  'executionStarted',
  'taskQueued',
  'taskStarted',
  'taskLog',
  'runnerLog',
  'taskProgress',
  'taskCached',
  'taskRetrying',
  'workerGroupWaiting',
  'taskFinished',
  'executionFinished',
  'executionRetried',
] as const satisfies readonly (keyof ExecutionObserver)[];

/**
 * The observer with every log line, error and record masked before it sees them. Methods are
 * looked up by name, so an observer that is a class instance (methods on its prototype) works too.
 */
export function maskingObserver(observer: ExecutionObserver, masker: Masker): ExecutionObserver {
  const out: Record<string, unknown> = {};
  for (const key of OBSERVER_METHODS) {
    const fn = observer[key] as ((...args: unknown[]) => unknown) | undefined;
    if (typeof fn !== 'function') continue;
    out[key] = (...args: unknown[]) =>
      fn.apply(
        observer,
        args.map((a) => masker.maskDeep(a)),
      );
  }
  return out as ExecutionObserver;
}

/** The logger with messages and fields masked. */
export function maskingLogger(logger: Logger, masker: Masker): Logger {
  const wrap =
    (level: keyof Logger) =>
    (message: string, fields?: Record<string, unknown>): void =>
      logger[level](masker.mask(message), fields && masker.maskDeep(fields));
  return { debug: wrap('debug'), info: wrap('info'), warn: wrap('warn'), error: wrap('error') };
}
