import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  ErrorCodes,
  dynamicKubernetesRunnerConfigSchema,
  kubernetesRunnerConfigSchema,
  kubernetesRunnerProperties,
  parseDynamicRunnerConfig,
  parseRunnerConfig,
  type KubernetesRunnerConfig,
} from '@podrun/core';

/** Property names exactly as the reference (seed) lists them. */
const SEED_PROPERTIES = [
  'config',
  'containerSpec',
  'delete',
  'fileSideCarSpec',
  'fileSidecar',
  'labels',
  'namespace',
  'nodeSelector',
  'podSpec',
  'pullPolicy',
  'resources',
  'resume',
  'serviceAccountName',
  'syncWorkingDirectory',
  'version',
  'waitForLogs',
  'waitUntilCompletion',
  'waitUntilRunning',
];
/** podrun's own properties, on top of the reference's (and `type`, which both have). */
const PODRUN_PROPERTIES = [
  'failOnUnschedulable',
  'fileTransfer',
  'imagePullGracePeriod',
  'logCollector',
  'referenceLabels',
];
const SEED_CONNECTION = [
  'apiVersion',
  'caCertData',
  'caCertFile',
  'clientCertData',
  'clientCertFile',
  'clientKeyAlgo',
  'clientKeyData',
  'clientKeyFile',
  'clientKeyPassphrase',
  'disableHostnameVerification',
  'keyStoreFile',
  'keyStorePassphrase',
  'masterUrl',
  'namespace',
  'oauthToken',
  'oauthTokenProvider',
  'password',
  'trustCerts',
  'trustStoreFile',
  'trustStorePassphrase',
  'username',
];

/** A configuration setting every property (CA/cert/key as files so the data variants can be checked apart). */
const everything = {
  type: 'io.kestra.plugin.ee.kubernetes.runner.Kubernetes',
  config: {
    apiVersion: 'v1',
    caCertFile: '/etc/ca.pem',
    clientCertFile: '/etc/client.pem',
    clientKeyAlgo: 'EC',
    clientKeyFile: '/etc/client.key',
    clientKeyPassphrase: 'key-pass',
    disableHostnameVerification: 'true',
    keyStoreFile: '/etc/ks.p12',
    keyStorePassphrase: 'ks-pass',
    masterUrl: 'https://10.0.0.1:6443',
    namespace: 'ops',
    oauthTokenProvider: {
      task: { id: 'token', type: 'io.kestra.plugin.gcp.auth.OauthAccessToken' },
      output: '{{ outputs.token.accessToken.tokenValue }}',
      cache: 'PT10M',
    },
    password: 'pw',
    trustCerts: false,
    trustStoreFile: '/etc/ts.p12',
    trustStorePassphrase: 'ts-pass',
    username: 'admin',
  },
  containerSpec: { securityContext: { runAsNonRoot: true } },
  delete: false,
  fileSideCarSpec: { securityContext: { runAsUser: 1000 } },
  fileSidecar: { image: 'busybox:1.36', resources: { request: { cpu: '50m' } }, defaultSpec: { env: [] } },
  labels: { team: 'data', 'app.kubernetes.io/name': 'etl' },
  namespace: 'jobs',
  nodeSelector: { 'kubernetes.io/arch': 'amd64' },
  podSpec: { tolerations: [{ key: 'gpu', operator: 'Exists' }] },
  pullPolicy: 'IF_NOT_PRESENT',
  resources: { request: { cpu: '500m', memory: '256Mi' }, limit: { cpu: 2, memory: '1Gi' } },
  resume: 'false',
  serviceAccountName: 'task-runner',
  syncWorkingDirectory: true,
  version: '1.2.3-rc1',
  waitForLogs: 'PT0.5S',
  waitUntilCompletion: 'P1DT2H',
  waitUntilRunning: 'PT2M',
  imagePullGracePeriod: 'PT1M30S',
  failOnUnschedulable: true,
  referenceLabels: true,
  fileTransfer: { type: 'pvc', storageClassName: 'standard', size: '5Gi', subPath: 'runs/a', helperImage: 'alpine:3' },
  logCollector: { type: 'poll', interval: 'PT3S' },
};

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

