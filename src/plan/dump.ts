// Human and JSON renderings of a Plan: what `tsrunc explain` prints and what the golden tests pin.
import type { Plan } from './ops';

export function dumpText(plan: Plan): string {
  const lines: string[] = [];
  lines.push('namespaces:');
  const how = (n: Plan['namespaces'][number]) => {
    if (n.how === 'join') return n.type === 'time' ? `joined by the init: ${n.path}` : `joined: \`${n.path}\``;
    if (n.how === 'clone') return 'new, clone3 flag';
    return n.type === 'time' ? 'new, unshared by the init, offsets written, then entered' : 'new, unshared by the init after joining its cgroup';
  };
  for (const n of plan.namespaces) lines.push(`  ${n.type} (${how(n)})`);
  lines.push('host (tsrunc create):');
  plan.host.forEach((h, i) => lines.push(`  h${i + 1}. ${h}`));
  lines.push('container (tsrunc-init, in order):');
  plan.ops.forEach((op, i) => lines.push(`  ${String(i).padStart(2)}. ${op.op.padEnd(14)} ${op.what}`));
  return lines.join('\n') + '\n';
}

export function dumpJson(plan: Plan): string {
  return JSON.stringify({
    cloneFlags: plan.cloneFlags,
    namespaces: plan.namespaces,
    host: plan.host,
    ops: plan.ops.map((o, step) => ({
      step, op: o.op, what: o.what,
      ints: o.ints.map((i) => (typeof i === 'bigint' ? `0x${i.toString(16)}` : i)),
      strs: o.strs,
    })),
  }, null, 2) + '\n';
}
