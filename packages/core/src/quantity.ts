// Kubernetes' resource.Quantity grammar (a signed decimal, then a binary or decimal SI suffix, or
// an exponent), in one place for the schemas, the pod builder and the emulator's scheduler.

const binary: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const decimal: Record<string, number> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
};
/** The quantity grammar as a pattern (JSON schemas publish it). */
export const QUANTITY_PATTERN = /^([+-]?(?:\d+\.?\d*|\.\d+))(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E))?$/;

/** Whether `text` is a Kubernetes quantity (`500m`, `2`, `1.5`, `256Mi`, `1e3`). */
export function isQuantity(text: string): boolean {
  return QUANTITY_PATTERN.test(text);
}

/** A quantity's value in base units (cores, bytes, count); NaN when malformed. */
export function parseQuantity(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value !== 'string') return Number.NaN;
  const match = QUANTITY_PATTERN.exec(value.trim());
  if (!match) return Number.NaN;
  const number = Number(match[1]);
  if (match[2]) return number * 10 ** Number(match[2].slice(1));
  const suffix = match[3] ?? '';
  return number * (binary[suffix] ?? decimal[suffix] ?? Number.NaN);
}
