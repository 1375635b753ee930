import { z } from 'zod';
import { retryPolicySchema, taskCacheSchema, workerGroupSchema } from './config/definitions.js';
import { dynamicKubernetesRunnerConfigSchema } from './config/kubernetes-runner.js';

/**
 * The JSON Schema files podrun publishes under `@podrun/core/schemas/`, by file name. They
 * describe configuration as users write it (flow stage: templates allowed where the property is
 * dynamic, durations as ISO-8601 strings), in draft-07, which YAML editors support best.
 * `npm run schemas -w @podrun/core` writes them; a test fails when the committed files differ.
 */
export function configJsonSchemas(): Record<string, Record<string, unknown>> {
  const convert = (schema: z.ZodType, id: string) => ({
    $id: `https://unpkg.com/@podrun/core/schemas/${id}`,
    ...z.toJSONSchema(schema, { io: 'input', target: 'draft-07', unrepresentable: 'any' }),
  });
  return {
    'kubernetes-runner.schema.json': convert(dynamicKubernetesRunnerConfigSchema, 'kubernetes-runner.schema.json'),
    'retry-policy.schema.json': convert(retryPolicySchema, 'retry-policy.schema.json'),
    'task-cache.schema.json': convert(taskCacheSchema, 'task-cache.schema.json'),
    'worker-group.schema.json': convert(workerGroupSchema, 'worker-group.schema.json'),
  };
}
