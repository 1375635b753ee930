import { describe, expect, it } from 'vitest';
import { ConfigError, ErrorCodes } from '@podrun/core';
import type { TaskRunner } from '@podrun/core';
import { checkPluginVersion, createRunnerRegistry, registerProcessRunner, hostVersion } from '@podrun/host';
import type { RunnerEnvironment } from '@podrun/host';

const env: RunnerEnvironment = {
  logger: { debug() {}, info() {}, warn() {}, error() {} },
  env: {},
  tempDir: '/tmp',
  shared: (_k, create) => create(),
};
const fake = (type: string): TaskRunner => ({
  type,
  run: async () => ({ exitCode: 0, outputFiles: {}, vars: {}, metrics: [] }),
});

describe('runner registry', () => {
  it('selects runners by type or alias, and lets integrators register their own', async () => {
    const registry = createRunnerRegistry();
    registry.register('com.acme.batch', (config) => fake(String(config.type)), { aliases: ['acme'], version: '2.3.4' });
    registerProcessRunner(registry);
    expect(registry.types()).toEqual(['com.acme.batch', 'io.podrun.process']);
    expect(registry.resolve('acme').type).toBe('com.acme.batch');
    expect(registry.resolve('io.kestra.plugin.core.runner.Process').type).toBe('io.podrun.process');
    expect((await registry.create({ type: 'acme' }, env)).type).toBe('acme');
  });

  it('rejects unknown types with PODRUN_PLUGIN_UNKNOWN and a suggestion', () => {
    const registry = createRunnerRegistry();
    registerProcessRunner(registry);
    let error: unknown;
    try {
      registry.resolve('io.podrun.proces');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).code).toBe(ErrorCodes.PLUGIN_UNKNOWN);
    expect((error as ConfigError).issues[0]!.message).toContain('did you mean `io.podrun.process`');
  });

  it("checks version with the reference's pattern: exact, LATEST, OLDEST; mismatch is PODRUN_PLUGIN_VERSION", async () => {
    expect(() => checkPluginVersion('t', '1.2.3', '1.2.3')).not.toThrow();
    expect(() => checkPluginVersion('t', '1.2.3-rc1', '1.2.3-rc1')).not.toThrow();
    expect(() => checkPluginVersion('t', 'LATEST', '0.1.0')).not.toThrow();
    expect(() => checkPluginVersion('t', 'oldest', '0.1.0')).not.toThrow();
    expect(() => checkPluginVersion('t', undefined, '0.1.0')).not.toThrow();
    for (const [requested, installed] of [
      ['1.2.4', '1.2.3'],
      ['^1.9', '1.9.9'],
      ['NEWEST', '1.0.0'],
      ['not a version!', '1.0.0'],
    ] as const) {
      let error: unknown;
      try {
        checkPluginVersion('t', requested, installed);
      } catch (e) {
        error = e;
      }
      expect((error as ConfigError).code).toBe(ErrorCodes.PLUGIN_VERSION);
    }
    const registry = createRunnerRegistry();
    registerProcessRunner(registry);
    await expect(registry.create({ type: 'io.podrun.process', version: '99.0.0' }, env)).rejects.toMatchObject({
      code: ErrorCodes.PLUGIN_VERSION,
    });
    expect(registry.validate({ type: 'io.podrun.process', version: hostVersion() })).toEqual([]);
    expect(registry.validate({ type: 'io.podrun.process', version: '99' }, 'tasks[0].taskRunner')[0]!.path).toBe(
      'tasks[0].taskRunner.version',
    );
  });
});
