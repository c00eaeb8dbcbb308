import { DemiError } from '@demi/core';

/** Lines of DPDK's log quoted in an error message at most. */
const LOG_LINES = 12;

interface NativeError extends Error {
  code?: string;
  errno?: number;
  syscall?: string;
  dpdkLog?: string;
}

/** What to try, by the DPDK call that failed. */
function hint(e: NativeError): string {
  const root = process.getuid?.() === 0;
  if (e.code === 'EPERM' || e.code === 'EACCES') {
    return root ? '' : 'DPDK needs root here (memory, raw sockets, device files): run as root.';
  }
  switch (e.syscall) {
    case 'rte_eal_init':
      return (
        'Check dpdk.eal_init in the config (without it catnip uses --no-huge --no-pci -m 128 --no-shconf ' +
        "--no-telemetry -l 0 and a --file-prefix of its own); DEMI_DPDK_LOG=1 prints DPDK's whole log."
      );
    case 'rte_eth_dev_info_get':
    case 'rte_eth_dev_configure':
    case 'rte_eth_dev_start':
    case 'rte_eth_rx_queue_setup':
    case 'rte_eth_tx_queue_setup':
      return "DEMI_DPDK_LOG=1 prints DPDK's whole log; the README lists the virtual devices known to work.";
    default:
      return '';
  }
}

/** Turns an addon error ({code, errno, syscall, dpdkLog}) into a DemiError; others pass through. */
export function toDemiError(err: unknown): unknown {
  if (err instanceof DemiError) return err;
  if (!(err instanceof Error) || typeof (err as NativeError).code !== 'string') return err;
  const e = err as NativeError;
  let message = e.message;
  const tip = hint(e);
  if (tip !== '') message += `. ${tip}`;
  const log = (e.dpdkLog ?? '').trimEnd();
  if (log !== '') {
    const lines = log.split('\n');
    const shown = lines.slice(-LOG_LINES);
    message += `\nDPDK log${lines.length > LOG_LINES ? ` (last ${LOG_LINES} lines)` : ''}:\n  ${shown.join('\n  ')}`;
  }
  return new DemiError(e.code!, message, { syscall: e.syscall, cause: err });
}
