import { describe, expect, it } from 'vitest';
import { Opcode, type QResult, type Sga, TokenTable, type ViewMaker } from '../src/index.js';

/** Records the views it is asked to make. */
class Maker implements ViewMaker {
  made = 0;
  sgaOf(buffer: ArrayBuffer, offset: number, length: number): Sga {
    this.made++;
    return { segments: [new Uint8Array(buffer, offset, length)] };
  }
}

describe('TokenTable: completions recorded without a result object', () => {
  it('completeBare and completeView results are made when taken, with the token, qd and bytes', () => {
    const table = new TokenTable();
    const maker = new Maker();
    const slab = new Uint8Array(64).map((_, i) => i);
    const push = table.issue(7, Opcode.PUSH);
    const pop = table.issue(9, Opcode.POP);
    table.completeBare(push, Opcode.PUSH, 0);
    table.completeView(pop, maker, slab.buffer, 16, 5);
    expect(maker.made).toBe(0);
    const popped = table.take(pop)!;
    expect(maker.made).toBe(1);
    expect(popped).toMatchObject({ opcode: Opcode.POP, qd: 9, qt: pop, ret: 0 });
    expect([...popped.sga!.segments[0]!]).toEqual([16, 17, 18, 19, 20]);
    expect(table.takeUnclaimed(8)).toEqual([{ opcode: Opcode.PUSH, qd: 7, qt: push, ret: 0 }]);
    // Each token was consumed once.
    expect(table.take(pop)).toBeUndefined();
    expect(table.size).toBe(0);
  });

  it('a waiter is handed the made result at once; a completion is recorded only once', () => {
    const table = new TokenTable();
    const got: QResult[] = [];
    table.anyWaiter = { deliver: (r) => got.push(r) > 0 };
    const qt = table.issue(3, Opcode.POP);
    table.completeBare(qt, Opcode.FAILED, 104);
    table.completeBare(qt, Opcode.POP, 0);
    table.complete(qt, { opcode: Opcode.POP, ret: 0 });
    expect(got).toEqual([{ opcode: Opcode.FAILED, qd: 3, qt, ret: 104 }]);
  });

  it('failAll fails only what is still pending, not completions waiting to be taken', () => {
    const table = new TokenTable();
    const done = table.issue(5, Opcode.PUSH);
    const pending = table.issue(5, Opcode.POP);
    table.completeBare(done, Opcode.PUSH, 0);
    table.failAll(5, 125);
    const results = table.takeUnclaimed(8);
    expect(results).toEqual([
      { opcode: Opcode.PUSH, qd: 5, qt: done, ret: 0 },
      { opcode: Opcode.FAILED, qd: 5, qt: pending, ret: 125 },
    ]);
  });

  it('spent entries reused by later tokens carry no part of an earlier completion', () => {
    const table = new TokenTable();
    const maker = new Maker();
    const slab = new Uint8Array(8).fill(1);
    for (let round = 0; round < 3; round++) {
      const pop = table.issue(1, Opcode.POP);
      table.completeView(pop, maker, slab.buffer, 0, 8);
      expect(table.takeUnclaimed(1)[0]!.sga!.segments[0]!.byteLength).toBe(8);
      const push = table.issue(2, Opcode.PUSH);
      table.completeBare(push, Opcode.PUSH, 0);
      const r = table.take(push)!;
      expect(r).toEqual({ opcode: Opcode.PUSH, qd: 2, qt: push, ret: 0 });
      expect('sga' in r).toBe(false);
    }
  });
});

describe('TokenTable: tokens', () => {
  it('every table recognises only its own tokens; the first ones issue small integers', () => {
    // Enough tables that later ones use the wide form.
    const tables = Array.from({ length: 12 }, () => new TokenTable());
    const tokens = tables.map((t) => t.issue(1, Opcode.POP));
    expect(new Set(tokens).size).toBe(tokens.length);
    for (const [i, table] of tables.entries()) {
      if (table.instance <= 7) expect(tokens[i]!).toBeLessThan(2 ** 31);
      else expect(tokens[i]!).toBeGreaterThan(2 ** 32);
      for (const [j, qt] of tokens.entries()) {
        if (i === j) expect(table.entry(qt, 'wait').opcode).toBe(Opcode.POP);
        else expect(() => table.entry(qt, 'wait')).toThrow(/not issued by this LibOS/);
      }
    }
  });
});

describe('TokenTable: failAll of many descriptors', () => {
  const settled = () => new Promise<void>((resolve) => queueMicrotask(resolve));

  it('fails the pending operations of every closed descriptor once, with its errno, by the next microtask', async () => {
    const table = new TokenTable();
    const pops = new Map<number, number>();
    for (let qd = 1; qd <= 1000; qd++) pops.set(qd, table.issue(qd, Opcode.POP));
    const kept = table.issue(1001, Opcode.POP);
    for (let qd = 1; qd <= 1000; qd++) table.failAll(qd, qd % 2 === 0 ? 125 : 104);
    await settled();
    const results = table.takeUnclaimed(1 << 20);
    expect(results).toHaveLength(1000);
    const byQd = new Map(results.map((r) => [r.qd, r]));
    for (const [qd, qt] of pops)
      expect(byQd.get(qd)).toEqual({
        opcode: Opcode.FAILED,
        qd,
        qt,
        ret: qd % 2 === 0 ? 125 : 104,
      });
    expect(table.take(kept)).toBeUndefined(); // still pending
  });

  it('looking at a closed descriptor’s operation fails it at once', () => {
    const table = new TokenTable();
    const qt = table.issue(7, Opcode.POP);
    table.failAll(7);
    expect(table.take(qt)).toMatchObject({ opcode: Opcode.FAILED, qd: 7, qt, ret: 125 });
  });

  it('a completion reported after the close does not replace its failure', () => {
    const table = new TokenTable();
    const qt = table.issue(7, Opcode.POP);
    table.failAll(7);
    table.completeBare(qt, Opcode.POP, 0);
    expect(table.take(qt)).toMatchObject({ opcode: Opcode.FAILED, ret: 125 });
  });

  it('an operation issued on a reused descriptor is not failed by the earlier close', async () => {
    const table = new TokenTable();
    const old = table.issue(7, Opcode.POP);
    table.failAll(7);
    const fresh = table.issue(7, Opcode.POP);
    await settled();
    expect(table.take(old)).toMatchObject({ opcode: Opcode.FAILED, qd: 7 });
    expect(table.take(fresh)).toBeUndefined();
  });

  it('a waiter on a closed descriptor’s operation is handed the failure without any other call', async () => {
    const table = new TokenTable();
    const qt = table.issue(9, Opcode.ACCEPT);
    const got: QResult[] = [];
    table.setWaiter(qt, {
      deliver(result) {
        got.push(result);
        return true;
      },
    });
    table.failAll(9);
    expect(got).toEqual([]);
    await settled();
    expect(got).toEqual([{ opcode: Opcode.FAILED, qd: 9, qt, ret: 125 }]);
  });
});
