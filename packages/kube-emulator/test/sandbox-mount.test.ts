// Sandboxes mount through `mount -a -T <fstab>` with `bind,ro` entries: a mount that would not
// bind read-only from an fstab must be refused up front, not leave read-only volumes writable.
// And a volume bind that left the container's root stops the setup.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { mountGuardScript } from '../src/node/sandbox.js';
import { findTool, mountUnsupportedReason } from '../src/node/sandbox-template.js';

const dir = mkdtempSync(join(tmpdir(), 'podrun-mount-check-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A stand-in `mount` that prints `text` for --version and exits with `code`. */
function fakeMount(name: string, text: string, code = 0): string {
  const path = join(dir, name);
  writeFileSync(path, `#!/bin/sh\nprintf '%s\\n' '${text}'\nexit ${code}\n`);
  chmodSync(path, 0o755);
  return path;
}

describe('mountUnsupportedReason', () => {
  it("accepts this machine's util-linux mount", () => {
    expect(mountUnsupportedReason(findTool('mount')!)).toBeUndefined();
  });

  it('accepts util-linux 2.27 and later, and 3.x', () => {
    expect(mountUnsupportedReason(fakeMount('m227', 'mount from util-linux 2.27 (libmount 2.27.0)'))).toBeUndefined();
    expect(mountUnsupportedReason(fakeMount('m301', 'mount from util-linux 3.0.1'))).toBeUndefined();
  });

  it('refuses an older util-linux, naming what it found and what to install', () => {
    const reason = mountUnsupportedReason(fakeMount('m226', 'mount from util-linux 2.26.2 (libmount 2.26.0)'));
    expect(reason).toContain('util-linux 2.27 or later');
    expect(reason).toContain('mount from util-linux 2.26.2');
    expect(reason).toContain('install util-linux');
  });

  it("refuses BusyBox's mount, which fails on --version", () => {
    const reason = mountUnsupportedReason(fakeMount('bb', 'BusyBox v1.37.0 multi-call binary.', 1));
    expect(reason).toContain('util-linux 2.27 or later');
  });
});

// A bind that followed a symbolic link out of the container's root is what a swap between a
// target's resolution and its mount would produce; here the link is simply there when mounting.
describe('the mount guard', () => {
  const run = (script: string): { code: number; stderr: string } => {
    const result = spawnSync(findTool('unshare')!, ['--mount', '--propagation', 'private', '/bin/sh', '-c', script], {
      encoding: 'utf8',
    });
    return { code: result.status ?? -1, stderr: result.stderr };
  };
  const setup = (): string => {
    const base = mkdtempSync(join(tmpdir(), 'podrun-guard-'));
    for (const sub of ['M/inside', 'outside', 'source']) mkdirSync(join(base, sub), { recursive: true });
    symlinkSync(join(base, 'outside'), join(base, 'M', 'link'));
    return base;
  };

  it('lets binds under the container root pass', () => {
    const base = setup();
    try {
      const { code, stderr } = run(
        `M=${base}/M\n${mountGuardScript}\npodrun_record_mounts\nmount --bind ${base}/source ${base}/M/inside\npodrun_mounts_inside\necho passed >&2`,
      );
      expect(stderr.trim()).toBe('passed');
      expect(code).toBe(0);
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });

  it('stops at a bind that a symbolic link sent outside the container root, naming where it landed', () => {
    const base = setup();
    try {
      const { code, stderr } = run(
        `M=${base}/M\n${mountGuardScript}\npodrun_record_mounts\nmount --bind ${base}/source ${base}/M/link\npodrun_mounts_inside\necho passed >&2`,
      );
      expect(code).toBe(1);
      expect(stderr).toContain(`a volume mount left the container's root (it landed on ${base}/outside)`);
      expect(stderr).not.toContain('passed');
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });
});
