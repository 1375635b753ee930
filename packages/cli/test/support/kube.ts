// Applies YAML documents and asks for ServiceAccount tokens with client-node, as an operator would
// with kubectl apply / kubectl create token.
import { CoreV1Api, KubeConfig, KubernetesObjectApi } from '@kubernetes/client-node';
import type { KubernetesObject } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';

export async function applyYaml(kubeconfig: string, text: string): Promise<void> {
  const kc = new KubeConfig();
  kc.loadFromString(kubeconfig);
  const api = KubernetesObjectApi.makeApiClient(kc);
  for (const doc of parseAllDocuments(text)) {
    const spec = doc.toJS() as KubernetesObject | null;
    if (spec?.kind) await api.create(spec);
  }
}

export async function serviceAccountToken(kubeconfig: string, namespace: string, name: string): Promise<string> {
  const kc = new KubeConfig();
  kc.loadFromString(kubeconfig);
  const core = kc.makeApiClient(CoreV1Api);
  const review = await core.createNamespacedServiceAccountToken({
    name,
    namespace,
    body: { spec: { audiences: [], expirationSeconds: 3600 } },
  });
  return review.status!.token;
}
