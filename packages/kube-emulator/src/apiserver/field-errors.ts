// field.Error as apimachinery renders it: `Type` becomes the cause `reason`, ErrorBody the
// cause `message` (pkg/util/validation/field/errors.go).
import type { StatusCause } from './status.js';

/** One validation problem at a field path. */
export type FieldError = Required<StatusCause>;

function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value === null || value === undefined) return 'null';
  return JSON.stringify(value);
}

export const fieldErrors = {
  required(field: string, detail = ''): FieldError {
    return { reason: 'FieldValueRequired', field, message: detail ? `Required value: ${detail}` : 'Required value' };
  },
  invalid(field: string, value: unknown, detail: string): FieldError {
    return { reason: 'FieldValueInvalid', field, message: `Invalid value: ${show(value)}: ${detail}` };
  },
  duplicate(field: string, value: unknown): FieldError {
    return { reason: 'FieldValueDuplicate', field, message: `Duplicate value: ${show(value)}` };
  },
  notFound(field: string, value: unknown): FieldError {
    return { reason: 'FieldValueNotFound', field, message: `Not found: ${show(value)}` };
  },
  notSupported(field: string, value: unknown, supported: string[]): FieldError {
    const list = [...supported]
      .sort()
      .map((v) => JSON.stringify(v))
      .join(', ');
    return {
      reason: 'FieldValueNotSupported',
      field,
      message: `Unsupported value: ${show(value)}: supported values: ${list}`,
    };
  },
  forbidden(field: string, detail: string): FieldError {
    return { reason: 'FieldValueForbidden', field, message: `Forbidden: ${detail}` };
  },
};
