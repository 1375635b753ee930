// Pods on imported OCI images: the image's root filesystem, config and user; truthful pulls and
// imageIDs; securityContext users, runAsNonRoot, readOnlyRootFilesystem and capabilities.
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { create } from 'tar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeOciArchive } from '../src/node/oci-archive.js';
import { sh, startHarness, status } from './node-harness.js';
import type { Harness } from './node-harness.js';
import type { KubeObject } from '../src/contracts.js';
import { testImageArchives } from '@podrun/test-utils';

const archives = testImageArchives();
const why = 'test images not built (tools/test-images/build.ts needs Debian packages)';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

async function run(name: string, spec: Record<string, unknown>, podSpec: Record<string, unknown> = {}) {
  h.createPod(name, { restartPolicy: 'Never', ...podSpec, containers: [spec] });
  const done = await h.waitFor(name, (p) => ['Succeeded', 'Failed'].includes(status(p)?.phase));
  return { pod: done, logs: (await h.logs(name)).body };
}

/** Imports an image: the BusyBox test image with `/bin/sh` replaced by a script of `body`. */
async function importShellImage(name: string, body: string): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'podrun-shell-image-'));
  try {
    const root = join(dir, 'root');
    cpSync(h.imageStore.find('busybox')!.rootfs, root, { recursive: true, verbatimSymlinks: true });
    rmSync(join(root, 'bin', 'sh'));
    writeFileSync(join(root, 'bin', 'sh'), `#!/bin/busybox sh\n${body}\n`, { mode: 0o755 });
    await create({ file: join(dir, 'layer.tar'), cwd: root }, ['.']);
    await writeOciArchive(join(dir, 'image.tar'), { name, layers: [join(dir, 'layer.tar')], config: {} });
    await h.imageStore.importArchive({ path: join(dir, 'image.tar') });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe.skipIf(archives.length === 0)(`real images (${archives.length ? 'imported' : why})`, () => {
  beforeAll(async () => {
    for (const archive of archives) await h.imageStore.importArchive({ path: archive });
  });

  it('runs BusyBox from the image, with a real imageID and truthful pull events', async () => {
    const { pod, logs } = await run('bb', {
      ...sh('main', 'busybox | head -1; readlink /bin/sh; id -u; pwd; echo "PATH=$PATH"'),
      imagePullPolicy: 'Always',
    });
    expect(status(pod).phase).toBe('Succeeded');
    const [banner, shLink, uid, pwd, path] = logs.trim().split('\n');
    expect(banner).toMatch(/^BusyBox v1\.\d+/);
    expect(shLink).toMatch(/busybox$/);
    expect(uid).toBe('0');
    expect(pwd).toBe('/');
    expect(path).toBe('PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin');
    const container = status(pod).containerStatuses[0];
    const image = h.imageStore.find('busybox')!;
    expect(container.image).toBe('docker.io/library/busybox:latest');
    expect(container.imageID).toBe(`docker.io/library/busybox@${image.digest}`);
    const messages = h.events.filter((e) => e.involvedObject.name === 'bb').map((e) => e.message);
    expect(messages).toContain('Pulling image "busybox"');
    expect(messages.find((m) => m.startsWith('Successfully pulled image "busybox" in '))).toMatch(
      new RegExp(`Image size: ${image.size} bytes\\.$`),
    );
  });

  it('finds an IfNotPresent image present, and runs the image user of curlimages/curl', async () => {
    const { pod, logs } = await run('curl', {
      name: 'main',
      image: 'curlimages/curl:8.11.1',
      imagePullPolicy: 'IfNotPresent',
      args: ['sh', '-c', 'id; pwd; curl --version | head -1; grep CapEff /proc/self/status'],
    });
    expect(status(pod).phase).toBe('Succeeded');
    expect(logs).toContain('uid=100(curl_user) gid=101(curl_group)');
    expect(logs).toContain('/home/curl_user\n');
    expect(logs).toMatch(/curl \d+\.\d+/);
    expect(logs).toContain('CapEff:\t0000000000000000');
    const messages = h.events.filter((e) => e.involvedObject.name === 'curl').map((e) => e.message);
    expect(messages).toContain('Container image "curlimages/curl:8.11.1" already present on machine');
  });

  it('gives root the runtime default capabilities less SYS_CHROOT, not all', async () => {
    const { logs } = await run('caps', sh('main', 'grep -E "CapEff|CapBnd" /proc/self/status'));
    // runc's 0xa80425fb without bit 18 (see defaultCapabilities).
    expect(logs).toContain('CapEff:\t00000000a80025fb');
    expect(logs).toContain('CapBnd:\t00000000a80025fb');
  });

  // The setup runs the image's /bin/sh to resolve volume targets inside its root: an image whose
  // /bin/sh logs its capabilities shows what that shell could have done as the host's root.
  it("runs the image's /bin/sh during setup with the container's capabilities only", async () => {
    await importShellImage(
      'spy-shell:1',
      '/bin/busybox grep CapEff /proc/self/status >> /caps\nexec /bin/busybox sh "$@"',
    );
    const { pod, logs } = await run(
      'spy',
      {
        name: 'main',
        image: 'spy-shell:1',
        command: ['/bin/busybox', 'cat', '/caps'],
        volumeMounts: [{ name: 'data', mountPath: '/data/nested' }],
      },
      { volumes: [{ name: 'data', emptyDir: {} }] },
    );
    expect(status(pod).phase).toBe('Succeeded');
    const lines = logs.trim().split('\n');
    // The target resolution during setup, then the launcher that starts the command.
    expect(lines.length).toBeGreaterThanOrEqual(2);
    for (const line of lines) expect(line).toBe('CapEff:\t00000000a80025fb');
  });

  // The same shell can answer the target resolution with any path. One climbing out with `..`
  // (with a space, so it is bound on its own rather than through an fstab) must stop the setup
  // before the next host tool runs.
  it('stops a container whose shell sends a volume mount out of its root', async () => {
    const outside = mkdtempSync(join(tmpdir(), 'podrun-hostile-target-'));
    const target = join(outside, 'a b');
    mkdirSync(target);
    writeFileSync(join(target, 'f'), '');
    const up = '/..'.repeat(40);
    try {
      await importShellImage(
        'hostile-shell:1',
        `case "$2" in *"for spec; do"*) shift 3; for spec; do case $spec in d:*) echo "${up}${target}" ;; *) echo "${up}${target}/f" ;; esac; done; exit 0 ;; esac\nexec /bin/busybox sh "$@"`,
      );
      h.createPod('hostile', {
        restartPolicy: 'Never',
        containers: [
          {
            name: 'main',
            image: 'hostile-shell:1',
            command: ['/bin/busybox', 'true'],
            volumeMounts: [{ name: 'data', mountPath: '/data' }],
          },
        ],
        volumes: [{ name: 'data', emptyDir: {} }],
      });
      const waiting = (p: KubeObject) => status(p)?.containerStatuses?.[0]?.state?.waiting;
      const pod = await h.waitFor('hostile', (p) => waiting(p)?.reason === 'CreateContainerError');
      expect(waiting(pod).message).toContain(`a volume mount left the container's root (it landed on ${target}`);
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });

  it('applies runAsUser/runAsGroup, supplemental groups and fsGroup', async () => {
    const { logs } = await run(
      'user',
      { ...sh('main', 'id -u; id -g; id -G'), securityContext: { runAsUser: 1000 } },
      { securityContext: { runAsGroup: 3000, supplementalGroups: [4000], fsGroup: 2000 } },
    );
    const [uid, gid, groups] = logs.trim().split('\n');
    expect(uid).toBe('1000');
    expect(gid).toBe('3000');
    expect(groups!.split(' ').sort()).toEqual(['2000', '3000', '4000']);
  });

  it('gives volumes fsGroup ownership so different non-root users share files through the group', async () => {
    const mount = { volumeMounts: [{ name: 'shared', mountPath: '/shared' }] };
    h.createPod('fsgroup', {
      restartPolicy: 'Never',
      securityContext: { fsGroup: 2000 },
      volumes: [{ name: 'shared', emptyDir: {} }],
      initContainers: [
        {
          ...sh('writer', 'echo secret > /shared/f && chmod 640 /shared/f'),
          ...mount,
          securityContext: { runAsUser: 1000 },
        },
      ],
      containers: [
        {
          ...sh('reader', 'stat -c "%u %g %a" /shared/f; cat /shared/f'),
          ...mount,
          securityContext: { runAsUser: 1001 },
        },
      ],
    });
    const done = await h.waitFor('fsgroup', (p) => ['Succeeded', 'Failed'].includes(status(p)?.phase));
    expect(status(done).phase).toBe('Succeeded');
    expect((await h.logs('fsgroup', { container: 'reader' })).body).toBe('1000 2000 640\nsecret\n');
  });

  it('refuses runAsNonRoot for a root image with the kubelet message', async () => {
    h.createPod('nonroot', {
      securityContext: { runAsNonRoot: true },
      containers: [sh('main', 'true')],
    });
    const waiting = await h.waitFor(
      'nonroot',
      (p) => status(p)?.containerStatuses?.[0]?.state?.waiting?.reason === 'CreateContainerConfigError',
    );
    const pod = waiting.metadata;
    expect(status(waiting).containerStatuses[0].state.waiting.message).toBe(
      `container has runAsNonRoot and image will run as root (pod: "nonroot_default(${pod.uid})", container: main)`,
    );
  });

  it('honours readOnlyRootFilesystem while volumes stay writable', async () => {
    const { logs } = await run(
      'ro',
      {
        ...sh('main', 'touch /x 2>/dev/null && echo root-writable; touch /data/x && echo volume-writable'),
        securityContext: { readOnlyRootFilesystem: true },
        volumeMounts: [{ name: 'd', mountPath: '/data' }],
      },
      { volumes: [{ name: 'd', emptyDir: {} }] },
    );
    expect(logs).toBe('volume-writable\n');
  });

  it('fails the pull of an image that was not imported, as a registry without it would', async () => {
    h.createPod('absent', { containers: [{ name: 'main', image: 'example.com/nothing:1' }] });
    const waiting = await h.waitFor('absent', (p) =>
      ['ErrImagePull', 'ImagePullBackOff'].includes(status(p)?.containerStatuses?.[0]?.state?.waiting?.reason),
    );
    expect(status(waiting).containerStatuses[0].state.waiting.message).toContain('not found');
  });
});
