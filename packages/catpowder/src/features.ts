import { loadAddon } from './native.js';

/** What this build and machine can do: whether AF_XDP is built in, and if not, how to get it. */
export function features(): { afXdp: boolean; afXdpUnavailable: string | undefined } {
  const f = loadAddon().features();
  return { afXdp: f.afXdp, afXdpUnavailable: f.afXdpUnavailable ?? undefined };
}
