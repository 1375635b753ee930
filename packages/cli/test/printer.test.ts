import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createPrinter } from '../src/printer.js';
import type { OutStream } from '../src/io.js';

function stream(isTTY: boolean): OutStream & { text(): string } {
  let text = '';
  const s = new Writable({
    write(chunk, _enc, done) {
      text += String(chunk);
      done();
    },
  }) as OutStream & { text(): string };
  s.isTTY = isTTY;
  s.text = () => text;
  return s;
}

describe('printer', () => {
  it('draws a progress bar on a terminal and keeps task lines intact', () => {
    const out = stream(true);
    const p = createPrinter({ logs: out, messages: out });
    p.taskProgress!('copy', { phase: 'upload', bytes: 512, totalBytes: 1024 });
    p.taskLog!('copy', { container: 'main', timestamp: 't', text: 'hello' });
    p.taskProgress!('copy', { phase: 'upload', bytes: 1024, totalBytes: 1024 });
    const text = out.text();
    expect(text).toContain('[copy] upload   [############............] 512 B / 1.0 KiB');
    expect(text).toContain('\r\x1b[2K[copy] hello\n');
    expect(text.endsWith('[########################] 1.0 KiB / 1.0 KiB\n')).toBe(true);
  });

  it('prints one plain line per finished transfer when not a terminal', () => {
    const out = stream(false);
    const p = createPrinter({ logs: out, messages: out });
    for (const bytes of [100, 200, 300]) p.taskProgress!('copy', { phase: 'download', bytes, totalBytes: 300 });
    p.runnerLog!('copy', 'info', '[podrun] [kubernetes-runner] pod created');
    expect(out.text()).toBe('[copy] downloaded 300 B\n[copy] pod created\n');
  });
});
