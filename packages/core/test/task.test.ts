import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  ErrorCodes,
  defaultPodPaths,
  outputGlobProblem,
  parseTask,
  relativePathProblem,
  requireContainerImage,
} from '@podrun/core';

const issuesOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).code).toBe(ErrorCodes.TASK_INVALID);
    return (error as ConfigError).issues;
  }
  throw new Error('expected a ConfigError');
};

describe('task model', () => {
  it('accepts a complete task', () => {
    const task = {
      commands: ['cp data.txt out.txt'],
      containerImage: 'centos',
      env: { GREETING: 'hi', 'my.var': 'x' },
      inputFiles: {
        'data.txt': { content: 'hello' },
        'dir/b.bin': { content: new Uint8Array([1, 2]) },
        'c.csv': { uri: 'kestra:///a/b.csv' },
      },
      outputFiles: ['out.txt', '**/*.csv', 'reports/{a,b}.json', './rel.txt'],
      namespaceFiles: { 'lib/x.py': { uri: 'podrun://ns/x.py' } },
      interpreter: ['/bin/bash', '-c'],
      timeoutMs: 60_000,
      enableOutputDirectory: false,
    };
    expect(parseTask(task)).toEqual(task);
  });

  it('rejects unsafe input file names and bad globs, all at once', () => {
    const issues = issuesOf(() =>
      parseTask({
        commands: ['true'],
        inputFiles: {
          '../escape.txt': { content: 'x' },
          '/etc/passwd': { content: 'x' },
          'a//b': { content: 'x' },
          ok: { content: 'x' },
        },
        outputFiles: ['../up.txt', '/abs/*.txt', 'regex:.*', 'a{b', ''],
        namespaceFiles: { 'C:\\win.txt': { uri: 'x' } },
      }),
    );
    expect(issues.map((i) => i.path)).toEqual([
      'task.inputFiles["../escape.txt"]',
      'task.inputFiles["/etc/passwd"]',
      'task.inputFiles["a//b"]',
      'task.outputFiles[0]',
      'task.outputFiles[1]',
      'task.outputFiles[2]',
      'task.outputFiles[3]',
      'task.outputFiles[4]',
      'task.namespaceFiles["C:\\\\win.txt"]',
    ]);
    expect(issues[0]!.message).toContain("contains '..'");
    expect(issues[1]!.message).toContain('is absolute');
  });

  it('requires at least one command and rejects unknown fields', () => {
    const issues = issuesOf(() => parseTask({ commands: [], image: 'x' }));
    expect(issues).toEqual([
      { path: 'task.commands', message: 'needs at least one command' },
      { path: 'task.image', message: 'unknown property; did you mean `containerImage`?' },
    ]);
  });

  it('names the missing containerImage field and says what to do', () => {
    expect(requireContainerImage({ containerImage: ' ubuntu:24.04 ' }, 'io.podrun.kubernetes')).toBe('ubuntu:24.04');
    const issues = issuesOf(() => requireContainerImage({}, 'io.podrun.kubernetes', { path: 'tasks[0]' }));
    expect(issues[0]!.path).toBe('tasks[0].containerImage');
    expect(issues[0]!.message).toContain('io.podrun.kubernetes');
    expect(issues[0]!.message).toContain('set containerImage on the task');
  });
});

describe('paths', () => {
  it('uses the reference locations with an output dir stable per task run', () => {
    const a = defaultPodPaths({ taskRunId: 'run-1' });
    expect(a.root).toBe('/kestra');
    expect(a.workingDir).toBe('/kestra/working-dir');
    expect(a.outputDir).toMatch(/^\/kestra\/working-dir\/out-[0-9a-f]{20}$/);
    expect(defaultPodPaths({ taskRunId: 'run-1' })).toEqual(a);
    expect(defaultPodPaths({ taskRunId: 'run-2' }).outputDir).not.toBe(a.outputDir);
  });

  it('tells safe relative paths from unsafe ones', () => {
    for (const ok of ['a', 'a/b.txt', '.hidden', 'a..b', 'dir/...']) expect(relativePathProblem(ok)).toBeUndefined();
    for (const bad of ['', '/a', '..', 'a/../b', 'a/./b', 'a\\b', 'a\0b', 'C:/x', 'a/'])
      expect(relativePathProblem(bad)).toBeDefined();
    expect(outputGlobProblem('**/*.csv')).toBeUndefined();
    expect(outputGlobProblem('[ab].txt')).toBeUndefined();
    expect(outputGlobProblem('[ab.txt')).toBeDefined();
  });
});
