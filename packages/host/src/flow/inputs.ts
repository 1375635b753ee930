import { stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { ConfigError, ErrorCodes } from '@podrun/core';
import type { ConfigIssue } from '@podrun/core';
import { closestMatch } from '@podrun/core';
import { isStorageUri } from '../storage.js';
import type { LocalStorage } from '../storage.js';
import type { Flow, FlowInput } from './schema.js';

/** A FILE input given as a local file. */
export interface FileInputValue {
  path: string;
}

/**
 * Input values as given by a caller: strings (as on the command line) or typed values. A FILE
 * input takes a local path (`{ path }` or a plain string) or a storage URI.
 */
export type InputValues = Record<string, unknown>;

/**
 * Checks, converts and stores the inputs of a flow: types coerced (INT, FLOAT, BOOLEAN, JSON),
 * defaults applied, required ones enforced, FILE inputs streamed into storage and replaced by
 * their URI. Every problem is reported at once.
 */
export async function resolveFlowInputs(
  flow: Flow,
  given: InputValues,
  storage: LocalStorage,
  ids: { executionId: string; cwd: string },
): Promise<Record<string, unknown>> {
  const issues: ConfigIssue[] = [];
  const missing: ConfigIssue[] = [];
  const out: Record<string, unknown> = {};
  const declared = flow.inputs.map((i) => i.id);
  for (const name of Object.keys(given)) {
    if (!declared.includes(name)) {
      const suggestion = closestMatch(name, declared);
      issues.push({
        path: `inputs.${name}`,
        message: `the flow has no input "${name}"${suggestion ? `; did you mean \`${suggestion}\`?` : ''}${declared.length ? ` (inputs: ${declared.join(', ')})` : ''}`,
      });
    }
  }
  for (const input of flow.inputs) {
    const value = given[input.id] !== undefined ? given[input.id] : input.defaults;
    if (value === undefined || value === null) {
      if (input.required !== false)
        missing.push({
          path: `inputs.${input.id}`,
          message: `the ${input.type} input "${input.id}" is required; pass it with --input ${input.id}=${input.type === 'FILE' ? '@path' : 'value'}`,
        });
      else out[input.id] = null;
      continue;
    }
    try {
      out[input.id] = input.type === 'FILE' ? await storeFile(input, value, storage, flow, ids) : coerce(input, value);
    } catch (error) {
      issues.push({ path: `inputs.${input.id}`, message: error instanceof Error ? error.message : String(error) });
    }
  }
  if (issues.length || missing.length) {
    throw new ConfigError([...missing, ...issues], {
      code: missing.length && !issues.length ? ErrorCodes.INPUT_MISSING : ErrorCodes.FLOW_INVALID,
      component: 'inputs',
      title: 'invalid inputs',
    });
  }
  return out;
}

function coerce(input: FlowInput, value: unknown): unknown {
  const text = typeof value === 'string' ? value.trim() : undefined;
  switch (input.type) {
    case 'STRING':
    case 'SECRET':
      return typeof value === 'string' ? value : JSON.stringify(value);
    case 'INT': {
      const n = text !== undefined ? Number(text) : value;
      if (typeof n !== 'number' || !Number.isInteger(n) || text === '')
        throw new Error(`expected an integer, got ${JSON.stringify(value)}`);
      return n;
    }
    case 'FLOAT': {
      const n = text !== undefined ? Number(text) : value;
      if (typeof n !== 'number' || Number.isNaN(n) || text === '')
        throw new Error(`expected a number, got ${JSON.stringify(value)}`);
      return n;
    }
    case 'BOOLEAN':
      if (typeof value === 'boolean') return value;
      if (text === 'true' || text === 'false') return text === 'true';
      throw new Error(`expected true or false, got ${JSON.stringify(value)}`);
    case 'JSON':
      if (typeof value !== 'string') return value;
      try {
        return JSON.parse(value) as unknown;
      } catch {
        throw new Error(`expected JSON, got ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`);
      }
    default:
      return value;
  }
}

async function storeFile(
  input: FlowInput,
  value: unknown,
  storage: LocalStorage,
  flow: Flow,
  ids: { executionId: string; cwd: string },
): Promise<string> {
  const ref = typeof value === 'string' ? value.replace(/^@/, '') : (value as FileInputValue)?.path;
  if (typeof ref !== 'string' || ref === '') throw new Error('expected a file path (@path) or a storage URI');
  if (isStorageUri(ref)) {
    await storage.size(ref);
    return ref;
  }
  const path = resolve(ids.cwd, ref);
  const info = await stat(path).catch(() => undefined);
  if (!info?.isFile()) throw new Error(`${ref} is not a readable file`);
  return storage.putInput(
    { namespace: flow.namespace, flowId: flow.id, executionId: ids.executionId },
    input.id,
    basename(path),
    { path },
  );
}
