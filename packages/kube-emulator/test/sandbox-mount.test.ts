// Sandboxes mount through `mount -a -T <fstab>` with `bind,ro` entries: a mount that would not
// bind read-only from an fstab must be refused up front, not leave read-only volumes writable.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
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
