// `pause`: freeze every process of the container (v1 freezer.state FROZEN, v2 cgroup.freeze 1).
// As runc 1.1.5: allowed when created or running; a paused or stopped container is refused with
// `container not running` (rc 1), an unknown id with `container does not exist`.
import { checkTransition } from './status';
import { withContainer } from './container';
import type { GlobalOptions } from './api';

export function pause(g: GlobalOptions, id: string): void {
  withContainer(g, id, (c) => {
    checkTransition(id, c.status(), 'pause');
    c.cgroup().setFrozen(true);
  });
}
