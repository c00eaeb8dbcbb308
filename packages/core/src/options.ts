import type { z } from 'zod';
import { DemiError } from './errors.js';
import { lazySchema, loadZod } from './libraries.js';
import { describe } from './validate.js';

/**
 * Option parsing for backends, with the schema library the config uses (zod):
 * a backend states its options as a schema built on first use (`lazySchema`)
 * and gets them back typed, or a DemiError EINVAL that names every bad option
 * and what it takes. zod is loaded only when a schema is first built.
 */
export type { z };
export { lazySchema, loadZod };

/** A network namespace name, as `ip netns list` shows it. */
export const netnsName = lazySchema((z) =>
  z.string().regex(/^[^/\0]{1,200}$/, 'a network namespace name (as in `ip netns list`)'),
);

/** An integer option within [min, max] (loads zod: call it inside a lazySchema builder). */
export const intIn = (min: number, max: number) => loadZod().number().int().min(min).max(max);

export function parseOptions<S extends z.ZodType>(
  schema: S,
  options: unknown,
  what: string,
  syscall = 'open',
): z.output<S> {
  if (typeof options !== 'object' || options === null)
    throw new DemiError('EINVAL', `${what}: options must be an object, got ${describe(options)}`, {
      syscall,
    });
  const parsed = schema.safeParse(options);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => {
    const key = issue.path.join('.');
    const value = issue.path.reduce<unknown>(
      (v, k) => (v as Record<PropertyKey, unknown> | undefined)?.[k as PropertyKey],
      options,
    );
    return key === ''
      ? issue.message
      : `${key} must be ${describeIssue(issue)}, got ${describe(value)}`;
  });
  throw new DemiError('EINVAL', `${what}: ${problems.join('; ')}`, { syscall });
}

function describeIssue(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return `of type ${issue.expected}`;
    case 'too_small':
      return issue.origin === 'array'
        ? `an array of at least ${String(issue.minimum)} item(s)`
        : `at least ${String(issue.minimum)}`;
    case 'too_big':
      return `at most ${String(issue.maximum)}`;
    case 'invalid_value':
      return `one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    default:
      return issue.message;
  }
}
