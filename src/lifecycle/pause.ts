// `pause`: freeze every process of the container (v1 freezer.state FROZEN, v2 cgroup.freeze 1).
// Allowed when created or running, as runc 1.1.5, and a no-op on a paused container (runc refuses
// that with `container not running`); a stopped one is refused with `container not running`
// (rc 1), an unknown id with `container does not exist`.
import { checkTransition } from './status';
import { withContainer } from './container';
import type { GlobalOptions } from './api';

export function pause(g: GlobalOptions, id: string): void {
  withContainer(g, id, (c) => {
    const status = c.status();
    checkTransition(id, status, 'pause');
    if (status !== 'paused') c.cgroup().setFrozen(true);
  });
}