const messageAt = (error: ConfigError, path: string) => error.issues.find((i) => i.path === path)?.message;

describe('Kubernetes runner configuration', () => {
  it('knows every property of the reference, with the same names', () => {
    expect(Object.keys(kubernetesRunnerConfigSchema.shape)).toEqual(expect.arrayContaining(SEED_PROPERTIES));
    expect(Object.keys(kubernetesRunnerConfigSchema.shape).sort()).toEqual(
      ['type', ...SEED_PROPERTIES, ...PODRUN_PROPERTIES].sort(),
    );
    expect(
      kubernetesRunnerProperties
        .filter((p) => p.podrun)
        .map((p) => p.name)
        .sort(),
    ).toEqual(PODRUN_PROPERTIES);
    expect(Object.keys(dynamicKubernetesRunnerConfigSchema.shape).sort()).toEqual(
      Object.keys(kubernetesRunnerConfigSchema.shape).sort(),
    );
    expect(kubernetesRunnerProperties.map((p) => p.name).sort()).toEqual(
      Object.keys(kubernetesRunnerConfigSchema.shape).sort(),
    );
    expect(Object.keys(everything).sort()).toEqual(Object.keys(kubernetesRunnerConfigSchema.shape).sort());
    expect(Object.keys(everything.config).sort()).toEqual(
      SEED_CONNECTION.filter((k) => !/Data$|^oauthToken$/.test(k)).sort(),
    );
  });

  it('parses a configuration that sets every property', () => {
    const parsed = parseRunnerConfig(everything);
    expect(parsed).toEqual({
      ...everything,
      config: {
        ...everything.config,
        disableHostnameVerification: true,
        oauthTokenProvider: { ...everything.config.oauthTokenProvider, cache: 600_000 },
      },
      fileSidecar: { image: 'busybox:1.36', resources: { request: { cpu: '50m' } }, defaultSpec: { env: [] } },
      resources: { request: { cpu: '500m', memory: '256Mi' }, limit: { cpu: '2', memory: '1Gi' } },
      resume: false,
      waitForLogs: 500,
      waitUntilCompletion: 93_600_000,
      waitUntilRunning: 120_000,
      imagePullGracePeriod: 90_000,
      failOnUnschedulable: true,
      referenceLabels: true,
      logCollector: { type: 'poll', interval: 3_000 },
    });
  });

  it('accepts the data variants of the connection and the object-storage transfer', () => {
    const parsed = parseRunnerConfig({
      config: { caCertData: 'LS0t', clientCertData: 'LS0t', clientKeyData: 'LS0t', oauthToken: 'tok' },
      fileTransfer: {
        type: 'object-storage',
        bucket: 'b',
        prefix: 'p/',
        endpoint: 'http://127.0.0.1:9000',
        region: 'eu-west-1',
        forcePathStyle: 'true',
        credentials: { accessKeyId: 'a', secretAccessKey: 's', sessionToken: 't' },
        image: 'curlimages/curl:8.8.0',
      },
    });
    expect(parsed.config).toMatchObject({
      caCertData: 'LS0t',
      clientCertData: 'LS0t',
      clientKeyData: 'LS0t',
      oauthToken: 'tok',
    });
    expect(parsed.fileTransfer).toEqual({
      type: 'object-storage',
      bucket: 'b',
      prefix: 'p/',
      endpoint: 'http://127.0.0.1:9000',
      region: 'eu-west-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'a', secretAccessKey: 's', sessionToken: 't' },
      image: 'curlimages/curl:8.8.0',
      urlExpiry: 3_600_000,
    });
  });

  it('fills in the reference defaults when properties are omitted', () => {
    expect(parseRunnerConfig({})).toEqual({
      type: 'io.podrun.kubernetes',
      delete: true,
      fileSidecar: { image: 'busybox' },
      namespace: 'default',
      pullPolicy: 'ALWAYS',
      resume: true,
      syncWorkingDirectory: false,
      waitForLogs: 5_000,
      waitUntilCompletion: 3_600_000,
      waitUntilRunning: 600_000,
      imagePullGracePeriod: 30_000,
      failOnUnschedulable: false,
      referenceLabels: false,
      fileTransfer: { type: 'exec-tar' },
      logCollector: { type: 'follow' },
    } satisfies KubernetesRunnerConfig);
    expect(parseRunnerConfig(undefined).config).toBeUndefined();
    expect(parseRunnerConfig({ config: {} }).config).toEqual({
      apiVersion: 'v1',
      clientKeyAlgo: 'RSA',
      masterUrl: 'https://kubernetes.default.svc',
    });
    expect(
      parseRunnerConfig({ config: { oauthTokenProvider: { task: { type: 't' }, output: 'o' } } }).config
        ?.oauthTokenProvider?.cache,
    ).toBe(300_000);
    expect(parseRunnerConfig({ fileTransfer: { type: 'pvc' } }).fileTransfer).toEqual({ type: 'pvc', size: '1Gi' });
    expect(parseRunnerConfig({ logCollector: { type: 'poll' } }).logCollector).toEqual({
      type: 'poll',
      interval: 2_000,
    });
  });

  it('never shares default objects between parses', () => {
    const a = parseRunnerConfig({});
    a.fileSidecar.image = 'changed';
    (a.fileTransfer as { type: string }).type = 'changed';
    const b = parseRunnerConfig({});
    expect(b.fileSidecar.image).toBe('busybox');
    expect(b.fileTransfer.type).toBe('exec-tar');
  });

  it('reports every problem at once, each with its path, in document order', () => {
    const error = configError(() =>
      parseRunnerConfig({
        waitForLogs: '5 seconds',
        pullPolicy: 'IfNotPresent',
        delete: 'yes',
        namespace: 'My_NS',
        labels: { team: 3, 'bad key!': 'x' },
        resources: { limit: { memory: 'lots' } },
        fileTransfer: { type: 's3' },
        waitUntilRunning: 'PT0S',
        version: 'not a version',
      }),
    );
    expect(error.code).toBe(ErrorCodes.CONFIG_INVALID);
    expect(error.issues.map((i) => i.path)).toEqual([
      'taskRunner.waitForLogs',
      'taskRunner.pullPolicy',
      'taskRunner.delete',
      'taskRunner.namespace',
      'taskRunner.labels.team',
      'taskRunner.labels["bad key!"]',
      'taskRunner.resources.limit.memory',
      'taskRunner.fileTransfer.type',
      'taskRunner.waitUntilRunning',
      'taskRunner.version',
    ]);
    expect(messageAt(error, 'taskRunner.waitForLogs')).toMatch(
      /^expected an ISO-8601 duration such as PT5S, got "5 seconds"/,
    );
    expect(messageAt(error, 'taskRunner.pullPolicy')).toContain('did you mean IF_NOT_PRESENT?');
    expect(messageAt(error, 'taskRunner.fileTransfer.type')).toContain('"exec-tar", "pvc", "object-storage"');
    expect(error.message).toContain(
      'taskRunner.waitForLogs: expected an ISO-8601 duration such as PT5S, got "5 seconds"',
    );
  });

  it('uses the given path prefix', () => {
    const error = configError(() => parseRunnerConfig({ waitForLogs: 'x' }, { path: 'tasks[2].taskRunner' }));
    expect(error.issues[0]!.path).toBe('tasks[2].taskRunner.waitForLogs');
  });

  it('rejects unknown keys with a "did you mean" when a known key is close', () => {
    const error = configError(() =>
      parseRunnerConfig({
        waitForLog: 'PT5S',
        fileSidecarSpec: {},
        config: { mastrUrl: 'https://x' },
        fileTransfer: { type: 'pvc', sise: '1Gi' },
        fileSidecar: { imgae: 'busybox' },
        completelyUnrelated: 1,
        containerImage: 'ubuntu',
      }),
    );
    expect(messageAt(error, 'taskRunner.waitForLog')).toContain('did you mean `waitForLogs`?');
    expect(messageAt(error, 'taskRunner.fileSidecarSpec')).toContain('did you mean `fileSideCarSpec`?');
    expect(messageAt(error, 'taskRunner.config.mastrUrl')).toContain('did you mean `masterUrl`?');
    expect(messageAt(error, 'taskRunner.fileTransfer.sise')).toContain('did you mean `size`?');
    expect(messageAt(error, 'taskRunner.fileSidecar.imgae')).toContain('did you mean `image`?');
    expect(messageAt(error, 'taskRunner.completelyUnrelated')).toMatch(
      /^unknown property; expected one of: .*waitForLogs/,
    );
    expect(messageAt(error, 'taskRunner.containerImage')).toContain('belongs to the task');
  });

  it('suggests only keys of the chosen strategy', () => {
    const error = configError(() =>
      parseRunnerConfig({ fileTransfer: { type: 'object-storage', bucket: 'b', urlExpiri: 'PT1H' } }),
    );
    expect(messageAt(error, 'taskRunner.fileTransfer.urlExpiri')).toContain('did you mean `urlExpiry`?');
  });

  it('checks connection combinations without showing values', () => {
    const error = configError(() =>
      parseRunnerConfig({ config: { clientCertData: 'x', caCertData: 'a', caCertFile: 'b', password: 'pw' } }),
    );
    expect(error.issues.map((i) => i.path).sort()).toEqual([
      'taskRunner.config.caCertFile',
      'taskRunner.config.clientKeyData',
      'taskRunner.config.username',
    ]);
  });

  it('limits pre-signed URL lifetime to what S3 allows', () => {
    const error = configError(() =>
      parseRunnerConfig({ fileTransfer: { type: 'object-storage', bucket: 'b', urlExpiry: 'P8D' } }),
    );
    expect(messageAt(error, 'taskRunner.fileTransfer.urlExpiry')).toContain('7 days');
  });
});

