// Unit tests of the terminal and fd-passing rules (src/lifecycle/console.ts, fds.ts, notify.ts).
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { checkTerminal } from '../../src/lifecycle/console';
import { checkPassedFds, firstOwnFd, passedFds } from '../../src/lifecycle/fds';
import { addNotifyToSpec, notifySetup } from '../../src/lifecycle/notify';
import { StateStore } from '../../src/state/store';
import { TsruncError } from '../../src/errors';
import type { Spec } from '../../src/spec/types';

const usage = (fn: () => void, msg: string | RegExp) =>
  assert.throws(fn, (e: unknown) => e instanceof TsruncError && e.code === 'E_USAGE' && (typeof msg === 'string' ? e.message === msg : msg.test(e.message)));

test('checkTerminal: runc\'s two rules', () => {
  const noSock = 'cannot allocate tty if runc will detach without setting console socket';
  const noTty = 'cannot use console socket if runc will not detach or allocate tty';
  usage(() => checkTerminal(true, true, undefined), noSock);
  usage(() => checkTerminal(false, true, '/s'), noTty);
  usage(() => checkTerminal(true, false, '/s'), noTty); // foreground run proxies the terminal itself
  usage(() => checkTerminal(false, false, '/s'), noTty);
  checkTerminal(true, true, '/s');
  checkTerminal(true, false, undefined);
  checkTerminal(false, true, undefined);
  checkTerminal(false, false, undefined);
});

test('passedFds: LISTEN_FDS only with our own LISTEN_PID, before --preserve-fds', () => {
  assert.deepEqual(passedFds(2, { LISTEN_FDS: '3', LISTEN_PID: '42' }, 42), { listen: 3, preserve: 2, keepFds: 5, extraEnv: ['LISTEN_FDS=3', 'LISTEN_PID=1'] });
  assert.deepEqual(passedFds(2, { LISTEN_FDS: '3', LISTEN_PID: '41' }, 42), { listen: 0, preserve: 2, keepFds: 2, extraEnv: [] });
  for (const bad of ['', '0', '-1', 'x', ' 3', '3.5']) {
    assert.equal(passedFds(0, { LISTEN_FDS: bad, LISTEN_PID: '42' }, 42).listen, 0, bad);
  }
});

const table = (entries: [number, string][]) => () => new Map(entries);
const EP = 'anon_inode:[eventpoll]';

test('firstOwnFd: the lowest epoll instance from 3 up', () => {
  assert.equal(firstOwnFd(new Map([[0, '/dev/null'], [3, '/a'], [4, EP], [5, 'pipe:[1]'], [9, EP]])), 4);
  assert.equal(firstOwnFd(new Map([[3, EP]])), 3);
  assert.throws(() => firstOwnFd(new Map([[3, '/a']])), /no epoll instance/);
});

test('checkPassedFds: only fds below Node\'s first own fd', () => {
  const given2 = table([[0, 'x'], [1, 'x'], [2, 'x'], [3, '/a'], [4, '/b'], [5, EP], [6, 'pipe:[1]']]);
  checkPassedFds(passedFds(2, {}), given2);
  checkPassedFds(passedFds(0, {}), () => { throw new Error('not read when nothing is passed'); });
  usage(() => checkPassedFds(passedFds(3, {}), given2), '--preserve-fds 3: fd 5 was not passed to tsrunc (it was given fds 3 to 4)');
  usage(() => checkPassedFds(passedFds(1, {}), table([[3, EP]])), '--preserve-fds 1: fd 3 was not passed to tsrunc (it was given no fd above 2)');
  usage(() => checkPassedFds(passedFds(2, {}), table([[3, '/a'], [4, EP], [5, '/c']])), '--preserve-fds 2: fd 4 was not passed to tsrunc (it was given fd 3 only)');
  const listen = (n: string, preserve: number) => passedFds(preserve, { LISTEN_FDS: n, LISTEN_PID: String(process.pid) });
  usage(() => checkPassedFds(listen('3', 0), given2), /^LISTEN_FDS=3: fd 5 was not passed to tsrunc/);
  usage(() => checkPassedFds(listen('2', 1), given2), '--preserve-fds 1: fd 5 was not passed to tsrunc (it was given fds 3 to 4; LISTEN_FDS takes fds 3 to 4)');
  checkPassedFds(listen('1', 1), given2);
});

test('NOTIFY_SOCKET: runc\'s mount and environment, appended', () => {
  const store = new StateStore('/run/tsrunc');
  assert.equal(notifySetup(store, 'c1', {}), undefined);
  assert.equal(notifySetup(store, 'c1', { NOTIFY_SOCKET: '' }), undefined);
  const n = notifySetup(store, 'c1', { NOTIFY_SOCKET: '@/org/freedesktop/systemd1/notify' })!;
  assert.deepEqual(n, { host: '@/org/freedesktop/systemd1/notify', dir: '/run/tsrunc/c1/notify', socketPath: '/run/tsrunc/c1/notify/notify.sock' });
  const spec = { ociVersion: '1.0.2', process: { cwd: '/', args: ['sh'], env: ['A=1'] }, mounts: [{ destination: '/run', type: 'tmpfs', source: 'tmpfs' }] } as Spec;
  addNotifyToSpec(spec, n);
  assert.deepEqual(spec.mounts![1], { destination: '/run/notify', source: '/run/tsrunc/c1/notify', options: ['bind', 'nosuid', 'noexec', 'nodev', 'ro'] });
  assert.deepEqual(spec.process!.env, ['A=1', 'NOTIFY_SOCKET=/run/notify/notify.sock']);
});
