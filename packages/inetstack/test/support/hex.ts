/** Frames in tests are written as hex with spaces and line breaks for reading. */
export function hex(text: string): Uint8Array {
  const clean = text.replace(/#[^\n]*/g, '').replace(/\s+/g, '');
  if (clean.length % 2 !== 0) throw new Error('odd number of hex digits');
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' ');
}
