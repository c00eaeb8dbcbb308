// Progress on stderr: one rewritten line on a terminal, plain lines otherwise.

export class Progress {
  constructor(total, stream = process.stderr) {
    this.total = total;
    this.stream = stream;
    this.tty = Boolean(stream.isTTY);
    this.index = 0;
    this.title = '';
    this.lastDraw = 0;
    this.lastPlain = -1;
  }

  startRow(index, title) {
    this.index = index;
    this.title = title;
    this.lastPlain = -1;
    if (this.tty) this.update(0);
    else this.stream.write(`[${index + 1}/${this.total}] ${title} ...\n`);
  }

  update(fraction, note = '') {
    const f = Math.min(1, Math.max(0, Number(fraction) || 0));
    if (this.tty) {
      const now = Date.now();
      if (now - this.lastDraw < 80 && f < 1) return;
      this.lastDraw = now;
      const overall = (this.index + f) / this.total;
      const width = 20;
      const filled = Math.round(overall * width);
      const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
      const text = `${bar} ${String(Math.round(overall * 100)).padStart(3)}%  [${this.index + 1}/${this.total}] ${this.title} ${Math.round(f * 100)}% ${note}`;
      this.stream.write(`\r\x1b[2K${text.slice(0, (this.stream.columns ?? 120) - 1)}`);
    } else {
      // Plain output: a line at each quarter at most.
      const quarter = Math.floor(f * 4);
      if (quarter > this.lastPlain && quarter > 0 && quarter < 4) {
        this.lastPlain = quarter;
        this.stream.write(`      ${quarter * 25}%${note ? ` ${note}` : ''}\n`);
      }
    }
  }

  endRow(summary) {
    if (this.tty) this.stream.write('\r\x1b[2K');
    this.stream.write(`[${this.index + 1}/${this.total}] ${this.title}: ${summary}\n`);
  }

  done() {
    if (this.tty) this.stream.write('\r\x1b[2K');
  }
}
