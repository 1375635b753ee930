// Builds the test images offline, as real OCI archives, from Debian's packages on this machine:
// - busybox:latest — Debian's static BusyBox (1.37, as the real image) with every applet linked, root as its user (as the
//   real image), a non-root `podrun` user (1000:1000) and `nobody` declared in /etc/passwd;
// - curlimages/curl:8.11.1 — the host's curl with its shared libraries, BusyBox for sh and
//   sha256sum, running as `curl_user` (uid 100, gid 101) as the real image does.
// Idempotent: an archive that exists is kept (delete the directory to rebuild).
//
//   node --import tsx tools/test-images/build.ts [OUT_DIR]   (default: .podrun-test-images)
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { create } from 'tar';
import { writeOciArchive } from '@podrun/kube-emulator';

/** The archives the suites import, by image name. */
export interface TestImages {
  dir: string;
  archives: string[];
}

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const basePath = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * The Debian release whose BusyBox matches the real images: `busybox:latest` and the Alpine
 * base of `curlimages/curl` ship BusyBox 1.37, whose `sha256sum` uses the CPU's SHA extensions
 * (five times faster than bookworm's 1.35 here). The in-pod hash is on every transfer's path, so
 * an older BusyBox would make the test cluster slower than a real one, not harsher.
 */
const busyboxRelease = 'trixie';

/** Runs apt-get with a private source list and state, so the host's apt setup is left alone. */
function aptDownload(release: string, into: string): void {
  const state = join(into, 'apt');
  for (const dir of ['lists/partial', 'cache/archives/partial', 'parts'])
    mkdirSync(join(state, dir), { recursive: true });
  writeFileSync(
    join(state, 'sources.list'),
    `deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian ${release} main\n`,
  );
  const options = [
    `Dir::Etc::SourceList=${join(state, 'sources.list')}`,
    `Dir::Etc::SourceParts=${join(state, 'parts')}`,
    `Dir::State::Lists=${join(state, 'lists')}`,
    `Dir::Cache=${join(state, 'cache')}`,
    'APT::Sandbox::User=root',
    'Debug::NoLocking=1',
  ].flatMap((option) => ['-o', option]);
  // Without --error-on=any a failed index download is only a warning, and the next step's
  // "no candidate" would hide why.
  execFileSync('apt-get', [...options, 'update', '-qq', '--error-on=any'], { cwd: into, stdio: 'pipe' });
  execFileSync('apt-get', [...options, 'download', 'busybox-static'], { cwd: into, stdio: 'pipe' });
}

const stderrOf = (error: unknown): string => String((error as { stderr?: Buffer }).stderr ?? error).trim();

/** Merged /usr from trixie on, /bin before it. */
const binaryIn = (root: string): string | undefined =>
  ['usr/bin/busybox', 'bin/busybox'].map((path) => join(root, path)).find(existsSync);

/**
 * Debian's busybox-static of `release` (or of the host's own release, for `host`), downloaded
 * (not installed) and unpacked under `cache/busybox-static-<release>`.
 */
function staticBusybox(cache: string, release: string): string {
  const extracted = join(cache, `busybox-static-${release}`);
  const cached = binaryIn(extracted);
  if (cached) return cached;
  const download = mkdtempSync(join(tmpdir(), 'podrun-busybox-'));
  try {
    if (release === 'host') execFileSync('apt-get', ['download', 'busybox-static'], { cwd: download, stdio: 'pipe' });
    else aptDownload(release, download);
    const deb = readdirSync(download).find((name) => name.endsWith('.deb'))!;
    mkdirSync(extracted, { recursive: true });
    execFileSync('dpkg-deb', ['-x', join(download, deb), extracted]);
    return binaryIn(extracted)!;
  } finally {
    rmSync(download, { recursive: true, force: true });
  }
}

function writeFiles(root: string, files: Record<string, string>): void {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
}

/** A BusyBox root filesystem: the binary, one link per applet, /etc, /tmp, /root, /home. */
function busyboxRoot(root: string, busybox: string, users: string, groups: string): void {
  mkdirSync(join(root, 'bin'), { recursive: true });
  copyFileSync(busybox, join(root, 'bin', 'busybox'));
  chmodSync(join(root, 'bin', 'busybox'), 0o755);
  const applets = execFileSync(busybox, ['--list-full'], { encoding: 'utf8' }).split('\n').filter(Boolean);
  for (const applet of applets) {
    const path = join(root, applet);
    if (existsSync(path)) continue;
    mkdirSync(dirname(path), { recursive: true });
    symlinkSync(relative(dirname(path), join(root, 'bin', 'busybox')), path);
  }
  for (const dir of ['tmp', 'root', 'home', 'var/tmp', 'proc', 'sys', 'dev'])
    mkdirSync(join(root, dir), { recursive: true });
  chmodSync(join(root, 'tmp'), 0o1777);
  chmodSync(join(root, 'var/tmp'), 0o1777);
  chmodSync(join(root, 'root'), 0o700);
  writeFiles(root, { 'etc/passwd': users, 'etc/group': groups, 'etc/hostname': 'busybox\n' });
}

async function layerOf(root: string, out: string): Promise<string> {
  await create({ file: out, cwd: root, portable: false }, readdirSync(root));
  return out;
}

async function buildBusybox(out: string, busybox: string, work: string): Promise<void> {
  const root = join(work, 'busybox-root');
  busyboxRoot(
    root,
    busybox,
    'root:x:0:0:root:/root:/bin/sh\npodrun:x:1000:1000:podrun test user:/home/podrun:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n',
    'root:x:0:\npodrun:x:1000:\nnogroup:x:65534:\n',
  );
  mkdirSync(join(root, 'home', 'podrun'));
  chownSync(join(root, 'home', 'podrun'), 1000, 1000);
  await writeOciArchive(out, {
    name: 'busybox:latest',
    layers: [await layerOf(root, join(work, 'busybox.tar'))],
    config: { Env: [`PATH=${basePath}`], Cmd: ['sh'] },
  });
}

/** The shared libraries `binary` loads, as absolute host paths (the loader included). */
function sharedLibraries(binary: string): string[] {
  const text = execFileSync('ldd', [binary], { encoding: 'utf8' });
  return [...text.matchAll(/(\/[^\s)]+)/g)].map((match) => match[1]!).filter((path) => existsSync(path));
}

