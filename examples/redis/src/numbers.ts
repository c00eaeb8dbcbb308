// Numbers as Redis reads and prints them: 64-bit integers in Redis's strict
// decimal form (no '+', no leading zeros, no spaces) and doubles as %.17g.

const INTEGER = /^(?:-?[1-9][0-9]*|0)$/;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const FLOAT = /^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/;

/** A signed 64-bit integer: a number when it is a safe integer, else a bigint; undefined if invalid. */
export function parseInt64(s: string): number | bigint | undefined {
  if (s.length > 20 || !INTEGER.test(s)) return undefined;
  if (s.length <= 15) return Number(s);
  const big = BigInt(s);
  if (big < INT64_MIN || big > INT64_MAX) return undefined;
  return Number.isSafeInteger(Number(big)) ? Number(big) : big;
}

/** An int64 argument as a number (indexes and counts, where precision past 2^53 does not matter). */
export function parseIntArg(s: string): number | undefined {
  const v = parseInt64(s);
  return v === undefined ? undefined : Number(v);
}

/** a + b as int64, or undefined on overflow. */
export function addInt64(a: number | bigint, b: number | bigint): number | bigint | undefined {
  if (typeof a === 'number' && typeof b === 'number') {
    const sum = a + b;
    if (Number.isSafeInteger(sum)) return sum;
  }
  const big = BigInt(a) + BigInt(b);
  if (big < INT64_MIN || big > INT64_MAX) return undefined;
  return Number.isSafeInteger(Number(big)) ? Number(big) : big;
}

/** A double as Redis's strtod-based parsing accepts it (inf allowed, NaN refused). */
export function parseDouble(s: string): number | undefined {
  const lower = s.toLowerCase();
  if (lower === 'inf' || lower === '+inf' || lower === 'infinity' || lower === '+infinity')
    return Number.POSITIVE_INFINITY;
  if (lower === '-inf' || lower === '-infinity') return Number.NEGATIVE_INFINITY;
  if (!FLOAT.test(s)) return undefined;
  return Number(s);
}

/** printf's %.17g, which Redis uses for scores. */
export function formatDouble(x: number): string {
  if (x === Number.POSITIVE_INFINITY) return 'inf';
  if (x === Number.NEGATIVE_INFINITY) return '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0' : '0';
  const [mantissa, expText] = x.toExponential(16).split('e') as [string, string];
  const exp = Number(expText);
  if (exp < -4 || exp >= 17) {
    const digits = mantissa.includes('.') ? mantissa.replace(/\.?0+$/, '') : mantissa;
    const sign = exp < 0 ? '-' : '+';
    return `${digits}e${sign}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  const fixed = x.toFixed(16 - exp);
  return fixed.includes('.') ? fixed.replace(/\.?0+$/, '') : fixed;
}
