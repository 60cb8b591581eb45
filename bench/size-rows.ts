// The deployed packages' size: each dist/<function> folder zipped as `s deploy` uploads it
// (budgeted < 1 MB), with its unzipped size and file count.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { DIST, MB } from './config';
import { judged, type Budget, type Row } from './rows';

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const file = path.join(dir, name);
    return statSync(file).isDirectory() ? filesUnder(file) : [file];
  });
}

/** The folder zipped as `s deploy` uploads it; without `zip`, an estimate from deflate plus headers. */
function zippedBytes(dir: string): { bytes: number; how: string } {
  const zip = spawnSync('zip', ['-q', '-r', '-X', '-', '.'], { cwd: dir, maxBuffer: 64 * MB });
  if (zip.status === 0) return { bytes: zip.stdout.length, how: 'zip -r' };
  let total = 22;
  for (const file of filesUnder(dir)) {
    const name = path.relative(dir, file);
    total += deflateRawSync(readFileSync(file), { level: 6 }).length + 30 + 46 + 2 * name.length;
  }
  return { bytes: total, how: 'estimated (no zip binary)' };
}

const SIZE_BUDGET: Budget = { op: '<', limit: 1024, text: '< 1 MB' };

export function sizes(): Row[] {
  return readdirSync(DIST)
    .filter((name) => statSync(path.join(DIST, name)).isDirectory())
    .map((name) => {
      const dir = path.join(DIST, name);
      const { bytes, how } = zippedBytes(dir);
      const raw = filesUnder(dir).reduce((n, f) => n + statSync(f).size, 0);
      const kb = bytes / 1024;
      return {
        id: `size-${name}`,
        name: `dist/${name} zipped`,
        value: kb,
        unit: 'KB',
        measured: `${kb.toFixed(1)} KB (${(raw / 1024).toFixed(1)} KB unzipped, ${filesUnder(dir).length} files)`,
        budget: SIZE_BUDGET,
        status: judged(kb, SIZE_BUDGET),
        data: { zippedBytes: bytes, unzippedBytes: raw, how },
      };
    });
}
