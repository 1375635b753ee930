// One attach session over the remotecommand WebSocket protocol: the container's own stdin, stdout
// and stderr, from now on (earlier output is in its log). Like the kubelet's, the session ends with
// a Success status once the container's output ends; stdin reaches the container only when its spec
// has `stdin: true`, and with `stdinOnce` the first session's end of stdin closes it for good.
import type { Readable } from 'node:stream';
import type { WebSocket } from 'ws';
import type { ExecRequest } from '../contracts.js';
import type { RunningInstance } from './container-runner.js';
import { finishWithStatus, internalErrorStatus } from './exec.js';

/** Runs the session until the container's output ends or the client goes away. */
export function runAttach(request: ExecRequest, socket: WebSocket, instance: RunningInstance): void {
  if (socket.readyState !== socket.OPEN) return;
  const { sandbox } = instance;
  if (sandbox.initPid() === undefined) {
    finishWithStatus(socket, request.protocol, internalErrorStatus(`container not found ("${request.container}")`));
    return;
  }
  const v5 = request.protocol.startsWith('v5.');
  const stdin = request.stdin ? sandbox.stdin : undefined;
  let closedStdin = false;
  const endStdin = (): void => {
    if (closedStdin || !stdin) return;
    closedStdin = true;
    if (instance.stdinOnce) stdin.end();
  };

  const first = request.stdout ? 1 : request.stderr ? 2 : 3;
  socket.send(Buffer.from([first]));
  // The container's output is not slowed for a slow client (its log must not wait): the socket buffers.
  const taps: [Readable, (chunk: Buffer) => void][] = [];
  const tap = (stream: Readable, channel: number): void => {
    const onData = (chunk: Buffer): void => {
      if (socket.readyState === socket.OPEN) socket.send(Buffer.concat([Buffer.from([channel]), chunk]));
    };
    stream.on('data', onData);
    taps.push([stream, onData]);
  };
  if (request.stdout) tap(sandbox.stdout, 1);
  if (request.stderr) tap(sandbox.stderr, 2);

  const detach = (): void => {
    for (const [stream, onData] of taps) stream.off('data', onData);
    taps.length = 0;
  };
  socket.on('message', (data: Buffer) => {
    if (data.length === 0) return;
    if (data[0] === 0) {
      if (stdin && !closedStdin && !stdin.writableEnded) stdin.write(data.subarray(1));
    } else if (data[0] === 255 && v5 && data[1] === 0) endStdin();
  });
  // Before v5 a client ends its stdin by closing the connection.
  socket.on('close', () => {
    detach();
    endStdin();
  });
  socket.on('error', () => {
    detach();
    endStdin();
  });
  void sandbox.exited.then(() => {
    detach();
    finishWithStatus(socket, request.protocol, { metadata: {}, status: 'Success' });
  });
}
