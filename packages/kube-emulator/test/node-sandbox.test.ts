import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimDirectory } from '../src/contracts.js';
import { sh, startHarness, status } from './node-harness.js';
import type { Harness } from './node-harness.js';

let h: Harness;
const hostMarker = `/tmp/podrun-host-marker-${process.pid}`;
beforeAll(async () => {
  h = await startHarness();
  writeFileSync(hostMarker, 'host secret');
});
afterAll(async () => {
  await h.close();
  rmSync(hostMarker, { force: true });
  rmSync('/etc/podrun-leak-test', { force: true });
});

const logsOf = async (pod: string, container?: string): Promise<string> =>
  (await h.logs(pod, container ? { container } : {})).body;

describe('container sandbox', () => {
  it('is PID 1 with the pod name as hostname, its own /etc/hosts and a minimal /dev', async () => {
    h.createPod('ident', {
      containers: [
        sh(
          'main',
          'echo "pid=$$$$"; hostname; cat /etc/hostname; grep -c ident /etc/hosts; ls /dev | tr "\\n" " "; echo; ls /proc | grep -c "^[0-9]"',
        ),
      ],
    });
    await h.phase('ident', 'Succeeded');
    const lines = (await logsOf('ident')).split('\n');
    expect(lines[0]).toBe('pid=1');
    expect(lines[1]).toBe('ident');
    expect(lines[2]).toBe('ident');
    expect(lines[3]).toBe('1');
    expect(lines[4]).toContain('null');
    expect(lines[4]).toContain('urandom');
    expect(lines[4]).not.toContain('sda');
    expect(lines[4]).not.toContain('vda');
    // Only the container's own processes are visible (sh, ls, grep: a handful, not the host's).
    expect(Number(lines[5])).toBeLessThan(6);
  });

  it('hides the host /tmp, /work, /root and the emulator state directory', async () => {
    h.createPod('hidden', {
      containers: [
        sh(
          'main',
          `ls -A /tmp /work /root | tr "\\n" " "; echo; cat ${hostMarker} 2>&1 || true; ls ${h.stateDir} 2>&1 || true`,
        ),
      ],
    });
    await h.phase('hidden', 'Succeeded');
    const out = await logsOf('hidden');
    expect(out).not.toContain('host secret');
    expect(out).toContain('No such file or directory');
    expect(
      out
        .split('\n')[0]!
        .replace(/\/\w+:/g, '')
        .trim(),
    ).toBe('');
  });

  // Each probe is harmless if the guard it checks were missing: the node it makes is /dev/null's
  // and the kernel setting gets its own value back.
  it('keeps a root container off the host: no chroot, read-only /proc/sys, masked /proc, nodev', async () => {
    h.createPod('guarded', {
      containers: [
        sh(
          'main',
          [
            'grep CapBnd /proc/self/status',
            'chroot / true 2>&1 || echo chroot refused',
            'v=$(cat /proc/sys/kernel/core_pattern); (echo "$v" > /proc/sys/kernel/core_pattern) 2>&1 || echo sysctl refused',
            'for d in /tmp /dev /vol; do mknod $d/n c 1 3 && (echo x > $d/n) 2>&1 || echo "$d: node refused"; done',
            'echo ok > /dev/null && head -c 4 /dev/urandom | wc -c',
            'wc -c < /proc/timer_list 2>&1; ls -A /proc/acpi 2>&1 | wc -l',
          ].join('\n'),
          { volumeMounts: [{ name: 'vol', mountPath: '/vol' }] },
        ),
      ],
      volumes: [{ name: 'vol', emptyDir: {} }],
    });
    await h.phase('guarded', 'Succeeded');
    const lines = (await logsOf('guarded')).trim().split('\n');
    // The runtime's 14 default capabilities (0xa80425fb) less SYS_CHROOT (bit 18).
    expect(lines[0]).toBe('CapBnd:\t00000000a80025fb');
    expect(lines[1]).toMatch(/Operation not permitted/);
    expect(lines[2]).toBe('chroot refused');
    expect(lines[3]).toMatch(/Read-only file system/);
    expect(lines[4]).toBe('sysctl refused');
    for (const [i, dir] of ['/tmp', '/dev', '/vol'].entries()) {
      expect(lines[5 + 2 * i]).toMatch(/Permission denied/);
      expect(lines[6 + 2 * i]).toBe(`${dir}: node refused`);
    }
    expect(lines[11]).toBe('4');
    // Masked where this kernel has them: an empty file, an empty directory.
    if (existsSync('/proc/timer_list')) expect(lines[12]).toBe('0');
    if (existsSync('/proc/acpi')) expect(lines[13]).toBe('0');
  });

  it('keeps writes outside volumes private: not on the host, not in a second container', async () => {
    h.createPod('writes', {
      containers: [
        sh(
          'writer',
          'echo leaked > /etc/podrun-leak-test && echo private > /tmp/mine && cat /etc/podrun-leak-test /tmp/mine && echo shared > /shared/file && sleep 1',
        ),
        sh(
          'reader',
          'until [ -f /shared/file ]; do sleep 0.1; done; cat /etc/podrun-leak-test 2>&1; cat /tmp/mine 2>&1; cat /shared/file',
          {},
        ),
      ].map((c) => ({ ...c, volumeMounts: [{ name: 'shared', mountPath: '/shared' }] })),
      volumes: [{ name: 'shared', emptyDir: {} }],
    });
    await h.phase('writes', 'Succeeded');
    expect(await logsOf('writes', 'writer')).toBe('leaked\nprivate\n');
    const reader = await logsOf('writes', 'reader');
    expect(reader).toContain('/etc/podrun-leak-test: No such file or directory');
    expect(reader).toContain('/tmp/mine: No such file or directory');
    expect(reader).toContain('shared\n');
    expect(existsSync('/etc/podrun-leak-test')).toBe(false);
  });

  it("cannot see another pod's volumes or files", async () => {
    h.createPod('owner', {
      containers: [
        sh('main', 'echo mine > /data/secret-file; echo x > /var/owner-file; sleep 30', {
          volumeMounts: [{ name: 'data', mountPath: '/data' }],
        }),
      ],
      volumes: [{ name: 'data', emptyDir: {} }],
    });
    const running = await h.phase('owner', 'Running');
    expect(status(running).phase).toBe('Running');
    h.createPod('snoop', {
      containers: [
        sh('main', `cat /data/secret-file /var/owner-file 2>/dev/null; ls ${h.stateDir}/pods 2>/dev/null; echo done`),
      ],
    });
    await h.phase('snoop', 'Succeeded');
    expect(await logsOf('snoop')).toBe('done\n');
    h.store.remove('pods', 'default', 'owner');
  });

  it('mounts /dev/shm, /dev/pts and a read-only /sys, and volumes at paths fstab must escape', async () => {
    h.createPod('mounts', {
      containers: [
        sh(
          'main',
          [
            'grep -E " /dev/shm | /dev/pts | /sys " /proc/mounts | cut -d" " -f2,3,4 | cut -d, -f1 | sort',
            'echo a > "/my data/f"; cat "/my data/f" "/ro dir\\here/f"',
            '{ echo no > "/ro dir\\here/x"; } 2>/dev/null || echo read-only',
            '{ echo no > /ro/x; } 2>/dev/null || echo read-only',
          ].join('; '),
          {
            volumeMounts: [
              { name: 'data', mountPath: '/my data' },
              { name: 'data', mountPath: '/ro dir\\here', readOnly: true },
              { name: 'data', mountPath: '/ro', readOnly: true },
            ],
          },
        ),
      ],
      volumes: [{ name: 'data', emptyDir: {} }],
    });
    await h.phase('mounts', 'Succeeded');
    expect((await logsOf('mounts')).split('\n')).toEqual([
      '/dev/pts devpts rw',
      '/dev/shm tmpfs rw',
      '/sys sysfs ro',
      'a',
      'a',
      'read-only',
      'read-only',
      '',
    ]);
  });

  it('stacks mounts as the runtime does: a volume under /dev/shm on top, a repeated path last', async () => {
    h.createPod('stack', {
      containers: [
        sh(
          'main',
          [
            'echo s > /dev/shm/cache/f && cat /dev/shm/cache/f',
            '{ echo no > /a/x; } 2>/dev/null || echo a-read-only',
            '{ echo yes > /b/x; } 2>/dev/null && echo b-writable',
          ].join('; '),
          {
            volumeMounts: [
              { name: 'data', mountPath: '/dev/shm/cache' },
              { name: 'data', mountPath: '/a' },
              { name: 'data', mountPath: '/a/', readOnly: true },
              { name: 'data', mountPath: '/b', readOnly: true },
              { name: 'data', mountPath: '/b/' },
            ],
          },
        ),
      ],
      volumes: [{ name: 'data', emptyDir: {} }],
    });
    await h.phase('stack', 'Succeeded');
    expect(await logsOf('stack')).toBe('s\na-read-only\nb-writable\n');
  });

  it('mounts persistent volume claims from the claim directory, read-only when asked', async () => {
    const dir = claimDirectory(h.stateDir, 'default', 'claim');
    mkdirSync(dir, { recursive: true });
    writeFileSync(`${dir}/input.txt`, 'from host');
    h.store.create('persistentvolumeclaims', {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name: 'claim', namespace: 'default' },
      spec: {},
    });
    h.createPod('pvc', {
      containers: [
        sh(
          'main',
          'cat /data/input.txt; echo; echo out > /data/output.txt; { echo no > /ro/x; } 2>/dev/null || echo read-only',
          {
            volumeMounts: [
              { name: 'data', mountPath: '/data' },
              { name: 'data', mountPath: '/ro', readOnly: true },
            ],
          },
        ),
      ],
      volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'claim' } }],
    });
    await h.phase('pvc', 'Succeeded');
    expect(await logsOf('pvc')).toBe('from host\nread-only\n');
    expect(readFileSync(`${dir}/output.txt`, 'utf8')).toBe('out\n');
  });
});
