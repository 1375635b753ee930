// The image catalogue: every known image "pulls" instantly and runs on the host's own root
// filesystem (as the read-only lower layer of the container's overlay); any other image fails to
// pull the way containerd reports a missing repository.
import { createHash } from 'node:crypto';

/** Images the node knows when the options name none. */
export const defaultImageCatalogue: readonly string[] = [
  'busybox',
  'alpine',
  'debian',
  'ubuntu',
  'centos',
  'fedora',
  'python',
  // The reference's Python script tasks default to this image.
  'ghcr.io/kestra-io/kestrapy',
  'node',
  'bash',
  'curlimages/curl',
  'registry.k8s.io/pause',
];

/** A parsed image reference with docker.io normalisation applied. */
export interface ImageRef {
  /** Repository without registry defaults, e.g. `busybox`, `curlimages/curl`. */
  repository: string;
  /** Fully qualified reference as containerd reports it, e.g. `docker.io/library/busybox:1.36`. */
  fullName: string;
  /** `docker.io/library/busybox@sha256:…`, stable per repository. */
  imageID: string;
}

/** Normalises `busybox`, `docker.io/library/busybox:1.36`, `busybox@sha256:…` alike. */
export function parseImage(image: string): ImageRef {
  let rest = image.trim();
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  const parts = rest.split('/');
  let registry = 'docker.io';
  if (parts.length > 1 && /[.:]|^localhost$/.test(parts[0]!)) registry = parts.shift()!;
  if (registry === 'index.docker.io') registry = 'docker.io';
  let repository = parts.join('/');
  if (registry === 'docker.io' && repository.startsWith('library/')) repository = repository.slice(8);
  const qualified =
    registry === 'docker.io'
      ? `docker.io/${repository.includes('/') ? repository : `library/${repository}`}`
      : `${registry}/${repository}`;
  const shortName = registry === 'docker.io' ? repository : `${registry}/${repository}`;
  const sha = digest ?? `sha256:${createHash('sha256').update(qualified).digest('hex')}`;
  return {
    repository: shortName,
    fullName: digest && !tag ? `${qualified}@${digest}` : `${qualified}:${tag ?? 'latest'}`,
    imageID: `${qualified}@${sha}`,
  };
}

/** Whether `image` names one of the catalogue's images (any tag or digest, optional docker.io prefix). */
export function isKnownImage(image: string, catalogue: readonly string[]): boolean {
  const wanted = parseImage(image).repository;
  return catalogue.some((entry) => parseImage(entry).repository === wanted);
}

/** containerd's error for a repository that does not exist, as the kubelet reports it. */
export function pullErrorMessage(image: string): string {
  const ref = parseImage(image).fullName;
  return `rpc error: code = NotFound desc = failed to pull and unpack image "${ref}": failed to resolve reference "${ref}": ${ref}: not found`;
}

/** What the image itself would contribute: entrypoint, default command and environment. */
export interface ImageConfig {
  entrypoint: string[];
  cmd: string[];
  env: [string, string][];
}

/** The PATH a container gets when neither its image nor its spec sets one. */
export const defaultPath = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Entrypoint/CMD of the catalogue's images, approximating their Dockerfiles. */
export function imageConfig(image: string): ImageConfig {
  const repository = parseImage(image).repository;
  const env: [string, string][] = [['PATH', defaultPath]];
  if (repository === 'curlimages/curl') return { entrypoint: ['curl'], cmd: [], env };
  if (repository === 'python' || repository === 'ghcr.io/kestra-io/kestrapy')
    return { entrypoint: [], cmd: ['python3'], env };
  if (repository === 'node') return { entrypoint: [], cmd: ['node'], env };
  if (repository === 'registry.k8s.io/pause') return { entrypoint: ['sleep'], cmd: ['infinity'], env };
  if (['debian', 'ubuntu', 'centos', 'fedora', 'bash'].includes(repository))
    return { entrypoint: [], cmd: ['bash'], env };
  return { entrypoint: [], cmd: ['sh'], env };
}

/** The pull policy the API server defaults: Always for `:latest` or no tag, else IfNotPresent. */
export function defaultPullPolicy(image: string): string {
  if (image.includes('@')) return 'IfNotPresent';
  const lastSlash = image.lastIndexOf('/');
  const colon = image.lastIndexOf(':');
  return colon > lastSlash && image.slice(colon + 1) !== 'latest' ? 'IfNotPresent' : 'Always';
}
