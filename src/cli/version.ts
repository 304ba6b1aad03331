// `tsrunc --version`: three lines, the prefixes go-runc's Version() parses
// (`runc version `-style first line, `commit: `, `spec: `).
// scripts/gen-bin.js bakes {version, commit} into dist/build-info.json at build time; without it
// (a plain `tsc` build) the version comes from package.json and the commit is `unknown`.
import { readFileSync } from 'fs';
import { join, resolve } from 'path';
import { PROG } from './table';
import { SPEC_VERSION } from '../spec/default';

export interface BuildInfo { version: string; commit: string }

function readJson(p: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(readFileSync(p, 'utf8'));
    return typeof v === 'object' && v !== null ? v as Record<string, unknown> : undefined;
  } catch {
    return undefined;
  }
}

/** `distDir` is the compiled tree's root (dist/); the repository root is its parent. */
export function buildInfo(distDir: string = resolve(__dirname, '..', '..')): BuildInfo {
  const baked = readJson(join(distDir, 'build-info.json'));
  const pkg = readJson(join(distDir, '..', 'package.json'));
  const version = typeof baked?.version === 'string' ? baked.version
    : typeof pkg?.version === 'string' ? pkg.version : 'unknown';
  const commit = typeof baked?.commit === 'string' && baked.commit !== '' ? baked.commit : 'unknown';
  return { version, commit };
}

export function versionText(info: BuildInfo = buildInfo()): string {
  return `${PROG} version ${info.version}\ncommit: ${info.commit}\nspec: ${SPEC_VERSION}\n`;
}
