import type { PodContribution, PodPaths } from '@podrun/core';

export const FILES_VOLUME = 'podrun-files';

/**
 * What an exec+tar transfer contributes, modelled on the reference: an emptyDir at the paths root,
 * an init container waiting for a ready marker (no image: fileSidecar.image fills it), a sidecar
 * waiting for an end marker, and a wrapper that records the main command's exit code while
 * passing the user's command through as argv (never re-quoted).
 */
export function execTarLikeContribution(paths: PodPaths): PodContribution {
  const mount = { name: FILES_VOLUME, mountPath: paths.root };
  return {
    volumes: [{ name: FILES_VOLUME, emptyDir: { sizeLimit: '2Gi' } }],
    initContainers: [
      {
        name: 'init-files',
        command: [
          'sh',
          '-c',
          'mkdir -p "$2" && until [ -f "$1/ready" ]; do sleep 0.2; done',
          'init-files',
          paths.root,
          paths.workingDir,
        ],
        volumeMounts: [mount],
      },
    ],
    sidecars: [
      {
        name: 'out-files',
        image: 'busybox:1.36',
        command: ['sh', '-c', 'until [ -f "$PODRUN_ROOT/ended" ]; do sleep 0.2; done'],
        env: [{ name: 'PODRUN_ROOT', value: paths.root }],
        volumeMounts: [mount],
      },
    ],
    mainVolumeMounts: [mount],
    mainEnv: [{ name: 'PODRUN_EXIT_FILE', value: `${paths.root}/exit` }],
    wrapMainCommand: (command) => [
      '/bin/sh',
      '-c',
      '"$@"; code=$?; echo "$code" > "$PODRUN_EXIT_FILE"; exit "$code"',
      'podrun-main',
      ...command,
    ],
    reservedContainerNames: ['init-files', 'out-files'],
    reservedVolumeNames: [FILES_VOLUME],
    annotations: { 'podrun.io/transfer': 'exec-tar' },
  };
}
