import semver from 'semver';
import { ConfigError, ErrorCodes } from '@podrun/core';

/**
 * Checks a runner configuration's `version` against the installed plugin version. Accepts an
 * exact version (`1.2.3`), any semver range (`^1.2`, `>=1 <2`, `1.x`) or `latest`; anything else,
 * or a version the installed one does not satisfy, is a ConfigError with code PODRUN_PLUGIN_VERSION.
 */
export function checkPluginVersion(
  type: string,
  requested: string | undefined,
  installed: string,
  path = 'taskRunner.version',
): void {
  if (requested === undefined || /^latest$/i.test(requested.trim())) return;
  const range = semver.validRange(requested.trim());
  const fail = (message: string) =>
    new ConfigError([{ path, message }], {
      code: ErrorCodes.PLUGIN_VERSION,
      component: 'registry',
      title: `plugin version mismatch for ${type}`,
      details: { type, requested, installed },
    });
  if (!range) throw fail(`"${requested}" is neither a version (1.2.3) nor a semver range (^1.2); fix the version`);
  if (!semver.satisfies(installed, range, { includePrerelease: true })) {
    throw fail(
      `${type} ${installed} is installed but ${requested} was asked for; install a matching version or change the requested one`,
    );
  }
}
