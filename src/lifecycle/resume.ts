// `resume`: thaw a paused container. Anything but `paused` is refused with runc's
// `container not paused` (rc 1).
import { checkTransition } from './status';
import { withContainer } from './container';
import type { GlobalOptions } from './api';

export function resume(g: GlobalOptions, id: string): void {
  withContainer(g, id, (c) => {
    checkTransition(id, c.status(), 'resume');
    c.cgroup().setFrozen(false);
  });
}
