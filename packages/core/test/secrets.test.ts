import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  parseDynamicRunnerConfig,
  parseRunnerConfig,
  parseWithSchema,
  retryPolicySchema,
} from '@podrun/core';

const SECRET = 'S3CR3T-9f2c';

function everythingVisible(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    const e = error as ConfigError;
    return [
      e.message,
      JSON.stringify(e.toJSON()),
      JSON.stringify(e.issues),
      JSON.stringify(e.details),
      String(e.stack),
    ].join('\n');
  }
  throw new Error('expected a ConfigError');
}

describe('secrets never appear in configuration errors', () => {
  const secretFields = [
    'clientKeyData',
    'clientKeyPassphrase',
    'keyStorePassphrase',
    'oauthToken',
    'password',
    'trustStorePassphrase',
  ];

  it.each(secretFields)('hides a wrongly typed %s', (field) => {
    const text = everythingVisible(() => parseRunnerConfig({ config: { [field]: { value: SECRET } } }));
    expect(text).toContain(`taskRunner.config.${field}`);
    expect(text).not.toContain(SECRET);
  });

  it('hides secrets of a connection that has other problems', () => {
    const config = {
      clientCertData: 'cert',
      clientKeyData: SECRET,
      clientKeyPassphrase: SECRET,
      keyStorePassphrase: SECRET,
      oauthToken: SECRET,
      oauthTokenProvider: { task: { type: 'x', secret: SECRET }, output: 'o' },
      password: SECRET,
      trustStorePassphrase: SECRET,
      masterUrl: `ftp://admin:${SECRET}@host`,
      trustCerts: 'maybe',
      pasword: SECRET,
    };
    const text = everythingVisible(() => parseRunnerConfig({ config, waitForLogs: 'soon' }));
    expect(text).toContain('did you mean `password`?');
    expect(text).toContain('taskRunner.config.masterUrl');
    expect(text).not.toContain(SECRET);
  });

  it('hides object-storage credentials', () => {
    const text = everythingVisible(() =>
      parseRunnerConfig({
        fileTransfer: {
          type: 'object-storage',
          bucket: 'b',
          credentials: { accessKeyId: 7, secretAccessKey: [SECRET], sessionToken: 42, extra: SECRET },
        },
      }),
    );
    expect(text).toContain('taskRunner.fileTransfer.credentials.secretAccessKey');
    expect(text).not.toContain(SECRET);
    expect(text).not.toMatch(/got number (7|42)/);
  });

  it('hides secrets in flows, including template expressions naming them', () => {
    const text = everythingVisible(() =>
      parseDynamicRunnerConfig({
        config: { oauthToken: 12345, password: true, username: 'u' },
        fileSidecar: { image: `{{ secret('${SECRET}') }}` },
      }),
    );
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain('12345');
  });

  it('hides values under secret-like keys in any schema the host parses', () => {
    const text = everythingVisible(() =>
      parseWithSchema(
        retryPolicySchema,
        { type: 'constant', interval: 'PT1S', apiToken: SECRET },
        { path: 'tasks[0].retry' },
      ),
    );
    expect(text).toContain('tasks[0].retry.apiToken');
    expect(text).not.toContain(SECRET);
  });
});
