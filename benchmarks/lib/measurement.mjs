// What a row's run(ctx) may resolve, and what the runner records of it.
//   {samplesNs: number[], cpu?: {clientNs, serverNs, roundTrips}}   kind 'rtt'
//   {mbps: number, runsMbps?: number[]}  (Mbit/s) or {MBps: number}  kind 'bulk'
//   {msgsPerSec, clients?, serverRssBytes?, serverPeakRssBytes?,
//    serverCpuNsPerMsg?, bytesPerConnection?}                          kind 'scaling'
//   {idleBytesPerConnection, clients?, breakdown?: {name: bytes}}      kind 'memory'
//   {skip: reason}
// A row returning both mbps and samplesNs is a bulk row.
import { summarize } from './stats.mjs';

const finite = (x) => typeof x === 'number' && Number.isFinite(x);
const optional = (x) => (finite(x) ? x : undefined);

export function measurement(outcome) {
  if (outcome && typeof outcome.skip === 'string') return { skip: outcome.skip };
  const mbps = finite(outcome?.mbps)
    ? outcome.mbps
    : finite(outcome?.MBps)
      ? outcome.MBps * 8
      : NaN;
  if (mbps > 0) {
    const runs = Array.isArray(outcome.runsMbps) ? outcome.runsMbps.filter(finite) : [];
    return { kind: 'bulk', mbps, MBps: mbps / 8, ...(runs.length ? { runsMbps: runs } : {}) };
  }
  if (finite(outcome?.msgsPerSec) && outcome.msgsPerSec > 0) {
    return {
      kind: 'scaling',
      msgsPerSec: outcome.msgsPerSec,
      clients: optional(outcome.clients),
      serverRssBytes: optional(outcome.serverRssBytes),
      serverPeakRssBytes: optional(outcome.serverPeakRssBytes),
      serverCpuNsPerMsg: optional(outcome.serverCpuNsPerMsg),
      bytesPerConnection: optional(outcome.bytesPerConnection),
    };
  }
  if (finite(outcome?.idleBytesPerConnection)) {
    const breakdown = {};
    for (const [name, bytes] of Object.entries(outcome.breakdown ?? {}))
      if (finite(bytes)) breakdown[name] = bytes;
    return {
      kind: 'memory',
      idleBytesPerConnection: outcome.idleBytesPerConnection,
      clients: optional(outcome.clients),
      breakdown,
    };
  }
  if (
    outcome &&
    Array.isArray(outcome.samplesNs) &&
    outcome.samplesNs.length > 0 &&
    outcome.samplesNs.every(finite)
  ) {
    const cpu = outcome.cpu;
    return {
      kind: 'rtt',
      ...summarize(outcome.samplesNs),
      ...(cpu && (finite(cpu.clientNs) || finite(cpu.serverNs))
        ? {
            cpuClientNs: optional(cpu.clientNs),
            cpuServerNs: optional(cpu.serverNs),
            cpuRoundTrips: optional(cpu.roundTrips),
          }
        : {}),
    };
  }
  throw new Error(
    'run(ctx) must resolve {samplesNs: number[]}, {mbps: number}, {msgsPerSec: number}, {idleBytesPerConnection: number} or {skip: reason}',
  );
}

/** The progress line printed when a row ends. */
export function summaryLine(r) {
  if (r.error !== undefined) return `ERROR ${r.error}`;
  if (r.skip !== undefined) return `skipped: ${r.skip}`;
  if (r.kind === 'bulk') return `${r.MBps.toFixed(0)} MB/s`;
  if (r.kind === 'scaling')
    return `${Math.round(r.msgsPerSec)} messages/s${r.serverRssBytes ? `, server RSS ${(r.serverRssBytes / 2 ** 20).toFixed(0)} MiB` : ''}${r.clients ? `, ${r.clients} clients` : ''}`;
  if (r.kind === 'memory')
    return `${Math.round(r.idleBytesPerConnection)} bytes per idle connection (${r.clients} connections)`;
  return `p50 ${(r.p50Ns / 1000).toFixed(1)} µs, p99 ${(r.p99Ns / 1000).toFixed(1)} µs`;
}
