import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@podrun/core';
import { runCli } from '../src/index.js';
import { kubectl, kubectlPath, rawRequest } from './api-helpers.js';
import { readFileSync } from 'node:fs';

describe('podrun-kube-emulator start', () => {
  it('runs in the foreground, writes the kubeconfig where asked and stops on SIGINT', async () => {
    const dir = mkdtempSync(join(os.tmpdir(), 'kube-emulator-cli-'));
    try {
      const out = join(dir, 'kubeconfig');
      const lines: string[] = [];
      let announced!: () => void;
      const ready = new Promise<void>((resolve) => (announced = resolve));
      const argv = [
        'start',
        '--kubeconfig-out',
        out,
        '--state-dir',
        join(dir, 'state'),
        '--kubernetes-version',
        '1.29',
      ];
      const running = runCli(argv, (line) => {
        lines.push(line);
        if (lines.length === 2) announced();
      });
      await ready;
      expect(lines[0]).toBe(`kubeconfig: ${out}`);
      expect(lines[1]).toContain(`KUBECONFIG=${out} kubectl get pods`);
      const kubeconfig = readFileSync(out, 'utf8');
      const version = await rawRequest(kubeconfig, '/version');
      expect(version.status).toBe(200);
      expect(version.json()).toMatchObject({ major: '1', minor: '29' });
      if (kubectlPath)
        expect((await kubectl(out, ['get', 'ns', 'default', '-o', 'name'])).stdout.trim()).toBe('namespace/default');
      process.emit('SIGINT');
      await running;
      await expect(rawRequest(kubeconfig, '/version')).rejects.toThrow();
      // A state dir that was given is kept.
      expect(existsSync(join(dir, 'state', 'kubeconfig'))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rejects unknown commands and bad ports with a ConfigError', async () => {
    await expect(runCli(['stop'], () => undefined)).rejects.toBeInstanceOf(ConfigError);
    await expect(runCli(['start', '--port', 'abc'], () => undefined)).rejects.toBeInstanceOf(ConfigError);
  });
});
