import type { Capability, LibOS } from '../types.js';

/** A backend under test: how to make the endpoints every scenario uses. */
export interface ConformanceTarget {
  name: string;
  /** What the backend offers; scenarios needing anything else are skipped and listed. */
  capabilities: ReadonlySet<Capability>;
  /** Creates a fresh environment for one scenario. */
  setup(): Promise<ConformanceEnv>;
}

export interface ConformanceEnv {
  /** The side that binds and listens. May be the same LibOS as `client`. */
  server: LibOS;
  client: LibOS;
  /** The IPv4 address the server side binds and the client connects to. */
  serverAddress: string;
  /** A port no other scenario uses. */
  nextPort(): number;
  /** A port on serverAddress nothing listens on. */
  closedPort(): number;
  teardown(): Promise<void>;
  /** Exceptions the LibOS counted and swallowed (the stack's internalErrors); must stay 0. */
  internalErrors?(): number;
}

/** One behaviour every LibOS that has the capability must show. */
export interface Scenario {
  name: string;
  /** Runs when the LibOS has this capability (or, for a list, any of them). */
  needs: Capability | readonly Capability[];
  /** Not run on backends that have this capability. */
  unless?: Capability;
  run: (env: ConformanceEnv, caps: ReadonlySet<Capability>) => Promise<void>;
}
