import type { ChildProcess, SpawnOptions, SpawnSyncOptions } from 'node:child_process';

export type Side = 'dev' | 'peer';

export interface PairDescription {
  id: string;
  owner: number;
  devNs: string;
  peerNs: string;
  devIf: string;
  peerIf: string;
  subnet: number;
  peerIp: string;
  devIp: string;
  prefixLength: number;
  devMac: string;
  peerMac: string;
}

export interface ExecResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  error?: Error;
}

export interface NetnsPair {
  readonly id: string;
  readonly subnet: number;
  readonly devNs: string;
  readonly peerNs: string;
  readonly devIf: string;
  readonly peerIf: string;
  /** The kernel host's address in the peer namespace. */
  readonly peerIp: string;
  /** The address meant for the device under test. */
  readonly devIp: string;
  readonly prefixLength: number;
  readonly devMac: string;
  readonly peerMac: string;
  argv(side: Side, cmd: string, args?: string[]): [string, string[]];
  exec(side: Side, cmd: string, args?: string[], options?: SpawnSyncOptions): ExecResult;
  spawn(side: Side, cmd: string, args?: string[], options?: SpawnOptions): ChildProcess;
  describe(): PairDescription;
  down(): void;
}

export interface PairOptions {
  subnet?: number;
  devAddress?: boolean;
  owner?: number;
  offloads?: boolean;
}

export const PREFIX: string;
export const STATE_DIR: string;
export function missingNetnsSupport(): string | undefined;
export function createPair(options?: PairOptions): NetnsPair;
export function openPair(id: string): NetnsPair;
export function listPairs(): Array<{
  id: string;
  state: PairDescription | undefined;
  owner: number | undefined;
  stale: boolean | undefined;
}>;
export function cleanupStale(options?: { all?: boolean }): string[];
