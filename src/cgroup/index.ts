// src/cgroup: the container's cgroups, on pure cgroup v2 hosts (primary) and on hybrid/v1 hosts
// (v1 controllers for everything, plus the same path in the cgroup2 hierarchy, as runc does).
//
// How the lifecycle uses it
//   create:   const host = readCgroupHost(); const own = readOwnCgroups();
//             const record = resolveCgroupPaths(host, own, spec.linux?.cgroupsPath, id);
//             const cg = new CgroupManager(record, { native });
//             (runc checks first: cg.pids().length === 0 and cg.freezerState() !== 'frozen')
//             cg.create(); cg.setDevices(deviceRulesForSpec(spec.linux));
//             cg.setResources(spec.linux.resources)   (every other limit, before the clone)
//             ... clone ...; cg.addPid(initPid); ... release the child;
//             store cg.toRecord() in state.json.
//   later:    const cg = fromRecord(state.cgroup, { native });
//             status: cg.freezerState() === 'frozen' → paused;   pause/resume: cg.setFrozen(b)
//             kill --all / delete --force: cg.killAll(signal);   ps: cg.pids()
//             delete: cg.destroy()  (leaf only; parents such as /default stay)
//             update: cg.setResources(mergeResources(stored, patch), { update: true })
//
// API
//   host.ts
//     type CgroupMode = 'v2' | 'hybrid' | 'v1'
//     interface CgroupHost { mode; unified?: string; v1: Map<string, string>; roots: Map<string, string> }
//     parseMountinfo(text: string): CgroupHost                 pure; throws E_CGROUP if no cgroupfs
//     parseProcCgroup(text: string): Map<string, string>       pure; '' = the cgroup2 line
//     readCgroupHost(procRoot = '/proc'): CgroupHost
//     readOwnCgroups(procRoot = '/proc'): Map<string, string>
//   paths.ts
//     interface CgroupRecord { paths: Record<string, string> }  controller → dir, '' = cgroup2
//     resolveCgroupPaths(host, own, cgroupsPath: string | undefined, id: string): CgroupRecord
//     cleanCgroupsPath(p: string): string
//   devices.ts
//     interface DevRule { type: 'a'|'c'|'b'; major: number; minor: number; access: string; allow: boolean }
//     WILDCARD = -1; DEFAULT_ALLOWED_DEVICES (runc's list)
//     fromOciRules(rules?: DeviceRule[]): DevRule[]
//     deviceRulesForSpec(linux?: Linux): DevRule[]            config rules + runc's defaults
//     emulateDeviceRules(rules, start?): DeviceState          v1 kernel semantics, from deny-all
//     parseDevicesList(text): DeviceState; deviceTransition(from, to): DevRule[]
//     deviceAccessAllowed(state, type, major, minor, access): boolean; ruleToString(rule): string
//   bpf.ts
//     interface BpfNative { bpfAttachDeviceProgram(dir, insns: Buffer): void; bpfQueryDevicePrograms?(dir): number[] }
//     compileDeviceProgram(rules: readonly DevRule[]): Buffer
//     disassembleDeviceProgram(insns: Buffer): string[]
//   manager.ts
//     class CgroupManager(record: CgroupRecord, deps?: CgroupDeps)
//       mode: CgroupMode; unifiedPath?: string; toRecord(): CgroupRecord
//       create(): void; addPid(pid: number): void; setDevices(rules: readonly DevRule[]): void
//       pids(): number[]; freezerState(): FreezerState; setFrozen(frozen: boolean): void
//       killAll(signal: number): void; destroy(): void
//       setResources(r: Resources, o?: { update?: boolean; warn? }): void
//     fromRecord(record: unknown, deps?: CgroupDeps): CgroupManager   (validates; E_STATE if bad)
//     interface CgroupDeps { fs?: CgroupFs; native?: BpfNative; kill?; sleep? }
//
// Errors are TsruncError E_CGROUP with messages like ``create cgroup `/sys/fs/cgroup/memory/x`: EACCES``.
//   resources.ts / resources-v1.ts / resources-v2.ts
//     CgroupManager.setResources(r: Resources, o?: { update?, warn? }): the mapping tables (one per
//     manager), mergeResources(old, patch) for `update`, runc's conversions.
export type { CgroupMode, CgroupHost } from './host';
export { parseMountinfo, parseProcCgroup, readCgroupHost, readOwnCgroups, V1_CONTROLLERS } from './host';
export type { CgroupRecord } from './paths';
export { resolveCgroupPaths, cleanCgroupsPath } from './paths';
export type { DevRule, DevType, DeviceState } from './devices';
export {
  WILDCARD, DEFAULT_ALLOWED_DEVICES, fromOciRules, deviceRulesForSpec, emulateDeviceRules, parseDevicesList,
  deviceTransition, deviceAccessAllowed, ruleToString, denyAllState, stateExceptions,
} from './devices';
export type { BpfNative } from './bpf';
export { compileDeviceProgram, disassembleDeviceProgram } from './bpf';
export type { CgroupDeps, CgroupFs, FreezerState } from './manager';
export { CgroupManager, fromRecord, nodeCgroupFs } from './manager';
export type { Resources, LinuxMemory, LinuxCpu, LinuxBlockIO, ResourceIo } from './resources';
export { mergeResources, resourcesOf, sharesToWeight, blkioToIoWeight, swapToV2 } from './resources';
export { applyV1 } from './resources-v1';
export { applyV2 } from './resources-v2';
