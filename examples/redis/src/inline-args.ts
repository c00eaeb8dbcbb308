// Splits an inline request line into arguments the way redis-cli and Redis do:
// blanks separate arguments; "double quotes" understand \n \r \t \b \a \xHH and
// \<any>; 'single quotes' understand \'; a closing quote must end the argument.

const isSpace = (c: string): boolean =>
  c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\v' || c === '\f';
const HEX = /^[0-9a-fA-F]{2}$/;
const ESCAPES: Record<string, string> = { n: '\n', r: '\r', t: '\t', b: '\b', a: '\x07' };

/** The arguments, or undefined when quotes are unbalanced. */
export function splitInlineArgs(line: string): string[] | undefined {
  const args: string[] = [];
  let i = 0;
  const n = line.length;
  for (;;) {
    while (i < n && isSpace(line[i]!)) i++;
    if (i >= n) return args;
    let current = '';
    let quote: '"' | "'" | undefined;
    for (;;) {
      if (quote === '"') {
        if (i >= n) return undefined;
        const c = line[i]!;
        if (c === '\\' && line[i + 1] === 'x' && HEX.test(line.slice(i + 2, i + 4))) {
          current += String.fromCharCode(Number.parseInt(line.slice(i + 2, i + 4), 16));
          i += 4;
        } else if (c === '\\' && i + 1 < n) {
          const e = line[i + 1]!;
          current += ESCAPES[e] ?? e;
          i += 2;
        } else if (c === '"') {
          i++;
          if (i < n && !isSpace(line[i]!)) return undefined;
          break;
        } else {
          current += c;
          i++;
        }
      } else if (quote === "'") {
        if (i >= n) return undefined;
        const c = line[i]!;
        if (c === '\\' && line[i + 1] === "'") {
          current += "'";
          i += 2;
        } else if (c === "'") {
          i++;
          if (i < n && !isSpace(line[i]!)) return undefined;
          break;
        } else {
          current += c;
          i++;
        }
      } else {
        if (i >= n) break;
        const c = line[i]!;
        if (isSpace(c)) break;
        if (c === '"' || c === "'") quote = c;
        else current += c;
        i++;
      }
    }
    args.push(current);
  }
}
