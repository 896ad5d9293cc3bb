/** `export` / Export Manifests…: an experiment as files for GitOps (builtin stack, Seldon Core v2, KServe) or monitoring (Prometheus rules, a Grafana dashboard). */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { RouterBundle } from '../shared/routerFiles';
import { EXPORT_TARGETS, LossyExportError, exportExperiment, type ExportTarget } from '../manifests/export';
import type { RuleOptions } from '../manifests/prometheusRules';
import { OperationError, usageError } from './errors';
import { experimentInput } from './experiments';

export interface ExportInput {
  workspace: string;
  experiment: string;
  target: ExportTarget;
  out: string;
  namespace?: string;
  modelUriBase?: string;
  routerImage?: string;
  /** The router bundle (with the dashboard's assets) for the builtin target when no router image is given. */
  routerBundle?: RouterBundle;
  mlserverImage?: string;
  /** Export even when the target drops arms of the experiment (they are listed in the notes). */
  allowLossy?: boolean;
  /** prometheus and grafana: the rate window, how long before an alert fires, the runbook page. */
  monitoring?: RuleOptions;
}

/** The target would drop arms of the experiment and `allowLossy` was not given. */
export class LossyExportRefused extends OperationError {
  constructor(
    readonly dropped: string[],
    message: string,
  ) {
    super(message, 'usage');
    this.name = 'LossyExportRefused';
  }
}

export interface ExportResult {
  files: string[];
  notes: string[];
}

export async function exportManifests(input: ExportInput): Promise<ExportResult> {
  if (!EXPORT_TARGETS.includes(input.target))
    throw usageError(`the target must be one of ${EXPORT_TARGETS.join(', ')}, got "${String(input.target)}"`);
  if (!input.out) throw usageError('name the folder to write to (--out DIR)');
  const exp = await experimentInput(input.workspace, input.experiment);
  let result;
  try {
    result = exportExperiment(exp, {
      target: input.target,
      namespace: input.namespace,
      modelUriBase: input.modelUriBase,
      routerImage: input.routerImage,
      routerBundle: input.target === 'builtin' && !input.routerImage ? input.routerBundle : undefined,
      ...(input.mlserverImage ? { stack: { images: { mlserver: input.mlserverImage } } } : {}),
      allowLossy: input.allowLossy,
      monitoring: input.monitoring,
    });
  } catch (err) {
    if (err instanceof LossyExportError) throw new LossyExportRefused(err.dropped, err.message);
    throw usageError((err as Error).message);
  }
  const out = resolve(input.out);
  const files: string[] = [];
  for (const f of result.files) {
    const path = join(out, f.name);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, f.content);
    files.push(path);
  }
  return { files, notes: result.notes };
}