describe('dynamic (flow) versus rendered (runner) configuration', () => {
  const templated = {
    delete: '{{ inputs.keep }}',
    resume: '{% if x %}true{% endif %}',
    syncWorkingDirectory: '{{ vars.sync }}',
    namespace: '{{ inputs.ns }}',
    labels: { team: '{{ flow.namespace }}', '{{ inputs.key }}': 'v' },
    nodeSelector: '{{ inputs.selector }}',
    podSpec: '{{ inputs.podSpec }}',
    containerSpec: { image: '{{ x }}' },
    fileSideCarSpec: '{{ y }}',
    pullPolicy: '{{ inputs.policy }}',
    serviceAccountName: '{{ sa }}',
    waitForLogs: '{{ inputs.wait }}',
    waitUntilCompletion: '{{ inputs.timeout }}',
    waitUntilRunning: '{{ inputs.start }}',
    imagePullGracePeriod: '{{ inputs.pullGrace }}',
    config: {
      oauthToken: "{{ secret('K8S_TOKEN') }}",
      trustCerts: '{{ inputs.insecure }}',
      masterUrl: '{{ vars.url }}',
    },
    fileTransfer: { type: 'object-storage', bucket: '{{ b }}', urlExpiry: '{{ e }}', forcePathStyle: '{{ f }}' },
    logCollector: { type: 'poll', interval: '{{ i }}' },
  };

  it('accepts templates in dynamic properties of a flow and keeps them unrendered', () => {
    const parsed = parseDynamicRunnerConfig(templated);
    expect(parsed.delete).toBe('{{ inputs.keep }}');
    expect(parsed.waitForLogs).toBe('{{ inputs.wait }}');
    expect(parsed.imagePullGracePeriod).toBe('{{ inputs.pullGrace }}');
    expect(parsed.labels).toEqual({ team: '{{ flow.namespace }}', '{{ inputs.key }}': 'v' });
    expect(parsed.config?.oauthToken).toBe("{{ secret('K8S_TOKEN') }}");
    expect(parsed.logCollector).toEqual({ type: 'poll', interval: '{{ i }}' });
  });

  it('keeps typed values as written in a flow (durations stay strings)', () => {
    const parsed = parseDynamicRunnerConfig({ waitForLogs: 'PT1S', delete: false });
    expect(parsed.waitForLogs).toBe('PT1S');
    expect(parsed.waitUntilRunning).toBe('PT10M');
    expect(parsed.imagePullGracePeriod).toBe('PT30S');
    expect(parsed.delete).toBe(false);
  });

  it('rejects templates in non-dynamic properties, in flows too', () => {
    const error = configError(() =>
      parseDynamicRunnerConfig({
        version: '{{ v }}',
        fileSidecar: { image: '{{ img }}' },
        resources: { request: { cpu: '{{ cpu }}' } },
        config: '{{ conn }}',
      }),
    );
    for (const path of [
      'taskRunner.version',
      'taskRunner.fileSidecar.image',
      'taskRunner.resources.request.cpu',
      'taskRunner.config',
    ]) {
      expect(messageAt(error, path)).toMatch(/^is not dynamic/);
    }
  });

  it('rejects every unrendered template after rendering', () => {
    const error = configError(() => parseRunnerConfig(templated));
    for (const path of [
      'taskRunner.delete',
      'taskRunner.namespace',
      'taskRunner.waitForLogs',
      'taskRunner.imagePullGracePeriod',
      'taskRunner.pullPolicy',
      'taskRunner.config.trustCerts',
    ]) {
      expect(messageAt(error, path)).toMatch(/unrendered template/);
    }
  });

  it('still validates typed values in a flow', () => {
    const error = configError(() => parseDynamicRunnerConfig({ waitForLogs: '5 seconds', delete: 'yes', podSpec: 5 }));
    expect(messageAt(error, 'taskRunner.waitForLogs')).toMatch(
      /^expected an ISO-8601 duration such as PT5S, got "5 seconds"/,
    );
    expect(messageAt(error, 'taskRunner.delete')).toBe('expected true or false, got "yes"');
    expect(messageAt(error, 'taskRunner.podSpec')).toMatch(/^expected an object or a template/);
  });

  it('converts what rendered templates yield: "true"/"false" and JSON objects', () => {
    const parsed = parseRunnerConfig({
      delete: 'FALSE',
      resume: 'true',
      podSpec: '{"hostNetwork":true}',
      labels: '{"team":"data"}',
    });
    expect(parsed.delete).toBe(false);
    expect(parsed.resume).toBe(true);
    expect(parsed.podSpec).toEqual({ hostNetwork: true });
    expect(parsed.labels).toEqual({ team: 'data' });
    const error = configError(() => parseRunnerConfig({ labels: '{"team":"a b"}', podSpec: '[1]' }));
    expect(error.issues.map((i) => i.path)).toEqual(['taskRunner.labels.team', 'taskRunner.podSpec']);
  });

  it('accepts both runner type names and nothing else', () => {
    expect(parseRunnerConfig({ type: 'io.podrun.kubernetes' }).type).toBe('io.podrun.kubernetes');
    expect(parseDynamicRunnerConfig({ type: 'io.kestra.plugin.ee.kubernetes.runner.Kubernetes' }).type).toBe(
      'io.kestra.plugin.ee.kubernetes.runner.Kubernetes',
    );
    expect(
      configError(() => parseRunnerConfig({ type: 'io.kestra.plugin.scripts.runner.docker.Docker' })).issues[0]!.path,
    ).toBe('taskRunner.type');
  });
});
