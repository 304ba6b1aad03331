// StdWriter: the CLI writes fd 1/2 with write(2); on a non-blocking pipe that is full (EAGAIN) it
// must switch to a Node stream without losing or reordering output, and exit only once all of it
// has been written.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { StdWriter } from '../../src/cli/main';

const MAIN = path.resolve(__dirname, '..', '..', 'src', 'cli', 'main.js');

test('plain writes go straight to the fd', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrunc-io-'));
  try {
    const f = path.join(dir, 'out');
    const fd = fs.openSync(f, 'w');
    let used = false;
    const w = new StdWriter(fd, () => { used = true; throw new Error('no stream expected'); });
    w.write('a\n');
    w.write('é\n');
    let done = false;
    w.flushed(() => { done = true; });
    assert.equal(done, true);
    fs.closeSync(fd);
    assert.equal(fs.readFileSync(f, 'utf8'), 'a\né\n');
    assert.equal(used, false);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('EPIPE/EBADF: output dropped, no throw', () => {
  const w = new StdWriter(987654);
  w.write('nobody reads this');
});

test('a full non-blocking pipe: the rest goes through a stream, in order, all of it before exit', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrunc-io-'));
  try {
    const fifo = path.join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const lines = 2000;
    const script = `
const fs = require('fs'); const net = require('net');
const { StdWriter, exitFlushed } = require(${JSON.stringify(MAIN)});
const fd = fs.openSync(${JSON.stringify(fifo)}, fs.constants.O_RDWR | fs.constants.O_NONBLOCK);
let switched = false;
const w = new StdWriter(fd, () => { switched = true; fs.writeSync(2, 'switched\\n'); return new net.Socket({ fd, readable: false, writable: true }); });
for (let i = 0; i < ${lines}; i++) w.write(String(i).padStart(6, '0') + 'x'.repeat(200) + '\\n');
if (!switched) { fs.writeSync(2, 'never hit EAGAIN'); process.exit(9); }
exitFlushed(0, { out: w, err: new StdWriter(2) });`;
    const writer = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'ignore', 'pipe'] });
    let werr = '';
    const writerExit = new Promise<number | null>((r) => writer.on('exit', (c) => r(c)));
    // Start reading only once the pipe is full and the writer has switched to the stream.
    await new Promise<void>((r) => {
      writer.stderr.on('data', (d: Buffer) => { werr += d.toString(); if (werr.includes('switched')) r(); });
      void writerExit.then(() => r());
    });
    const reader = spawn('cat', [fifo], { stdio: ['ignore', 'pipe', 'inherit'] });
    const chunks: Buffer[] = [];
    reader.stdout.on('data', (d: Buffer) => chunks.push(d));
    const [wcode] = await Promise.all([
      writerExit,
      new Promise<void>((r) => reader.on('exit', () => r())),
    ]);
    assert.equal(wcode, 0, werr);
    const got = Buffer.concat(chunks).toString().split('\n');
    assert.equal(got.length, lines + 1);
    for (let i = 0; i < lines; i++) assert.equal(got[i].slice(0, 6), String(i).padStart(6, '0'));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
