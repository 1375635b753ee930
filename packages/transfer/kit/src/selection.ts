// Which files of the pod's working directory leave it. The pod lists what exists (regular files,
// and links with what they resolve to); the selection is made here from that listing, so only the
// selected files are ever read and sent.
import picomatch from 'picomatch';
import { UnsafePathError, type OutputEntry, type OutputSelection } from '@podrun/core';

/** What the pod reported about its working directory. */
export interface Listing {
  /** Physical path of the working directory in the pod. */
  workingDir: string;
  /** Regular files, relative to the working directory, without `./`. */
  files: string[];
  /** Symbolic links, with their resolved target (absolute, physical) and whether it is a regular file. */
  links: { path: string; target: string; isFile: boolean }[];
}

/** One file to bring back. */
export interface SelectedFile {
  /** Path relative to the working directory, without `./`. */
  path: string;
  name: string;
  origin: OutputEntry['origin'];
}

function matcherOf(patterns: string[], workingDir: string): (path: string) => boolean {
  const regexes: RegExp[] = [];
  const globs: string[] = [];
  for (const raw of patterns) {
    if (raw.startsWith('regex:')) {
      regexes.push(new RegExp(`^(?:${raw.slice('regex:'.length)})$`));
      continue;
    }
    let glob = raw.startsWith('glob:') ? raw.slice('glob:'.length) : raw;
    if (glob.startsWith(`${workingDir}/`)) glob = glob.slice(workingDir.length + 1);
    globs.push(glob.replace(/^(\.\/)+/, ''));
  }
  // `*` stays within a directory and `**` crosses them, like the reference's PathMatcher globs;
  // dot files match as they do there.
  const glob = globs.length ? picomatch(globs, { dot: true }) : () => false;
  return (path) => glob(path) || regexes.some((r) => r.test(path));
}

/**
 * Chooses the files to bring back. A file under OUTPUT_DIR (when collected) is reported relative
 * to it; any other selected file relative to the working directory. A selected link is followed
 * only when it resolves to a regular file inside the working directory; one that leads outside
 * is refused with `UnsafePathError`, whatever it points at.
 */
export function selectOutputs(
  listing: Listing,
  select: OutputSelection,
  paths: { workingDir: string; outputDir: string },
): SelectedFile[] {
  const outputRel = paths.outputDir.startsWith(`${paths.workingDir}/`)
    ? paths.outputDir.slice(paths.workingDir.length + 1)
    : undefined;
  const matches = matcherOf(select.globs, paths.workingDir);
  const classify = (path: string): SelectedFile | undefined => {
    if (select.outputDir && outputRel && path.startsWith(`${outputRel}/`)) {
      return { path, name: path.slice(outputRel.length + 1), origin: 'outputDir' };
    }
    if (select.syncWorkingDirectory || matches(path)) return { path, name: path, origin: 'workingDir' };
    return undefined;
  };
  const selected: SelectedFile[] = [];
  for (const path of listing.files) {
    const file = classify(path);
    if (file) selected.push(file);
  }
  const root = `${listing.workingDir.replace(/\/+$/, '')}/`;
  for (const link of listing.links) {
    if (outputRel !== undefined && select.outputDir && link.path === outputRel) {
      throw new UnsafePathError(
        link.path,
        `[podrun] [exec-tar] OUTPUT_DIR was replaced by a symbolic link; outputs are only collected from a real directory inside the working directory`,
        { component: 'exec-tar' },
      );
    }
    const file = classify(link.path);
    if (!file) continue;
    if (!link.target.startsWith(root)) {
      throw new UnsafePathError(
        link.path,
        `[podrun] [exec-tar] output ${JSON.stringify(link.path)} is a symbolic link that leads outside the working directory${link.target ? ` (to ${JSON.stringify(link.target)})` : ''}; podrun never reads files outside it. Write the output as a regular file instead of a link`,
        { component: 'exec-tar', details: { target: link.target } },
      );
    }
    if (link.isFile) selected.push(file);
  }
  return selected;
}