async function buildCurl(out: string, busybox: string, work: string): Promise<void> {
  const root = join(work, 'curl-root');
  busyboxRoot(
    root,
    busybox,
    'root:x:0:0:root:/root:/bin/sh\ncurl_user:x:100:101:Linux User,,,:/home/curl_user:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n',
    'root:x:0:\ncurl_group:x:101:curl_user\nnogroup:x:65534:\n',
  );
  const curl = realpathSync('/usr/bin/curl');
  for (const path of [curl, ...sharedLibraries(curl)]) {
    const target = join(root, path);
    mkdirSync(dirname(target), { recursive: true });
    copyFileSync(realpathSync(path), target);
    chmodSync(target, 0o755);
  }
  mkdirSync(join(root, 'home', 'curl_user'));
  chownSync(join(root, 'home', 'curl_user'), 100, 101);
  writeFiles(root, {
    'entrypoint.sh': '#!/bin/sh\nset -e\nif [ "${1#-}" != "$1" ]; then set -- curl "$@"; fi\nexec "$@"\n',
  });
  chmodSync(join(root, 'entrypoint.sh'), 0o755);
  await writeOciArchive(out, {
    // The tag object-storage's default transfer image pins.
    name: 'curlimages/curl:8.11.1',
    layers: [await layerOf(root, join(work, 'curl.tar'))],
    config: {
      User: 'curl_user',
      Env: [`PATH=${basePath}`],
      Entrypoint: ['/entrypoint.sh'],
      Cmd: ['curl'],
      WorkingDir: '/home/curl_user',
    },
  });
}

/** The archives of one BusyBox release under `dir`, built when missing. */
async function imagesOf(dir: string, release: string): Promise<string[]> {
  // Named by release, so a checkout with older archives rebuilds them.
  const archives = [join(dir, `busybox-${release}.oci.tar`), join(dir, `curl-${release}.oci.tar`)];
  if (archives.every((archive) => existsSync(archive))) return archives;
  const busybox = staticBusybox(join(dir, 'cache'), release);
  const work = mkdtempSync(join(tmpdir(), 'podrun-test-images-'));
  try {
    if (!existsSync(archives[0]!)) await buildBusybox(`${archives[0]}.partial`, busybox, work);
    if (!existsSync(archives[1]!)) await buildCurl(`${archives[1]}.partial`, busybox, work);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  for (const archive of archives) {
    if (existsSync(`${archive}.partial`)) execFileSync('mv', [`${archive}.partial`, archive]);
  }
  return archives;
}

/**
 * Builds what is missing under `dir`; returns the archives to import. Images of the host
 * release's BusyBox stand in, with a warning, while {@link busyboxRelease} cannot be downloaded;
 * every build tries it again.
 */
export async function buildTestImages(dir = join(repoRoot, '.podrun-test-images')): Promise<TestImages> {
  mkdirSync(dir, { recursive: true });
  try {
    return { dir, archives: await imagesOf(dir, busyboxRelease) };
  } catch (error) {
    console.warn(
      `cannot download busybox-static from Debian ${busyboxRelease} (${stderrOf(error)}); using the host release's, whose slower sha256sum makes transfers slower than on a real cluster`,
    );
  }
  try {
    return { dir, archives: await imagesOf(dir, 'host') };
  } catch (error) {
    throw new Error(
      `cannot download Debian's busybox-static (${stderrOf(error)}); check the network, and run \`apt-get update\` first, as root`,
    );
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const images = await buildTestImages(process.argv[2] ? resolve(process.argv[2]) : undefined);
  for (const archive of images.archives) console.log(archive);
}
