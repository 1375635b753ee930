import semver from 'semver';
import { ConfigError, ErrorCodes, PLUGIN_VERSION_EXPECTED, PLUGIN_VERSION_PATTERN } from '@podrun/core';

/**
 * Checks a runner configuration's `version` against the installed plugin version, with the
 * reference's rule (the same pattern every schema uses): an exact version (`1.2.3`, `1.2.3-rc1`)
 * must be the installed one; `LATEST` and `OLDEST` (any case) name the installed one, the only one
 * a process has. Anything else, or another version, is a ConfigError with code
 * PODRUN_PLUGIN_VERSION.
 */
export function checkPluginVersion(
  type: string,
  requested: string | undefined,
  installed: string,
  path = 'taskRunner.version',
): void {
  if (requested === undefined) return;
  const wanted = requested.trim();
  const fail = (message: string) =>
    new ConfigError([{ path, message }], {
      code: ErrorCodes.PLUGIN_VERSION,
      component: 'registry',
      title: `plugin version mismatch for ${type}`,
      details: { type, requested, installed },
    });
  if (!PLUGIN_VERSION_PATTERN.test(wanted)) throw fail(`"${requested}": ${PLUGIN_VERSION_EXPECTED}`);
  if (/^(latest|oldest)$/i.test(wanted)) return;
  if (!semver.valid(wanted)) {
    throw fail(`"${requested}" is neither a version (1.2.3) nor LATEST or OLDEST; fix the version`);
  }
  if (!semver.eq(installed, wanted)) {
    throw fail(
      `${type} ${installed} is installed but ${requested} was asked for; install that version, or ask for LATEST`,
    );
  }
}
