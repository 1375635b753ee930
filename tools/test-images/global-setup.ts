// vitest global setup: builds the test images once (idempotent) and tells the suites where the
// archives are through PODRUN_TEST_IMAGES (a comma-separated list of archive paths), which the
// conformance environment and the runner's tests pass to startCluster({ imageArchives }).
import { buildTestImages } from './build.js';

export default async function setup(): Promise<void> {
  if (process.env.PODRUN_TEST_IMAGES) return;
  try {
    const images = await buildTestImages();
    process.env.PODRUN_TEST_IMAGES = images.archives.join(',');
  } catch (error) {
    // CI must test real images; a developer without Debian's packages gets the host-filesystem
    // fallback and a line saying so.
    if (process.env.CI) throw error;
    console.warn(
      `[podrun] test images not built, suites run on the host-filesystem fallback: ${(error as Error).message}`,
    );
  }
}
