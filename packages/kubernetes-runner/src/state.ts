// What the runner keeps in the host's durable RunState so a restarted runner can reattach: the
// pod (name + uid), when it started running, log cursors, log-protocol vars and the stored
// outputs. Everything but the pod reference is tied to the pod's uid, so it is never applied to
// another pod.
import type { LogCursor, RunState, TaskMetric } from '@podrun/core';

export interface PodRef {
  namespace: string;
  name: string;
  uid: string;
}

interface Tagged<T> {
  uid: string;
  value: T;
}

const KEY = {
  pod: 'kubernetes.pod',
  runningSince: 'kubernetes.runningSince',
  cursor: (container: string) => `kubernetes.logCursor.${container}`,
  protocol: 'kubernetes.protocol',
  outputs: 'kubernetes.outputs',
};

export class RunnerState {
  constructor(
    private readonly state: RunState,
    private uid: string = '',
  ) {}

  bind(uid: string): void {
    this.uid = uid;
  }

  async #get<T>(key: string): Promise<T | undefined> {
    const tagged = await this.state.get<Tagged<T>>(key);
    return tagged && tagged.uid === this.uid ? tagged.value : undefined;
  }

  #set(key: string, value: unknown): Promise<void> {
    return this.state.set(key, { uid: this.uid, value });
  }

  pod(): Promise<PodRef | undefined> {
    return this.state.get<PodRef>(KEY.pod);
  }
  setPod(pod: PodRef): Promise<void> {
    this.uid = pod.uid;
    return this.state.set(KEY.pod, pod);
  }

  runningSince(): Promise<number | undefined> {
    return this.#get<number>(KEY.runningSince);
  }
  setRunningSince(at: number): Promise<void> {
    return this.#set(KEY.runningSince, at);
  }

  cursor(container: string): Promise<LogCursor | undefined> {
    return this.#get<LogCursor>(KEY.cursor(container));
  }
  setCursor(container: string, cursor: LogCursor): Promise<void> {
    return this.#set(KEY.cursor(container), cursor);
  }

  protocol(): Promise<{ vars: Record<string, unknown>; metrics: TaskMetric[] } | undefined> {
    return this.#get(KEY.protocol);
  }
  setProtocol(vars: Record<string, unknown>, metrics: readonly TaskMetric[]): Promise<void> {
    return this.#set(KEY.protocol, { vars, metrics });
  }

  outputs(): Promise<Record<string, string> | undefined> {
    return this.#get(KEY.outputs);
  }
  /** Stored outputs of a pod other than the bound one (resume candidates). */
  async outputsOf(uid: string): Promise<Record<string, string> | undefined> {
    const tagged = await this.state.get<Tagged<Record<string, string>>>(KEY.outputs);
    return tagged && tagged.uid === uid ? tagged.value : undefined;
  }
  setOutputs(outputs: Record<string, string>): Promise<void> {
    return this.#set(KEY.outputs, outputs);
  }
}
