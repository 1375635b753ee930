// apiserver_request_total, counted like kube-apiserver's endpoints/metrics (verb in upper case:
// GET, LIST, WATCH, POST, PUT, PATCH, DELETE, CONNECT) and served as Prometheus text.

/** Labels of one counted request. */
export interface RequestLabels {
  verb: string;
  group: string;
  version: string;
  resource: string;
  subresource: string;
  scope: string;
  code: string;
}

/** Which requests to count; every given field must match (verb is case-insensitive). */
export interface RequestFilter {
  verb?: string;
  group?: string;
  resource?: string;
  subresource?: string;
  code?: number | string;
}

/** The request counters. */
export interface ApiMetrics {
  /** Sum of apiserver_request_total over the series matching `filter`. */
  requestCount(filter?: RequestFilter): number;
  /** Every series with its count. */
  series(): { labels: RequestLabels; count: number }[];
  /** Sets every counter back to zero. */
  reset(): void;
}

/** The recorder behind {@link ApiMetrics}. */
export interface MetricsRecorder extends ApiMetrics {
  record(labels: RequestLabels): void;
  /** The Prometheus text exposition. */
  text(): string;
}

const labelOrder = ['code', 'component', 'dry_run', 'group', 'resource', 'scope', 'subresource', 'verb', 'version'];

function escape(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

/** Creates empty counters. */
export function createMetrics(): MetricsRecorder {
  const counts = new Map<string, { labels: RequestLabels; count: number }>();
  const matches = (labels: RequestLabels, filter: RequestFilter): boolean =>
    (filter.verb === undefined || labels.verb === filter.verb.toUpperCase()) &&
    (filter.group === undefined || labels.group === filter.group) &&
    (filter.resource === undefined || labels.resource === filter.resource) &&
    (filter.subresource === undefined || labels.subresource === filter.subresource) &&
    (filter.code === undefined || labels.code === String(filter.code));

  return {
    record(labels) {
      const key = JSON.stringify(labels);
      const entry = counts.get(key);
      if (entry) entry.count++;
      else counts.set(key, { labels, count: 1 });
    },
    requestCount(filter = {}) {
      let total = 0;
      for (const { labels, count } of counts.values()) if (matches(labels, filter)) total += count;
      return total;
    },
    series() {
      return [...counts.values()].map((e) => ({ labels: { ...e.labels }, count: e.count }));
    },
    reset() {
      counts.clear();
    },
    text() {
      const lines = [
        '# HELP apiserver_request_total [STABLE] Counter of apiserver requests broken out for each verb, dry run value, group, version, resource, scope, component, and HTTP response code.',
        '# TYPE apiserver_request_total counter',
      ];
      for (const { labels, count } of counts.values()) {
        const all: Record<string, string> = { ...labels, component: 'apiserver', dry_run: '' };
        const text = labelOrder.map((k) => `${k}="${escape(all[k] ?? '')}"`).join(',');
        lines.push(`apiserver_request_total{${text}} ${count}`);
      }
      return `${lines.join('\n')}\n`;
    },
  };
}
