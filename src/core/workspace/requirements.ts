/**
 * A model's `requirements.txt` (beside its model-settings.json): the packages a custom runtime
 * needs beyond the MLServer environment. The process runtime installs them into an environment
 * cached by the file's hash (src/runtime/modelEnv.ts), so every line must pin one version:
 * an unpinned line would freeze whatever version the first install happened to resolve.
 */

export interface Requirement {
  /** The line as written, without a trailing comment. */
  spec: string;
  line: number;
}

export interface RequirementProblem {
  line: number;
  message: string;
}

// `name[extras] == version ; marker` — pip's own syntax, restricted to an exact pin.
const PINNED = /^[A-Za-z0-9][A-Za-z0-9._-]*(\[[A-Za-z0-9._,\s-]*\])?\s*===?\s*[A-Za-z0-9.*+!_-]+\s*(;.*)?$/;

/** The pinned requirements of a requirements.txt, and a problem for each line that is not one. */
export function parseRequirements(text: string): {
  requirements: Requirement[];
  problems: RequirementProblem[];
} {
  const requirements: Requirement[] = [];
  const problems: RequirementProblem[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const spec = raw.replace(/(^|\s)#.*$/, '').trim();
    if (!spec) return;
    const line = i + 1;
    if (spec.startsWith('-'))
      problems.push({
        line,
        message: `"${spec}": pip options are not supported here — list one pinned package per line (name==version); set PIP_INDEX_URL in the environment for another index`,
      });
    else if (!PINNED.test(spec))
      problems.push({
        line,
        message: `"${spec}" is not pinned — write it as ${/^[A-Za-z0-9._-]+/.exec(spec)?.[0] ?? 'name'}==<version>, so the environment cached by this file's hash is the same on every machine`,
      });
    else requirements.push({ spec, line });
  });
  return { requirements, problems };
}
