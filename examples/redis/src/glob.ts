// Redis's glob patterns (KEYS, SCAN MATCH, CONFIG GET) as regular expressions:
// * ? [abc] [^a] [a-z] and \ to escape.

const cache = new Map<string, RegExp>();
const SPECIAL = /[.*+?^${}()|[\]\\/]/g;

export function globToRegExp(pattern: string): RegExp {
  const hit = cache.get(pattern);
  if (hit) return hit;
  let re = '^';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') re += '[\\s\\S]*';
    else if (c === '?') re += '[\\s\\S]';
    else if (c === '\\' && i + 1 < pattern.length) re += pattern[++i]!.replace(SPECIAL, '\\$&');
    else if (c === '[') {
      let j = i + 1;
      let cls = '';
      if (pattern[j] === '^') {
        cls += '^';
        j++;
      }
      for (; j < pattern.length && pattern[j] !== ']'; j++) {
        const d = pattern[j]!;
        if (d === '\\' && j + 1 < pattern.length) cls += `\\${pattern[++j]}`;
        else if (
          d === '-' &&
          cls !== '' &&
          cls !== '^' &&
          j + 1 < pattern.length &&
          pattern[j + 1] !== ']'
        )
          cls += '-';
        else cls += d.replace(SPECIAL, '\\$&');
      }
      re += cls === '' || cls === '^' ? '(?!)' : `[${cls}]`;
      i = j;
    } else re += c.replace(SPECIAL, '\\$&');
  }
  const compiled = new RegExp(`${re}$`);
  if (cache.size > 1000) cache.clear();
  cache.set(pattern, compiled);
  return compiled;
}
