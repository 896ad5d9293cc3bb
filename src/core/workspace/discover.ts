/**
 * Workspace discovery: model versions (MLServer's own `model-settings.json`, we do not
 * invent a descriptor) and experiment files, cross-checked so that mistakes surface as
 * problems with a file and a line before anything starts.
 */
import { existsSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { SpecError, fieldPath, locate, type SpecProblem } from '../spec/errors';
import { graphModelProblems } from './graphModels';
import { isExperimentDocument, parseExperiment, type Experiment } from '../spec/experiment';
import { detectorPathProblems } from './detectorPaths';
import { parseRequirements } from './requirements';
import { modelInputDriftProblems } from './modelInputDrift';

/** A model version: a folder MLServer can serve. */
export interface ModelVersion {
  /** MLServer's model name (`name` in model-settings.json); the folder name when absent. */
  name: string;
  dir: string;
  settingsFile: string;
  implementation: string;
  /** Absolute path of `parameters.uri`, when it names a local file. */
  artifact?: string;
  /** The output tensors model-settings.json declares (`outputs[].name`), when it declares them. */
  outputs?: string[];
  /** Datatypes model-settings.json declares for its tensors (`inputs[]`/`outputs[]` with `datatype`). */
  datatypes?: { inputs: Record<string, string>; outputs: Record<string, string> };
  /** Absolute path of the `requirements.txt` beside model-settings.json, when there is one. */
  requirements?: string;
}

/** An experiment file; `experiment` is absent when the file is invalid. */
export interface ExperimentFile {
  file: string;
  name?: string;
  experiment?: Experiment;
}

export interface WorkspaceScan {
  root: string;
  models: ModelVersion[];
  experiments: ExperimentFile[];
  problems: SpecProblem[];
}

const SKIPPED_DIRS = new Set([
  'node_modules',
  '.git',
  '.model-canary',
  'dist',
  '.venv',
  'venv',
  '__pycache__',
  'test-results',
]);
const MAX_DEPTH = 8;

/** Scans a workspace folder for model versions and experiment files, and validates them together. */
export async function scanWorkspace(root: string, signal?: AbortSignal): Promise<WorkspaceScan> {
  const absRoot = resolve(root);
  const settingsFiles: string[] = [];
  const yamlFiles: string[] = [];
  await walk(
    absRoot,
    0,
    (file) => {
      if (file.endsWith('/model-settings.json')) settingsFiles.push(file);
      else if (/\.ya?ml$/.test(file)) yamlFiles.push(file);
    },
    signal,
  );

  const problems: SpecProblem[] = [];
  const models: ModelVersion[] = [];
  for (const file of settingsFiles.sort()) {
    const model = await readModelSettings(file, problems);
    if (model) models.push(model);
  }
  reportDuplicateModels(models, problems);

  const experiments: ExperimentFile[] = [];
  for (const file of yamlFiles.sort()) {
    const text = await readFile(file, 'utf8').catch(() => undefined);
    if (text === undefined || !looksLikeExperiment(text)) continue;
    try {
      const experiment = parseExperiment(text, file);
      experiments.push({ file, name: experiment.metadata.name, experiment });
      problems.push(...crossCheck(experiment, text, models));
    } catch (err) {
      if (!(err instanceof SpecError)) throw err;
      experiments.push({ file, name: /^\s*name:\s*(\S+)/m.exec(text)?.[1] });
      problems.push(...err.problems);
    }
  }
  return { root: absRoot, models, experiments, problems };
}

/** Problems of one file, for diagnostics. */
export function problemsOf(scan: WorkspaceScan, file: string): SpecProblem[] {
  return scan.problems.filter((p) => p.file === file);
}

/** Workspace-relative display path. */
export function displayPath(scan: WorkspaceScan, file: string): string {
  return relative(scan.root, file) || file;
}

async function walk(
  dir: string,
  depth: number,
  visit: (file: string) => void,
  signal?: AbortSignal,
): Promise<void> {
  signal?.throwIfAborted();
  if (depth > MAX_DEPTH) return;
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!SKIPPED_DIRS.has(entry.name)) await walk(path, depth + 1, visit, signal);
    } else if (entry.isFile()) {
      visit(path);
    }
  }
}

// Cheap pre-filter so arbitrary YAML (CI files, Helm charts) is never reported as a broken experiment.
function looksLikeExperiment(text: string): boolean {
  if (!/^kind:\s*Experiment\s*$/m.test(text)) return false;
  const doc = parseDocument(text);
  return isExperimentDocument(doc.toJS()) || /^apiVersion:\s*modelcanary\.dev\//m.test(text);
}

