// A container without a mount namespace of its own mounts in the caller's (config-linux.md: a
// namespace type that is not listed is the runtime's; runc does the same): its rootfs bind and
// everything under it (proc, dev, sys, ...) are on the host. runc leaves them there after delete;
// tsrunc records how many mounts sat on the rootfs path before `create` and detaches the ones
// above that (each detach takes the whole subtree under it) when the container is deleted or its
// create fails.
import fs = require('fs');
import type { Native } from '../sys/native';

export interface HostMounts {
  /** The rootfs path on the host (the mount point of the container's rootfs bind). */
  rootfs: string;
  /** Mounts on that path before `create`: these are not ours. */
  below: number;
}

/** mountinfo escapes space, tab, newline and backslash as \ooo. */
function unescape(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** How many mounts of this process's mount namespace have `p` as their mount point. */
export function mountsAt(p: string, mountinfo = '/proc/self/mountinfo'): number {
  let n = 0;
  for (const line of fs.readFileSync(mountinfo, 'utf8').split('\n')) {
    const f = line.split(' ');
    if (f.length > 4 && unescape(f[4]!) === p) n++;
  }
  return n;
}

/** Detach what the container mounted on its rootfs path (the topmost first). */
export function detachHostMounts(native: Pick<Native, 'detachMount'>, h: HostMounts, warn: (m: string) => void): void {
  for (let left = mountsAt(h.rootfs) - h.below; left > 0; left--) {
    try {
      native.detachMount(h.rootfs);
    } catch (e) {
      warn(`detach the container's mounts on \`${h.rootfs}\`: ${(e as Error).message}`);
      return;
    }
  }
}
