// Every check of the suite, in the order they run.
import { CheckDef } from '../lib/harness';
import { cgroupChecks } from './cgroups';
import { cliChecks } from './cli';
import { deviceChecks } from './devices';
import { filesystemChecks } from './filesystem';
import { lifecycleChecks } from './lifecycle';
import { namespaceChecks } from './namespaces';
import { processChecks } from './process';

export const allChecks: CheckDef[] = [
  ...lifecycleChecks,
  ...processChecks,
  ...filesystemChecks,
  ...deviceChecks,
  ...namespaceChecks,
  ...cgroupChecks,
  ...cliChecks,
];
