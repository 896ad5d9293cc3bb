/** Workspace check of bring-your-own detectors: each `path` is a folder save_detector wrote. */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Experiment } from '../spec/experiment';

/** A detector whose folder has no config.toml, with the YAML path and the fix. */
export function detectorPathProblems(
  exp: Experiment,
): { path: (string | number)[]; field: string; message: string }[] {
  return (exp.spec.drift?.detectors ?? []).flatMap((d, i) => {
    const folder = resolve(dirname(exp.file), d.path);
    if (existsSync(join(folder, 'config.toml'))) return [];
    return [
      {
        path: ['spec', 'drift', 'detectors', i, 'path'],
        field: `spec.drift.detectors[${i}].path`,
        message: existsSync(folder)
          ? `${d.path} has no config.toml — give the folder alibi-detect's save_detector(detector, folder) wrote`
          : `the detector folder ${d.path} does not exist (paths are relative to the experiment file)`,
      },
    ];
  });
}