async function readModelSettings(file: string, problems: SpecProblem[]): Promise<ModelVersion | undefined> {
  const text = await readFile(file, 'utf8');
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines });
  const at = (path: (string | number)[], message: string): void => {
    const pos = locate(doc, lines, path);
    problems.push({ file, line: pos.line, column: pos.col, field: path.join('.'), message });
  };
  if (doc.errors.length > 0) {
    at([], `invalid JSON: ${doc.errors[0]?.message.split('\n')[0] ?? ''}`);
    return undefined;
  }
  const settings = doc.toJS() as Record<string, unknown> | null;
  if (!settings || typeof settings !== 'object') {
    at([], 'expected a JSON object');
    return undefined;
  }
  const dir = dirname(file);
  const name = typeof settings.name === 'string' ? settings.name : (dir.split('/').pop() ?? dir);
  const implementation = typeof settings.implementation === 'string' ? settings.implementation : '';
  if (!implementation) at(['implementation'], 'is required (e.g. "mlserver_sklearn.SKLearnModel")');
  const params = (settings.parameters ?? {}) as Record<string, unknown>;
  const uri = typeof params.uri === 'string' ? params.uri : undefined;
  let artifact: string | undefined;
  if (uri && !/^[a-z][a-z0-9+.-]*:\/\//i.test(uri)) {
    artifact = resolve(dir, uri);
    if (!existsSync(artifact))
      at(['parameters', 'uri'], `the model artifact ${uri} does not exist (expected ${artifact})`);
  }
  const outputs = Array.isArray(settings.outputs)
    ? (settings.outputs as { name?: unknown }[]).flatMap((o) => (typeof o?.name === 'string' ? [o.name] : []))
    : undefined;
  const types = (list: unknown): Record<string, string> =>
    Object.fromEntries(
      (Array.isArray(list) ? (list as { name?: unknown; datatype?: unknown }[]) : []).flatMap((t) =>
        typeof t?.name === 'string' && typeof t.datatype === 'string' ? [[t.name, t.datatype]] : [],
      ),
    );
  const datatypes = { inputs: types(settings.inputs), outputs: types(settings.outputs) };
  const typed = Object.keys(datatypes.inputs).length + Object.keys(datatypes.outputs).length > 0;
  const requirements = join(dir, 'requirements.txt');
  const hasRequirements = existsSync(requirements);
  if (hasRequirements)
    for (const p of parseRequirements(await readFile(requirements, 'utf8')).problems)
      problems.push({
        file: requirements,
        line: p.line,
        column: 1,
        field: 'requirements',
        message: p.message,
      });
  return {
    name,
    dir,
    settingsFile: file,
    implementation,
    artifact,
    ...(outputs ? { outputs } : {}),
    ...(typed ? { datatypes } : {}),
    ...(hasRequirements ? { requirements } : {}),
  };
}

function reportDuplicateModels(models: ModelVersion[], problems: SpecProblem[]): void {
  const byName = new Map<string, ModelVersion>();
  for (const model of models) {
    const first = byName.get(model.name);
    if (first) {
      problems.push({
        file: model.settingsFile,
        line: 1,
        column: 1,
        field: 'name',
        message: `duplicate model name "${model.name}" (also in ${first.settingsFile})`,
      });
    } else byName.set(model.name, model);
  }
}

// Checks that need the rest of the workspace: models exist, the drift reference exists.
function crossCheck(exp: Experiment, text: string, models: ModelVersion[]): SpecProblem[] {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines });
  const problems: SpecProblem[] = [];
  const at = (path: (string | number)[], field: string, message: string): void => {
    const pos = locate(doc, lines, path);
    problems.push({ file: exp.file, line: pos.line, column: pos.col, field, message });
  };
  const known = new Set(models.map((m) => m.name));
  const hint =
    models.length > 0
      ? ` (known: ${[...known].sort().join(', ')})`
      : ' (no model-settings.json found in the workspace)';
  exp.spec.variants.forEach((v, i) => {
    if (v.graph) {
      for (const p of graphModelProblems(v.graph, models, hint))
        at(
          ['spec', 'variants', i, 'graph', ...p.path],
          fieldPath(['spec', 'variants', i, 'graph', ...p.path]),
          p.message,
        );
    } else if (!known.has(v.model)) {
      at(['spec', 'variants', i, 'model'], `spec.variants[${i}].model`, `unknown model "${v.model}"${hint}`);
    }
  });
  const mirror = exp.spec.routing?.mirror;
  if (mirror && !known.has(mirror.model)) {
    at(
      ['spec', 'routing', 'mirror', 'model'],
      'spec.routing.mirror.model',
      `unknown model "${mirror.model}"${hint}`,
    );
  }
  const reference = exp.spec.drift?.reference;
  if (reference && !existsSync(resolve(dirname(exp.file), reference))) {
    at(
      ['spec', 'drift', 'reference'],
      'spec.drift.reference',
      `the reference file ${reference} does not exist (paths are relative to the experiment file)`,
    );
  }
  for (const p of detectorPathProblems(exp)) at(p.path, p.field, p.message);
  for (const p of modelInputDriftProblems(exp)) at(p.path, fieldPath(p.path), p.message);
  return problems;
}
