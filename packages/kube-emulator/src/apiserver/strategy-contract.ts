// The shape of a resource's strategy, apart from the strategies themselves so that each
// resource's strategy module (pods have their own) can implement it without importing the table.
import type { KubeObject } from '../contracts.js';
import type { ServerContext } from './context.js';
import type { FieldError } from './field-errors.js';
import type { NameRule } from './validation.js';

/** Hooks of one resource; all optional but the name rule. */
export interface Strategy {
  nameRule: NameRule;
  /** Has a status subresource: PUT on the object keeps status, PUT on status keeps the rest. */
  hasStatus?: boolean;
  /** DELETE answers with the object (pods, namespaces, claims) instead of a Success Status. */
  returnsDeletedObject?: boolean;
  prepareCreate?(ctx: ServerContext, object: KubeObject): void;
  /** Admission after defaulting; throws an ApiStatusError to refuse. */
  admit?(ctx: ServerContext, object: KubeObject): void;
  validate?(object: KubeObject): FieldError[];
  validateUpdate?(next: KubeObject, old: KubeObject): FieldError[];
  prepareUpdate?(next: KubeObject, old: KubeObject): void;
  afterCreate?(ctx: ServerContext, object: KubeObject): void;
  /** Custom deletion (graceful pods, terminating namespaces); default removes at once. */
  delete?(ctx: ServerContext, object: KubeObject, gracePeriodSeconds: number | undefined): KubeObject;
}
